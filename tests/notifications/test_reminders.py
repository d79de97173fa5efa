"""Reminders before a deadline, an overdue notice, then an escalation — each once.

Time travels by the ``now`` given to ``reminders_send``; deadlines are set on the
tasks' ``scheduled`` column. The call's defaults apply: reminders 7 and 1 days
before the deadline, escalation 3 days after it.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task

from notifications.models import Message, Notification, Preference, ReminderLog
from workflow.flows import NominationFlow
from workflow.reminders import digests_send, reminders_send
from workflow.services import ScreeningDecision, nomination_screen, nomination_submit

from ..factories import NominationFactory, UserFactory
from ..workflow.helpers import open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
GRACE = 3 * DAY  # Call.escalation_grace_days' default


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Run the reminders at ``now``, then their after-commit sends; returns what it wrote."""

    def run(now):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            _scanned, written = reminders_send(now=now)
        return written

    return run


@pytest.fixture
def due():
    """A deadline well after every task's own, so that only the tasks a test moves are due."""
    return (timezone.now() + timedelta(days=90)).replace(microsecond=0)


@pytest.fixture
def one_reviewer_call(call):
    call.reviewers_per_nomination = 1
    call.save(update_fields=["reviewers_per_nomination"])
    return call


def submit(nomination):
    nomination_submit(nomination=nomination, by=nomination.nominator)
    return open_task(nomination, NominationFlow.screen)


def accept(nomination, coordinator):
    nomination_screen(
        task_id=open_task(nomination, NominationFlow.screen).pk,
        by=coordinator,
        decision=ScreeningDecision.ACCEPT,
    )
    return open_tasks(nomination, NominationFlow.review)


def set_due(tasks, when):
    Task.objects.filter(pk__in=[task.pk for task in tasks]).update(scheduled=when)


def review_task_title(task):
    return task.process.nominationprocess.nomination.title


def points(task):
    return sorted(ReminderLog.objects.filter(task=task).values_list("point", flat=True))


def sent():
    return sorted((tuple(email.to), email.subject) for email in mail.outbox)


def tasks_url():
    return settings.SITE_URL.rstrip("/") + reverse("workflow:inbox")


@pytest.fixture
def review_task(one_reviewer_call, draft, coordinator, reviewers, due):
    """The one open review of the Swedish nomination, due at ``due``."""
    submit(draft)
    (task,) = accept(draft, coordinator)
    set_due([task], due)
    return task


# --- the points of one task ------------------------------------------------------------


def test_a_task_due_in_ten_days_gets_nothing(send, review_task, due):
    assert send(due - 10 * DAY) == 0
    assert mail.outbox == []
    assert ReminderLog.objects.count() == 0


def test_a_review_is_reminded_seven_days_and_one_day_before_then_once_when_overdue(
    send, review_task, due
):
    reviewer = review_task.owner
    reminder = (
        (reviewer.email,),
        f"Reminder: “{review_task_title(review_task)}” waits for your review",
    )

    assert send(due - 7 * DAY + HOUR) == 1
    assert sent() == [reminder]
    assert points(review_task) == ["before:7"]

    assert send(due - 7 * DAY + HOUR) == 0
    assert send(due - 2 * DAY) == 0
    assert mail.outbox == []

    assert send(due - DAY) == 1
    assert sent() == [reminder]
    assert points(review_task) == ["before:1", "before:7"]

    assert send(due + HOUR) == 1
    assert sent() == [reminder]
    (email,) = mail.outbox
    assert "overdue since" in email.body
    assert points(review_task) == ["before:1", "before:7", "overdue"]

    assert send(due + 2 * DAY) == 0
    assert mail.outbox == []


