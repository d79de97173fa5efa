"""Each workflow change emails the right people, once, in their language.

The messages are written in the transaction of the change and sent after it
commits: every action here runs inside ``django_capture_on_commit_callbacks``
(execute=True), and with eager Celery and the locmem backend the emails then
sit in ``django.core.mail.outbox``.
"""

import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection, connections, transaction
from django.template import TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from nominations.models import SelectionDecision
from notifications.models import DeliveryEvent, Message, Notification, Preference
from notifications.services import message_send, notify
from reviewers.models import Review
from workflow.flows import NominationFlow
from workflow.reminders import digests_send
from workflow.services import (
    ScreeningDecision,
    nomination_resubmit,
    nomination_screen,
    nomination_submit,
    review_decline,
    review_submit,
    selection_decide,
)

from ..factories import NominationFactory, UserFactory
from ..signin import sign_in, signed_in_user_id
from ..workflow.helpers import full_scores, open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

SWEDISH_CATALOGUE = Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES" / "django.mo"


# --- helpers ---------------------------------------------------------------------------


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    """Run a workflow action and then its after-commit sends, as a real request would."""

    def run(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(**kwargs)

    return run


@pytest.fixture
def second_coordinator(countries):
    user = UserFactory(username="coordinator-se-2")
    countries["SE"].coordinators.add(user)
    return user


@pytest.fixture
def second_lead(call):
    user = UserFactory(username="lead-2")
    call.leads.add(user)
    return user


def sent(outbox=None):
    """What was emailed, as sorted (recipient, subject) pairs."""
    return sorted((tuple(email.to), email.subject) for email in (outbox or mail.outbox))


def emails_to(user):
    return [email for email in mail.outbox if email.to == [user.email]]


def only_email_to(user):
    emails = emails_to(user)
    assert len(emails) == 1, [e.subject for e in mail.outbox]
    return emails[0]


def html_of(email):
    (html, mimetype) = email.alternatives[0]
    assert mimetype == "text/html"
    return html


def prefer(user, **fields):
    Preference.objects.update_or_create(user=user, defaults=fields)


def submitted(act, draft):
    act(nomination_submit, nomination=draft, by=draft.nominator)
    return draft


def screen(act, nomination, coordinator, decision, message=""):
    act(
        nomination_screen,
        task_id=open_task(nomination, NominationFlow.screen).pk,
        by=coordinator,
        decision=decision,
        message=message,
    )


def review_all(act, nomination):
    for task in open_tasks(nomination, NominationFlow.review):
        act(
            review_submit,
            task_id=task.pk,
            by=task.owner,
            scores=full_scores(nomination.call),
            comment="Solid",
        )


def require_swedish_catalogue():
    if not SWEDISH_CATALOGUE.exists():
        pytest.skip(
            "locale/sv/LC_MESSAGES/django.mo is not compiled yet; "
            "the Swedish emails cannot be checked until it is"
        )


def swedish(msgid, **params):
    """The catalogue's Swedish for ``msgid``, which must be translated, with ``params``."""
    with translation.override("sv"):
        text = gettext(msgid)
    assert text != msgid, f"not translated to Swedish: {msgid!r}"
    return text % params if params else text


# --- who hears of what -----------------------------------------------------------------


def test_submission_tells_the_nominator_and_every_coordinator_of_the_country(
    act, draft, nominator, coordinator, second_coordinator, countries
):
    french_coordinator = UserFactory(username="coordinator-fr")
    countries["FR"].coordinators.add(french_coordinator)

    submitted(act, draft)

    title = draft.title
    assert sent() == sorted(
        [
            ((nominator.email,), f"We received your nomination “{title}”"),
            ((coordinator.email,), f"National screening: “{title}”"),
            ((second_coordinator.email,), f"National screening: “{title}”"),
        ]
    )
    assert set(Message.objects.values_list("kind", "status")) == {
        (Message.Kind.SUBMISSION_RECEIVED, Message.Status.SENT),
        (Message.Kind.TASK_ASSIGNED, Message.Status.SENT),
    }
    assert emails_to(french_coordinator) == []


def test_acceptance_tells_the_nominator_and_each_assigned_reviewer(
    act, draft, nominator, coordinator, reviewers
):
    submitted(act, draft)
    mail.outbox.clear()

    screen(act, draft, coordinator, ScreeningDecision.ACCEPT)

    assigned = [review.reviewer for review in Review.objects.filter(nomination=draft)]
    assert len(assigned) == 2  # the call's reviewers_per_nomination
    title = draft.title
    assert sent() == sorted(
        [((nominator.email,), f"“{title}” is accepted for peer review")]
        + [((reviewer.email,), f"Peer review: “{title}”") for reviewer in assigned]
    )
    (not_assigned,) = set(reviewers) - set(assigned)
    assert emails_to(not_assigned) == []


def test_a_replacement_reviewer_is_told_of_the_task(act, draft, coordinator, reviewers):
    submitted(act, draft)
    screen(act, draft, coordinator, ScreeningDecision.ACCEPT)
    first_two = set(Review.objects.filter(nomination=draft).values_list("reviewer", flat=True))
    (replacement,) = [r for r in reviewers if r.pk not in first_two]
    declined = open_tasks(draft, NominationFlow.review)[0]
    mail.outbox.clear()

    act(review_decline, task_id=declined.pk, by=declined.owner, reason="A conflict of interest.")

    assert sent() == [((replacement.email,), f"Peer review: “{draft.title}”")]


def test_changes_requested_sends_the_coordinators_message_to_the_nominator(
    act, draft, nominator, coordinator
):
    submitted(act, draft)
    mail.outbox.clear()
    request = "Please add the 2023 figures & name the city's partners."

    screen(act, draft, coordinator, ScreeningDecision.REQUEST_CHANGES, message=request)

    assert sent() == [((nominator.email,), f"Changes requested on “{draft.title}”")]
    email = only_email_to(nominator)
    assert request in email.body  # plain text, not HTML-escaped
    assert "Please add the 2023 figures &amp; name the city&#x27;s partners." in html_of(email)


def test_resubmission_after_changes_tells_the_coordinators_again(
    act, draft, nominator, coordinator
):
    submitted(act, draft)
    screen(act, draft, coordinator, ScreeningDecision.REQUEST_CHANGES, message="Add figures.")
    mail.outbox.clear()

    act(
        nomination_resubmit,
        task_id=open_task(draft, NominationFlow.revise).pk,
        by=nominator,
    )

    assert sent() == sorted(
        [
            ((nominator.email,), f"We received your changes to “{draft.title}”"),
            ((coordinator.email,), f"National screening: “{draft.title}”"),
        ]
    )
    assert f"your changes to “{draft.title}” are submitted" in only_email_to(nominator).body


def test_rejection_sends_the_reason_to_the_nominator(act, draft, nominator, coordinator):
    submitted(act, draft)
    mail.outbox.clear()
    reason = "The practice started after the call's cut-off year."

    screen(act, draft, coordinator, ScreeningDecision.REJECT, message=reason)

    assert sent() == [((nominator.email,), f"“{draft.title}” was not accepted")]
    email = only_email_to(nominator)
    assert reason in email.body
    assert "The practice started after the call&#x27;s cut-off year." in html_of(email)


def test_selection_task_tells_each_lead_of_the_call(
    act, draft, coordinator, reviewers, lead, second_lead
):
    submitted(act, draft)
    screen(act, draft, coordinator, ScreeningDecision.ACCEPT)
    mail.outbox.clear()

    review_all(act, draft)

    assert sent() == sorted(
        [
            ((lead.email,), f"Selection: “{draft.title}”"),
            ((second_lead.email,), f"Selection: “{draft.title}”"),
        ]
    )


def test_decision_tells_the_nominator_the_outcome_and_rationale(
    act, draft, nominator, coordinator, reviewers, lead
):
    submitted(act, draft)
    screen(act, draft, coordinator, ScreeningDecision.ACCEPT)
    review_all(act, draft)
    mail.outbox.clear()
    rationale = "Strong evidence & easy to transfer."

    act(
        selection_decide,
        task_id=open_task(draft, NominationFlow.select).pk,
        by=lead,
        outcome=SelectionDecision.Outcome.TRANSNATIONAL,
        rationale=rationale,
    )

    assert sent() == [((nominator.email,), f"Decision on “{draft.title}”")]
    email = only_email_to(nominator)
    assert "Selected for the transnational showcase" in email.body
    assert rationale in email.body
    html = html_of(email)
    assert "Selected for the transnational showcase" in html
    assert "Strong evidence &amp; easy to transfer." in html


# --- language, parts and links ---------------------------------------------------------


def test_a_swedish_speaker_gets_subject_and_body_in_swedish(act, draft, nominator, coordinator):
    require_swedish_catalogue()
    prefer(nominator, language="sv")

    submitted(act, draft)

    email = only_email_to(nominator)
    assert email.subject == swedish("We received your nomination “%(title)s”", title=draft.title)
    greeting = swedish("Hello %(name)s,", name=nominator.get_full_name())
    thanks = swedish(
        "Thank you: your nomination “%(title)s” is submitted. Your country's national "
        "coordinator screens it next; you can follow its status at any time.",
        title=draft.title,
    )
    assert greeting in email.body
    assert thanks in email.body
    assert f"<p>{greeting}</p>" in html_of(email)
    assert f">{swedish('Open in Nomflow')}</a>" in html_of(email)
    # The coordinator has no preference: English, the site's default.
    assert only_email_to(coordinator).subject == f"National screening: “{draft.title}”"
    assert Message.objects.get(recipient=nominator).language == "sv"


def test_a_swedish_coordinator_gets_the_task_in_swedish(act, draft, coordinator):
    require_swedish_catalogue()
    prefer(coordinator, language="sv")

    submitted(act, draft)

    email = only_email_to(coordinator)
    assert email.subject == f"{swedish('National screening')}: “{draft.title}”"
    assert (
        swedish("A task waits for you on the nomination “%(title)s”:", title=draft.title)
        in email.body
    )
    assert f">{swedish('Open the task')}</a>" in html_of(email)


def test_the_html_part_declares_the_recipients_language(act, draft, nominator):
    require_swedish_catalogue()
    prefer(nominator, language="sv")

    submitted(act, draft)

    assert '<html lang="sv">' in html_of(only_email_to(nominator))


def sign_in_in_swedish(client, user):
    response = sign_in(client, user, HTTP_ACCEPT_LANGUAGE="sv")
    assert response.status_code == 302
    assert signed_in_user_id(client) == user.pk


def test_emails_follow_the_language_a_person_signs_in_with(
    act, client, call, countries, nominator, coordinator
):
    require_swedish_catalogue()
    sign_in_in_swedish(client, coordinator)

    submitted(act, NominationFactory(call=call, nominator=nominator, country=countries["SE"]))

    assert only_email_to(coordinator).subject.startswith(f"{swedish('National screening')}: ")


def test_emails_follow_the_sign_in_language_of_someone_emailed_before_signing_in(
    act, client, call, countries, nominator, coordinator
):
    require_swedish_catalogue()
    submitted(act, NominationFactory(call=call, nominator=nominator, country=countries["SE"]))
    sign_in_in_swedish(client, coordinator)
    mail.outbox.clear()

    submitted(act, NominationFactory(call=call, nominator=nominator, country=countries["SE"]))

    assert only_email_to(coordinator).subject.startswith(f"{swedish('National screening')}: ")


def test_each_email_has_a_text_and_an_html_part_with_a_link_straight_to_the_task(
    act, draft, nominator, coordinator
):
    submitted(act, draft)

    task = open_task(draft, NominationFlow.screen)
    task_url = settings.SITE_URL.rstrip("/") + reverse("workflow:task", args=[task.pk])
    nomination_url = settings.SITE_URL.rstrip("/") + reverse("nominations:detail", args=[draft.pk])
    for email, url in [
        (only_email_to(coordinator), task_url),
        (only_email_to(nominator), nomination_url),
    ]:
        assert len(email.alternatives) == 1
        assert url in email.body
        assert f'href="{url}"' in html_of(email)
        assert "<" not in email.body  # the text part is not HTML


def test_nothing_is_emailed_before_the_change_commits(
    draft, nominator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        nomination_submit(nomination=draft, by=nominator)

    assert mail.outbox == []
    assert Message.objects.filter(status=Message.Status.PENDING).count() == 1
    assert len(callbacks) == 1


# --- once only -------------------------------------------------------------------------


def test_notify_twice_with_the_same_key_records_and_sends_once(
    nominator, django_capture_on_commit_callbacks
):
    def tell():
        return notify(
            recipient=nominator,
            kind=Message.Kind.DECIDED,
            key="test:decided:once",
            context={"nomination_title": "Mentors", "message": "Well done", "outcome": "national"},
            path="/nominations/1/",
        )

    with django_capture_on_commit_callbacks(execute=True):
        first = tell()
    with django_capture_on_commit_callbacks(execute=True):
        second = tell()

    assert second.pk == first.pk
    assert Message.objects.count() == 1
    assert Notification.objects.count() == 1
    assert sent() == [((nominator.email,), "Decision on “Mentors”")]
    first.refresh_from_db()
    assert (first.status, first.attempts) == (Message.Status.SENT, 1)


def decided_message(nominator, key):
    """A pending decision message whose sending has not been dispatched."""
    return notify(
        recipient=nominator,
        kind=Message.Kind.DECIDED,
        key=key,
        context={"nomination_title": "Mentors", "message": "Well done", "outcome": "national"},
        path="/nominations/1/",
    )


def while_another_transaction_holds(hold, action):
    """``action()``'s result, run while another connection (a thread) has done ``hold()`` in
    a transaction it keeps open, and rolls back after."""
    locked, release = threading.Event(), threading.Event()

    def holder_body():
        try:
            with transaction.atomic():
                hold()
                locked.set()
                release.wait(timeout=10)
                transaction.set_rollback(True)
        finally:
            connections.close_all()

    holder = threading.Thread(target=holder_body)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        return action()
    finally:
        release.set()
        holder.join(timeout=10)


def lock_the_users_row(message):
    get_user_model().objects.select_for_update().get(pk=message.recipient_id)


def refer_to_the_message(message):
    """An open transaction inserting a row that points at the message takes a KEY SHARE lock."""
    with connection.cursor() as cursor:
        # Django's foreign keys are checked at commit; check (and lock) at the insert.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    DeliveryEvent.objects.create(
        event_id="test-event", event_type="queued", message=message, occurred_at=timezone.now()
    )


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "other_transaction",
    [lock_the_users_row, refer_to_the_message],
    ids=["recipients-row-locked", "row-referring-to-the-message-inserted"],
)
def test_a_send_goes_ahead_while_another_transaction_touches_related_rows(
    nominator, monkeypatch, other_transaction
):
    """The send locks the message row only, and only against writers of the message."""
    # Outside a transaction the after-commit dispatch would send it at once; keep it pending.
    monkeypatch.setattr("notifications.services.message_dispatch", lambda **_kwargs: None)
    message = decided_message(nominator, "test:decided:locked-user")

    status = while_another_transaction_holds(
        lambda: other_transaction(message), lambda: message_send(message_id=message.pk)
    )

    assert status == Message.Status.SENT
    assert sent() == [((nominator.email,), "Decision on “Mentors”")]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_message_another_send_holds_is_left_to_that_send_not_waited_for(nominator, monkeypatch):
    """Two sends of one message (a task and the sweep): the second skips it at once."""
    monkeypatch.setattr("notifications.services.message_dispatch", lambda **_kwargs: None)
    message = decided_message(nominator, "test:decided:held-by-another-send")

    status = while_another_transaction_holds(
        lambda: Message.objects.select_for_update(no_key=True).get(pk=message.pk),
        lambda: message_send(message_id=message.pk),
    )

    assert status is None
    assert mail.outbox == []
    assert Message.objects.values_list("status", "attempts").get(pk=message.pk) == (
        Message.Status.PENDING,
        0,
    )


