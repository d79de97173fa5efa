"""/health/ for load balancers and /health/deep/ for operators, against the real parts."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from config import health
from config.health import (
    SWEEP_TASK,
    Database,
    NodeHealthView,
    task_ran_key,
    task_ran_note,
    task_ran_record,
)
from notifications.models import Message

from ..factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

JSON = {"HTTP_ACCEPT": "application/json"}


def test_a_healthy_node_answers_200_naming_each_part(client):
    response = client.get("/health/", **JSON)

    assert response.status_code == 200
    body = response.json()
    assert sorted(body.values()) == ["OK", "OK"]
    assert any(name.startswith("Database") for name in body)
    assert any(name.startswith("Cache") for name in body)
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_broker_that_does_not_answer_is_named_by_the_deep_check_only(
    client, monkeypatch, settings
):
    """Every node shares the broker: its outage must not take every node out of rotation."""
    settings.HEALTH_CHECK_TOKEN = "monitoring-token-for-tests"
    from config.celery_app import app
    from tests.notifications.conftest import _drop_broker_connections

    # Celery prefers CELERY_BROKER_URL from the environment (set in CI) to its settings.
    nowhere = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    monkeypatch.setenv("CELERY_BROKER_URL", nowhere)
    saved = app.conf.broker_url
    _drop_broker_connections(app)
    app.conf.broker_url = nowhere
    try:
        node = client.get("/health/", **JSON)
        deep = client.get(
            "/health/deep/", HTTP_AUTHORIZATION="Bearer monitoring-token-for-tests", **JSON
        )
    finally:
        _drop_broker_connections(app)
        app.conf.broker_url = saved

    assert node.status_code == 200
    assert deep.status_code == 503
    assert "does not answer" in deep.json()["Broker()"]


def test_a_database_that_does_not_answer_is_a_503_that_names_it(client, settings):
    settings.HEALTH_CHECK_TOKEN = ""
    broken = {**settings.DATABASES["default"], "HOST": "127.0.0.1", "PORT": "1"}
    settings.DATABASES = {**settings.DATABASES, "broken": broken}
    saved = NodeHealthView.checks
    NodeHealthView.checks = ((Database, {"alias": "broken"}),)
    try:
        response = client.get("/health/", **JSON)
    finally:
        NodeHealthView.checks = saved

    assert response.status_code == 503
    assert list(response.json()) == ["Database(alias='broken')"]


def test_the_deep_check_is_for_staff_or_the_monitoring_token(client, settings):
    settings.HEALTH_CHECK_TOKEN = "monitoring-token-for-tests"

    assert client.get("/health/deep/", **JSON).status_code == 403
    assert client.get("/health/deep/", HTTP_AUTHORIZATION="Bearer wrong", **JSON).status_code == 403
    client.force_login(UserFactory())
    assert client.get("/health/deep/", **JSON).status_code == 403

    with_token = client.get(
        "/health/deep/", HTTP_AUTHORIZATION="Bearer monitoring-token-for-tests", **JSON
    )
    # No worker runs beside this test, so the deep check itself answers 503.
    assert with_token.status_code == 503
    assert any(name.startswith("BeatSweep") for name in with_token.json())

    settings.HEALTH_CHECK_TOKEN = ""
    assert client.get("/health/deep/", HTTP_AUTHORIZATION="Bearer ", **JSON).status_code == 403


# The checks run in threads, on connections of their own: the rows must be committed.
@pytest.mark.django_db(transaction=True)
def test_the_deep_check_names_a_stale_sweep_and_an_outbox_backlog(client, settings):
    cache.clear()
    client.force_login(UserFactory(is_staff=True))
    Message.objects.create(
        idempotency_key="stuck",
        kind=Message.Kind.SUBMISSION_RECEIVED,
        recipient=UserFactory(),
        created_at=timezone.now() - datetime.timedelta(minutes=11),
    )

    body = client.get("/health/deep/", **JSON).json()
    assert "has not run" in body["BeatSweep()"]
    assert body["OutboxBacklog()"].startswith("Warning: 1 messages have waited")

    task_ran_record(SWEEP_TASK, now=timezone.now() - datetime.timedelta(minutes=5))
    assert "is beat running?" in client.get("/health/deep/", **JSON).json()["BeatSweep()"]

    task_ran_record(SWEEP_TASK)
    Message.objects.update(status=Message.Status.SENT)
    body = client.get("/health/deep/", **JSON).json()
    assert (body["BeatSweep()"], body["OutboxBacklog()"]) == ("OK", "OK")


def test_a_worker_process_writes_a_task_run_down_at_most_every_few_seconds(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(health.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(health, "_task_ran_recorded", {})
    cache.clear()

    assert task_ran_note("notifications.tasks.send_message") is True
    assert cache.get(task_ran_key("notifications.tasks.send_message")) is not None
    cache.clear()
    clock[0] += health.TASK_RAN_RECORD_SECONDS - 1
    assert task_ran_note("notifications.tasks.send_message") is False
    assert cache.get(task_ran_key("notifications.tasks.send_message")) is None
    # Each task counts for itself: the sweep is recorded however busy the sends are.
    assert task_ran_note(SWEEP_TASK) is True
    clock[0] += 1
    assert task_ran_note("notifications.tasks.send_message") is True
    assert cache.get(task_ran_key("notifications.tasks.send_message")) is not None