def test_an_overdue_review_is_escalated_to_the_coordinators_of_the_nominations_country(
    send, review_task, draft, due, coordinator, countries, lead
):
    second_coordinator = UserFactory(username="coordinator-se-2")
    countries["SE"].coordinators.add(second_coordinator)
    french_coordinator = UserFactory(username="coordinator-fr")
    countries["FR"].coordinators.add(french_coordinator)
    send(due + HOUR)

    assert send(due + GRACE + HOUR) == 2
    escalation = f"Overdue: “{draft.title}” needs your follow-up"
    assert sent() == sorted(
        [((coordinator.email,), escalation), ((second_coordinator.email,), escalation)]
    )
    email = next(e for e in mail.outbox if e.to == [coordinator.email])
    assert f"Peer review: “{draft.title}”" in email.body
    # Who to chase, and the nomination itself, which a coordinator of its country may open.
    reviewer = review_task.owner
    assert f"Held by: {reviewer.get_full_name()} <{reviewer.email}>" in email.body
    assert f"{settings.SITE_URL}/nominations/{draft.pk}/" in email.body
    assert points(review_task) == ["escalation", "overdue"]

    assert send(due + GRACE + 2 * DAY) == 0
    assert mail.outbox == []


def test_an_overdue_screening_is_escalated_to_the_calls_leads(
    send, draft, due, coordinator, lead, call
):
    other_lead = UserFactory(username="lead-2")
    call.leads.add(other_lead)
    task = submit(draft)
    set_due([task], due)

    # First run after the grace period: the coordinators hear it is overdue, the leads escalate.
    assert send(due + GRACE + HOUR) == 3
    assert sent() == sorted(
        [
            ((coordinator.email,), f"Reminder: “{draft.title}” waits for your review"),
            ((lead.email,), f"Overdue: “{draft.title}” needs your follow-up"),
            ((other_lead.email,), f"Overdue: “{draft.title}” needs your follow-up"),
        ]
    )
    assert points(task) == ["escalation", "overdue"]
    # The leads learn who holds the screening; they cannot open a nomination in screening,
    # so the email carries no link to it.
    email = next(e for e in mail.outbox if e.to == [lead.email])
    assert f"Held by: {coordinator.get_full_name()} <{coordinator.email}>" in email.body
    assert f"/nominations/{draft.pk}/" not in email.body


def test_a_task_completed_before_its_reminder_gets_none(send, draft, due, coordinator, reviewers):
    screening = submit(draft)
    set_due([screening], due)
    accept(draft, coordinator)
    # The reviews are due long after this run.
    set_due(open_tasks(draft, NominationFlow.review), due + 60 * DAY)

    for now in [due - 7 * DAY + HOUR, due - DAY, due + HOUR, due + GRACE + HOUR]:
        assert send(now) == 0
    assert mail.outbox == []
    assert ReminderLog.objects.count() == 0


def test_each_point_of_a_task_is_logged_once(send, review_task, due):
    for now in [
        due - 7 * DAY + HOUR,
        due - 7 * DAY + 2 * HOUR,
        due - DAY,
        due - HOUR,
        due + HOUR,
        due + DAY,
        due + GRACE + HOUR,
        due + GRACE + DAY,
    ]:
        send(now)

    assert points(review_task) == ["before:1", "before:7", "escalation", "overdue"]
    assert Message.objects.filter(kind=Message.Kind.REMINDER).count() == 3
    assert Message.objects.filter(kind=Message.Kind.ESCALATION).count() == 1


def test_a_run_that_finds_several_points_due_reminds_once(send, review_task, due):
    """A first run late in the week (the beat was down) sends one reminder, not two."""
    assert send(due - DAY + HOUR) == 1
    assert len(mail.outbox) == 1
    assert points(review_task) == ["before:1", "before:7"]


# --- one email per person --------------------------------------------------------------


def test_a_reviewer_with_three_open_reviews_gets_one_reminder_listing_them(
    send, call, countries, theme, nominator, coordinator, reviewers, due
):
    call.reviewers_per_nomination = 3
    call.save(update_fields=["reviewers_per_nomination"])
    nominations = [
        NominationFactory(call=call, nominator=nominator, country=countries["SE"], themes=[theme])
        for _ in range(3)
    ]
    for nomination in nominations:
        submit(nomination)
        set_due(accept(nomination, coordinator), due)

    assert send(due - 7 * DAY + HOUR) == 3  # one per reviewer

    subject = "Reminder: 3 tasks wait for you"
    assert sent() == sorted(((reviewer.email,), subject) for reviewer in reviewers)
    for email in mail.outbox:
        for nomination in nominations:
            assert f"Peer review: “{nomination.title}”" in email.body
            assert f"Peer review</strong>: “{nomination.title}”" in email.alternatives[0][0]
        assert tasks_url() in email.body
    assert ReminderLog.objects.filter(point="before:7").count() == 9


