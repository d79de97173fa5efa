"""Statements compiled once send what the ORM sends, and give back what it gives back."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.compiled import CompiledRead, CompiledUpdate
from notifications.models import Message

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def message(key, **fields):
    return Message.objects.create(
        idempotency_key=key, kind=Message.Kind.DECIDED, to_email=f"{key}@example.org", **fields
    )


def statements(action):
    with CaptureQueriesContext(connection) as captured:
        result = action()
    return result, [query["sql"] for query in captured.captured_queries]


ROW = ("attempts", "status", "sent_at", "last_error", "provider_message_id")


def row(pk):
    return Message.objects.values_list(*ROW).get(pk=pk)


def test_a_compiled_update_sends_the_statement_a_querysets_update_sends():
    target = message("target")
    update = CompiledUpdate(Message, ROW)
    moments = [timezone.now(), timezone.now() + timedelta(hours=1)]

    for attempt, moment in enumerate(moments, start=1):  # compiled once, then reused
        values = {
            "attempts": attempt,
            "status": Message.Status.SENT,
            "sent_at": moment,
            "last_error": "",
            "provider_message_id": f"provider-{attempt}",
        }
        orm_count, [orm_sql] = statements(
            lambda values=values: Message.objects.filter(pk=target.pk).update(**values)
        )
        by_orm = row(target.pk)
        Message.objects.filter(pk=target.pk).update(
            attempts=0, status=Message.Status.PENDING, sent_at=None, provider_message_id=""
        )
        count, [sql] = statements(lambda values=values: update(target.pk, **values))

        assert (count, orm_count) == (1, 1)
        assert sql == orm_sql
        assert row(target.pk) == by_orm == tuple(values.values())


def test_a_compiled_update_of_a_row_that_is_gone_updates_nothing():
    update = CompiledUpdate(Message, ["status"])

    assert update(-1, status=Message.Status.SENT) == 0


def test_a_compiled_update_sets_exactly_its_fields():
    update = CompiledUpdate(Message, ["status", "sent_at"])
    pending = message("partial")

    with pytest.raises(TypeError):
        update(pending.pk, status=Message.Status.SENT)
    with pytest.raises(TypeError):
        update(pending.pk, status=Message.Status.SENT, sent_at=None, attempts=1)
    assert row(pending.pk) == (0, Message.Status.PENDING, None, "", "")


def test_a_compiled_read_keeps_a_value_it_filters_on_and_sends_the_querysets_statement():
    def pending_by_pk(pk):
        return Message.objects.filter(pk=pk, status=Message.Status.PENDING).order_by()

    read = CompiledRead(pending_by_pk)
    pending, sent = message("pending"), message("sent", status=Message.Status.SENT)

    for _ in range(2):  # compiled on the first read, reused on the second
        found, [sql] = statements(lambda: read(pending.pk))
        _rows, [orm_sql] = statements(lambda: list(pending_by_pk(pending.pk)))
        assert sql == orm_sql
        assert (found.pk, found.status, found.idempotency_key) == (
            pending.pk,
            Message.Status.PENDING,
            "pending",
        )
        assert read(sent.pk) is None


def test_a_compiled_read_must_take_each_of_its_ids():
    read = CompiledRead(lambda pk: Message.objects.filter(status=Message.Status.PENDING))

    with pytest.raises(ValueError, match="each of its ids"):
        read(1)