def test_a_message_that_cannot_be_rendered_is_retried_then_failed_not_left_pending(
    nominator, monkeypatch
):
    message = decided_message(nominator, "test:decided:broken-template")

    def broken(_message):
        raise TemplateSyntaxError("Invalid block tag 'endblok'")

    monkeypatch.setattr("notifications.services.render_email", broken)
    statuses = [message_send(message_id=message.pk, now=timezone.now()) for _ in range(6)]

    message.refresh_from_db()
    assert statuses == [Message.Status.PENDING] * 5 + [Message.Status.FAILED]
    assert message.last_error == "TemplateSyntaxError: Invalid block tag 'endblok'"
    assert mail.outbox == []


# --- preferences -----------------------------------------------------------------------


def test_without_updates_the_receipt_is_not_emailed_but_tasks_and_decisions_are(
    act, draft, nominator, coordinator, reviewers, lead
):
    prefer(nominator, email_non_essential=False)
    prefer(coordinator, email_non_essential=False)

    submitted(act, draft)

    receipt = Message.objects.get(kind=Message.Kind.SUBMISSION_RECEIVED)
    assert receipt.status == Message.Status.SKIPPED
    assert emails_to(nominator) == []
    assert only_email_to(coordinator).subject == f"National screening: “{draft.title}”"

    screen(act, draft, coordinator, ScreeningDecision.ACCEPT)
    review_all(act, draft)
    mail.outbox.clear()
    act(
        selection_decide,
        task_id=open_task(draft, NominationFlow.select).pk,
        by=lead,
        outcome=SelectionDecision.Outcome.NATIONAL,
        rationale="A fine national example.",
    )

    assert sent() == [((nominator.email,), f"Decision on “{draft.title}”")]
    # Skipped in the inbox, still shown by the bell.
    assert Notification.objects.filter(message=receipt, recipient=nominator).exists()


