"""Retention: contact details of practices not selected go once the call's period is over."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from nominations.models import Nomination, NominationEvent, SelectionDecision
from workflow.personal_data import personal_data_retention_sweep
from workflow.tasks import personal_data_retention

from ..factories import CallFactory, NominationFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CLOSED = timezone.now() - timedelta(days=40)


def with_decision(nomination, outcome, lead):
    SelectionDecision.objects.create(
        nomination=nomination, outcome=outcome, rationale="Because.", decided_by=lead
    )
    return nomination


@pytest.fixture
def closed_call():
    """A call that closed 40 days ago and keeps contact details for 30."""
    return CallFactory(opens_at=CLOSED - timedelta(days=60), closes_at=CLOSED, retention_days=30)


@pytest.fixture
def practices(closed_call):
    lead = UserFactory(username="lead")
    make = lambda title, stage: NominationFactory(  # noqa: E731
        call=closed_call, title=title, stage=stage, conflicts_declared="rival@example.org"
    )
    decided = Nomination.Stage.DECIDED
    return {
        "draft": make("Never submitted", Nomination.Stage.DRAFT),
        "rejected": make("Not accepted", Nomination.Stage.REJECTED),
        "not selected": with_decision(
            make("Not selected", decided), SelectionDecision.Outcome.NOT_SELECTED, lead
        ),
        "national": with_decision(
            make("National showcase", decided), SelectionDecision.Outcome.NATIONAL, lead
        ),
        "transnational": with_decision(
            make("Transnational showcase", decided), SelectionDecision.Outcome.TRANSNATIONAL, lead
        ),
        "in selection": make("Still being decided", Nomination.Stage.SELECTION),
    }


def contacts():
    return {
        n.title: (n.contact_name, n.contact_email, n.conflicts_declared)
        for n in Nomination.objects.order_by("pk")
    }


KEPT = ("Anna Svensson", "anna@example.org", "rival@example.org")
ERASED = ("", "", "")


def test_nothing_is_erased_before_the_period_is_over(closed_call, practices):
    count = personal_data_retention_sweep(now=CLOSED + timedelta(days=29))

    assert count == 0
    assert set(contacts().values()) == {KEPT}


def test_after_the_period_only_practices_not_selected_lose_their_contact(closed_call, practices):
    now = CLOSED + timedelta(days=31)

    count = personal_data_retention_sweep(now=now)

    assert count == 3
    assert contacts() == {
        "Never submitted": ERASED,
        "Not accepted": ERASED,
        "Not selected": ERASED,
        "National showcase": KEPT,
        "Transnational showcase": KEPT,
        "Still being decided": KEPT,
    }
    erased = Nomination.objects.filter(contact_anonymised_at=now)
    assert {n.title for n in erased} == {"Never submitted", "Not accepted", "Not selected"}
    assert NominationEvent.objects.filter(action="contact_erased").count() == 3


def test_running_twice_changes_nothing_more(closed_call, practices):
    now = CLOSED + timedelta(days=31)
    personal_data_retention_sweep(now=now)
    before = list(Nomination.objects.order_by("pk").values())
    events = NominationEvent.objects.count()

    again = personal_data_retention_sweep(now=now + timedelta(days=1))

    assert again == 0
    assert list(Nomination.objects.order_by("pk").values()) == before
    assert NominationEvent.objects.count() == events


def test_an_open_call_is_never_swept(practices):
    open_call = CallFactory(retention_days=0)
    NominationFactory(call=open_call, title="Open draft")

    personal_data_retention_sweep(now=timezone.now())

    assert Nomination.objects.get(title="Open draft").contact_email == "anna@example.org"


def test_the_daily_task_is_scheduled_and_runs_the_sweep(closed_call, practices):
    entry = settings.CELERY_BEAT_SCHEDULE["personal-data-retention"]

    count = personal_data_retention.apply().get()

    assert entry["task"] == personal_data_retention.name
    assert count == 3