def test_a_pool_screening_task_reminds_every_coordinator_of_the_country(
    send, draft, due, coordinator, countries
):
    second_coordinator = UserFactory(username="coordinator-se-2")
    countries["SE"].coordinators.add(second_coordinator)
    french_coordinator = UserFactory(username="coordinator-fr")
    countries["FR"].coordinators.add(french_coordinator)
    task = submit(draft)
    set_due([task], due)

    assert send(due - 7 * DAY + HOUR) == 2

    reminder = f"Reminder: “{draft.title}” waits for your review"
    assert sent() == sorted(
        [((coordinator.email,), reminder), ((second_coordinator.email,), reminder)]
    )
    for email in mail.outbox:
        assert f"National screening: “{draft.title}”" in email.body
    assert points(task) == ["before:7"]


def test_each_reminder_is_also_in_the_bell(send, review_task, due):
    send(due - 7 * DAY + HOUR)

    notification = Notification.objects.get(
        recipient=review_task.owner, message__kind=Message.Kind.REMINDER
    )
    assert (notification.title, notification.path) == (
        f"Reminder: “{review_task_title(review_task)}” waits for your review",
        reverse("workflow:inbox"),
    )


def test_reminders_follow_the_persons_preferences(send, review_task, due):
    Preference.objects.update_or_create(
        user=review_task.owner, defaults={"email_non_essential": False}
    )

    assert send(due - 7 * DAY + HOUR) == 1

    assert mail.outbox == []
    assert Message.objects.get(kind=Message.Kind.REMINDER).status == Message.Status.SKIPPED
    assert points(review_task) == ["before:7"]


# --- running twice ---------------------------------------------------------------------


def test_two_runs_at_the_same_moment_write_nothing_twice(send, review_task, due):
    now = due + GRACE + HOUR

    assert send(now) == 2  # the reviewer's overdue notice, the coordinator's escalation
    first = sent()
    assert send(now) == 0

    assert mail.outbox == []
    assert len(first) == 2
    assert Message.objects.filter(kind=Message.Kind.REMINDER).count() == 1
    assert Message.objects.filter(kind=Message.Kind.ESCALATION).count() == 1
    assert ReminderLog.objects.count() == 2


def test_a_run_that_missed_the_other_runs_log_still_sends_nothing_twice(send, review_task, due):
    """Two overlapping runs both read the log before either wrote it: the message keys match."""
    now = due - 7 * DAY + HOUR
    assert send(now) == 1
    ReminderLog.objects.all().delete()  # as the overlapping run saw it

    send(now)

    assert mail.outbox == []
    assert Message.objects.filter(kind=Message.Kind.REMINDER).count() == 1
    assert points(review_task) == ["before:7"]


# --- reminders held for a daily digest -------------------------------------------------


def test_a_pool_task_done_before_the_digest_is_left_out_of_every_coordinators_digest(
    send, draft, due, coordinator
):
    """Each of the country's coordinators holds a reminder of the same screening task; the
    point is logged once, with the first one's message, yet neither digest may list it."""
    second_coordinator = UserFactory(username="coordinator-se-2")
    draft.country.coordinators.add(second_coordinator)
    for person in (coordinator, second_coordinator):
        Preference.objects.update_or_create(
            user=person, defaults={"delivery": Preference.Delivery.DAILY}
        )
    task = submit(draft)
    set_due([task], due)
    assert send(due - 7 * DAY + HOUR) == 2
    held = Message.objects.filter(kind=Message.Kind.REMINDER)
    assert {m.status for m in held} == {Message.Status.HELD_FOR_DIGEST}

    accept(draft, coordinator)
    mail.outbox.clear()
    digests_send()

    assert {m.status for m in held.all()} == {Message.Status.OUTDATED}
    assert mail.outbox == []
    assert not Message.objects.filter(kind=Message.Kind.DIGEST).exists()