def test_daily_delivery_holds_updates_for_one_digest(
    act, call, countries, theme, nominator, coordinator
):
    prefer(nominator, delivery=Preference.Delivery.DAILY)
    first, second = (
        NominationFactory(call=call, nominator=nominator, country=countries["SE"], themes=[theme])
        for _ in range(2)
    )
    submitted(act, first)
    submitted(act, second)

    assert emails_to(nominator) == []
    held = Message.objects.filter(recipient=nominator).order_by("pk")
    assert [m.status for m in held] == [Message.Status.HELD_FOR_DIGEST] * 2

    mail.outbox.clear()
    written = act(digests_send)

    assert written == 1
    email = only_email_to(nominator)
    assert email.subject == "Your Nomflow digest: 2 updates"
    for nomination in (first, second):
        assert f"We received your nomination “{nomination.title}”" in email.body
        url = settings.SITE_URL.rstrip("/") + reverse("nominations:detail", args=[nomination.pk])
        assert url in email.body
        assert f'href="{url}"' in html_of(email)
    assert [m.status for m in held.exclude(kind=Message.Kind.DIGEST)] == [
        Message.Status.IN_DIGEST
    ] * 2
    assert Message.objects.get(kind=Message.Kind.DIGEST).status == Message.Status.SENT
    assert emails_to(coordinator) == []

    mail.outbox.clear()
    assert act(digests_send) == 0
    assert mail.outbox == []


