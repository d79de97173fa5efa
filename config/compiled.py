"""Reads made on every step or send, their SQL compiled by Django once rather than each time.

A step reads its task with the process, nomination, call, country, nominator and
owner (seven joins), and locks the process from the task; a worker sending an email
locks its message with the recipient and their preferences. Django compiles such a
queryset afresh on every evaluation: for the task read that took about 1.5 ms, as
long as PostgreSQL took to plan and run it, and for the message about a fifth of a
worker's time. A ``CompiledRead`` compiles its queryset the first time it runs on a
database, keeps the SQL, and on each later read only executes it with the new ids,
turning the row into instances (or values) the way the queryset itself would: the
same columns, the same converters, the same related instances. The statement sent is
the one the queryset sends, through the connection's cursor, so it is counted, logged
and run in the caller's transaction like any other.

A ``CompiledUpdate`` does the same for an ``UPDATE`` of a few columns of one row by its
primary key, which Django otherwise builds anew for every ``save(update_fields=…)``.

They live here, below the apps, so that every app may use it (the apps' imports are
layered: ``pyproject.toml``'s import contracts).
"""

import threading

from django.db import connections, router, transaction
from django.db.models import Value
from django.db.models.query import get_related_populators
from django.db.models.sql import UpdateQuery
from django.db.transaction import TransactionManagementError


class CompiledRead:
    """At most one row of ``make_queryset(*ids)``, compiled once per database.

    ``make_queryset`` takes the ids the read is by and returns the queryset; it is
    called once, with placeholders, and its SQL must take each of those ids as a
    parameter. Anything else it filters on is fixed when it is compiled (a status,
    say), and kept as a parameter of every read. ``model=True`` returns a model
    instance with its ``select_related`` instances, ``model=False`` the tuple a
    ``values_list`` queryset gives; ``None`` if there is no row.
    """

    #: Placeholder ids the queryset is compiled with: no row has a negative id.
    PLACEHOLDERS = (-730_501, -730_502, -730_503)

    def __init__(self, make_queryset, *, arity=1, model=True):
        self._make_queryset = make_queryset
        self._arity = arity
        self._model = model
        self._compiled = {}
        self._compiling = threading.Lock()
        self._db = None

    def __call__(self, *ids):
        if len(ids) != self._arity:
            raise TypeError(f"this read takes {self._arity} ids, got {len(ids)}")
        if self._db is None:
            self._db = self._make_queryset(*self.PLACEHOLDERS[: self._arity]).db
        queryset_db = self._db
        compiled = self._compiled.get(queryset_db) or self._compile(queryset_db)
        connection = connections[queryset_db]
        if compiled["locks"] and connection.get_autocommit():
            raise TransactionManagementError("A locking read runs inside a transaction.")
        params = ids
        if compiled["params"] is not None:
            params = [ids[value] if is_id else value for is_id, value in compiled["params"]]
        with connection.cursor() as cursor:
            cursor.execute(compiled["sql"], params)
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled["converters"]:
            row = list(row)
            for position, (converters, expression) in compiled["converters"].items():
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
        if not self._model:
            return tuple(row[: compiled["columns"]])
        start, end = compiled["fields"]
        instance = compiled["model"].from_db(queryset_db, compiled["init_list"], row[start:end])
        for populator in compiled["populators"]:
            populator.populate(row, instance)
        return instance

    def _compile(self, using):
        with self._compiling:
            if using in self._compiled:
                return self._compiled[using]
            placeholders = self.PLACEHOLDERS[: self._arity]
            compiler = self._make_queryset(*placeholders).query.get_compiler(using)
            sql, params = compiler.as_sql()
            select = compiler.select
            compiled = {
                "sql": sql,
                "params": self._params(tuple(params), placeholders),
                "locks": compiler.query.select_for_update,
                "columns": compiler.col_count,
                "converters": compiler.get_converters(
                    [column for column, _sql, _alias in select[: compiler.col_count]]
                ),
            }
            if self._model:
                klass_info = compiler.klass_info
                fields = klass_info["select_fields"]
                start, end = fields[0], fields[-1] + 1
                compiled.update(
                    model=klass_info["model"],
                    fields=(start, end),
                    init_list=[column.target.attname for column, _s, _a in select[start:end]],
                    populators=get_related_populators(klass_info, select, using),
                )
            self._compiled[using] = compiled
            return compiled

    @staticmethod
    def _params(params, placeholders):
        """How a read's parameters are made of its ids: None when they are the ids, in order;
        otherwise one ``(is_id, value)`` each, ``value`` the id's place among the ids or a
        value fixed when the read was compiled."""
        missing = [placeholder for placeholder in placeholders if placeholder not in params]
        if missing:
            raise ValueError(
                f"a compiled read's SQL must take each of its ids as a parameter; "
                f"{missing} are not among {params!r}"
            )
        if params == placeholders:
            return None
        return [
            (True, placeholders.index(value)) if value in placeholders else (False, value)
            for value in params
        ]


class CompiledUpdate:
    """An ``UPDATE`` of ``fields`` of one row of ``model`` by primary key, compiled once per
    database.

    ``update(pk, **values)`` sends the statement ``model.objects.filter(pk=pk).update(**values)``
    sends, each value prepared by its field as the ORM prepares it, and returns the number of
    rows updated. Plain values only (no ``F()`` or other expressions); like ``update()``, it
    sends no ``pre_save`` or ``post_save`` signal.
    """

    #: Placeholders the statement is compiled with: the primary key's, then each field's.
    PLACEHOLDER = -730_601

    def __init__(self, model, fields):
        self._model = model
        self._fields = tuple(model._meta.get_field(name) for name in fields)
        self._names = frozenset(field.name for field in self._fields)
        self._compiled = {}
        self._compiling = threading.Lock()
        self._db = None

    def __call__(self, pk, **values):
        if values.keys() != self._names:
            raise TypeError(f"this update sets exactly {sorted(self._names)}, not {sorted(values)}")
        if self._db is None:
            self._db = router.db_for_write(self._model)
        using = self._db
        sql = self._compiled.get(using) or self._compile(using)
        connection = connections[using]
        params = [field.get_db_prep_save(values[field.name], connection) for field in self._fields]
        params.append(self._model._meta.pk.get_db_prep_value(pk, connection))
        # As update() and save() do: an error inside atomic() marks the transaction for
        # rollback, so a caller that catches it cannot go on in a broken transaction.
        with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def _compile(self, using):
        with self._compiling:
            if using in self._compiled:
                return self._compiled[using]
            key = self.PLACEHOLDER
            placeholders = [key - 1 - position for position in range(len(self._fields))]
            query = self._model._base_manager.using(using).filter(pk=key).query.chain(UpdateQuery)
            values = zip(self._fields, placeholders, strict=True)
            query.add_update_values({field.name: Value(value) for field, value in values})
            sql, params = query.get_compiler(using).as_sql()
            # The values come first in the statement (SET), the primary key last (WHERE).
            if tuple(params) != (*placeholders, key):
                raise ValueError(
                    f"a compiled update must take its values, then its key, not {params!r}"
                )
            self._compiled[using] = sql
            return sql
