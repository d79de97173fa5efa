"""Reads every step makes, their SQL compiled by Django once rather than on every step.

A step reads its task with the process, nomination, call, country, nominator and
owner (seven joins), and locks the process from the task. Django compiles such a
queryset afresh on every evaluation: for the task read that took about 1.5 ms, as
long as PostgreSQL took to plan and run it. A ``CompiledRead`` compiles its queryset
the first time it runs on a database, keeps the SQL, and on each later read only
executes it with the new ids, turning the row into instances (or values) the way
the queryset itself would: the same columns, the same converters, the same related
instances. The statement sent is the one the queryset sends, through the
connection's cursor, so it is counted, logged and run in the caller's transaction
like any other.
"""

import threading

from django.db import connections
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError


class CompiledRead:
    """At most one row of ``make_queryset(*ids)``, compiled once per database.

    ``make_queryset`` takes the ids the read is by and returns the queryset; it is
    called once, with placeholders, and its SQL must take exactly those ids as its
    parameters (anything else it filters on must be fixed). ``model=True`` returns a
    model instance with its ``select_related`` instances, ``model=False`` the tuple a
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
        with connection.cursor() as cursor:
            cursor.execute(compiled["sql"], ids)
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
            if tuple(params) != placeholders:
                raise ValueError(
                    f"a compiled read's SQL must take only its ids as parameters, not {params!r}"
                )
            select = compiler.select
            compiled = {
                "sql": sql,
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