@pytest.mark.parametrize(
    "change",
    [{"bounced_at": timezone.now()}, {"email_non_essential": False}],
    ids=["bounced-since", "updates-switched-off-since"],
)
def test_held_updates_whose_digest_is_not_emailed_are_not_reported_as_sent(
    act, draft, nominator, change
):
    prefer(nominator, delivery=Preference.Delivery.DAILY)
    submitted(act, draft)
    Preference.objects.filter(user=nominator).update(**change)
    mail.outbox.clear()

    act(digests_send)

    assert mail.outbox == []
    assert Message.objects.get(kind=Message.Kind.DIGEST).status == Message.Status.SKIPPED
    receipt = Message.objects.get(kind=Message.Kind.SUBMISSION_RECEIVED)
    assert (receipt.status, receipt.sent_at) == (Message.Status.SKIPPED, None)


def test_daily_delivery_still_sends_essential_messages_at_once(
    act, draft, nominator, coordinator, reviewers
):
    prefer(nominator, delivery=Preference.Delivery.DAILY)
    submitted(act, draft)

    screen(act, draft, coordinator, ScreeningDecision.ACCEPT)

    assert [e.subject for e in emails_to(nominator)] == [
        f"“{draft.title}” is accepted for peer review"
    ]


def test_a_bounced_address_is_not_emailed(act, draft, nominator, coordinator, reviewers):
    prefer(nominator, bounced_at=timezone.now(), bounce_reason="bounced: mailbox unknown")

    submitted(act, draft)
    screen(act, draft, coordinator, ScreeningDecision.ACCEPT)

    assert emails_to(nominator) == []
    assert set(Message.objects.filter(recipient=nominator).values_list("kind", "status")) == {
        (Message.Kind.SUBMISSION_RECEIVED, Message.Status.SKIPPED),
        (Message.Kind.ACCEPTED_FOR_REVIEW, Message.Status.SKIPPED),
    }
    assert only_email_to(coordinator).subject == f"National screening: “{draft.title}”"


# --- the bell --------------------------------------------------------------------------


def test_each_message_but_a_digest_is_also_an_in_site_notification(
    act, draft, nominator, coordinator
):
    prefer(nominator, delivery=Preference.Delivery.DAILY)
    submitted(act, draft)
    act(digests_send)

    messages = Message.objects.exclude(kind=Message.Kind.DIGEST)
    assert messages.count() == 2
    assert sorted(
        Notification.objects.values_list("recipient_id", "message_id", "title", "path")
    ) == sorted((m.recipient_id, m.pk, m.subject, m.context["path"]) for m in messages)
    assert not Notification.objects.filter(message__kind=Message.Kind.DIGEST).exists()
    task = open_task(draft, NominationFlow.screen)
    assert Notification.objects.get(recipient=coordinator).path == reverse(
        "workflow:task", args=[task.pk]
    )
    assert Notification.objects.get(recipient=nominator).path == reverse(
        "nominations:detail", args=[draft.pk]
    )
