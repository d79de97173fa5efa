"""Erase my account: the identity goes everywhere; reviews, scores and decisions stay."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.urls import reverse

from nominations.models import ErasureRecord, Nomination, NominationEvent
from notifications.models import Message, Notification, Preference
from notifications.services import notify
from reviewers.models import Bid, ConflictOfInterest, Review, ReviewerProfile
from workflow.flows import NominationFlow
from workflow.personal_data import ErasureRefused, account_erase

from ..factories import NominationFactory, UserFactory
from ..workflow.helpers import open_task
from ..workflow.test_reviewer_pages import accepted
from .gdpr_helpers import decided_with_attachment, reviewed, unzip

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

User = get_user_model()


@pytest.fixture
def decided(draft, coordinator, reviewers, lead):
    return decided_with_attachment(draft, coordinator, lead)


def a_reviewer_of(nomination):
    return Review.objects.filter(nomination=nomination, status="submitted").order_by("pk")[0]


def test_an_erased_reviewer_is_anonymised_in_every_row_and_their_review_stays(decided):
    review = a_reviewer_of(decided)
    person = review.reviewer
    old_email, old_name = person.email, person.get_full_name()
    scores = list(review.scores.values_list("criterion_id", "score", "comment"))
    ConflictOfInterest.objects.create(reviewer=person, organisation="Old employer")
    Bid.objects.create(reviewer=person, nomination=NominationFactory(call=decided.call), level=1)
    assert Message.objects.filter(recipient=person).exists()

    record = account_erase(user=person, by=person)

    row = User.objects.get(pk=person.pk)
    placeholder = f"erased-{person.pk}@erased.invalid"
    assert (row.username, row.email, row.first_name, row.last_name) == (
        placeholder,
        placeholder,
        "",
        "",
    )
    assert (row.is_active, row.is_staff, row.is_superuser) == (False, False, False)
    assert not row.has_usable_password()
    assert not EmailAddress.objects.filter(user=person).exists()
    assert not EmailAddress.objects.filter(email=old_email).exists()
    assert not ReviewerProfile.objects.filter(user=person).exists()
    assert not Bid.objects.filter(reviewer=person).exists()
    assert not ConflictOfInterest.objects.filter(reviewer=person).exists()
    assert not Message.objects.filter(recipient=person).exists()
    assert not Notification.objects.filter(recipient=person).exists()
    assert not Preference.objects.filter(user=person).exists()
    # Anything that still names them as a recipient is never emailed.
    later = notify(
        recipient=row, kind=Message.Kind.DECIDED, key="after-erasure", context={}, in_site=False
    )
    assert later.status == Message.Status.SKIPPED
    assert (record.user_id, record.by_admin) == (person.pk, False)
    # The review keeps its scores and comment.
    review.refresh_from_db()
    assert (review.reviewer_id, review.status, review.comment) == (person.pk, "submitted", "Solid.")
    assert list(review.scores.values_list("criterion_id", "score", "comment")) == scores
    # Nothing written elsewhere names them any more.
    for event in NominationEvent.objects.all():
        assert old_email not in event.outcome + event.message
    for message in Message.objects.all():
        assert old_email not in str(message.context) + message.subject
        assert old_name not in str(message.context) + message.subject
    assert "(erased person) (" in decided.events.get(action="reviewers_assigned").outcome


def test_the_lead_reads_reviewer_erased_on_the_board_the_task_page_and_the_export(
    client, call, draft, coordinator, reviewers, lead
):
    reviewed(draft, coordinator)
    review = a_reviewer_of(draft)
    old_email = review.reviewer.email
    account_erase(user=review.reviewer, by=review.reviewer)
    client.force_login(lead)

    board = client.get(reverse("workflow:board", args=[call.pk])).content.decode()
    response = client.get(reverse("nominations:export", args=[call.pk, "csv"]))
    export = b"".join(response.streaming_content).decode()
    task_id = open_task(draft, NominationFlow.select).pk
    task_page = client.get(reverse("workflow:task", args=[task_id])).content.decode()

    for page in (board, export, task_page):
        assert "Reviewer (erased)" in page
        assert old_email not in page
    assert "Solid." in board


def test_an_erased_lead_leaves_the_decision_and_its_rationale_under_no_name(client, decided, lead):
    account_erase(user=lead, by=lead)
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)

    decided.refresh_from_db()
    page = client.get(reverse("nominations:detail", args=[decided.pk])).content.decode()

    assert decided.decision.rationale == "Strong local results."
    assert decided.decision.decided_by_id == lead.pk
    assert not lead.led_calls.exists()
    history = [row for row in page.split("<tr") if "Selection decided" in row]
    assert history and "(erased person)" in history[0]


def test_an_erased_nominator_keeps_the_practice_but_not_the_contact(decided):
    nominator = decided.nominator

    account_erase(user=nominator, by=nominator)

    nomination = Nomination.objects.get(pk=decided.pk)
    assert (nomination.contact_name, nomination.contact_email) == ("", "")
    assert nomination.contact_anonymised_at is not None
    assert nomination.summary == "Mentors from the neighbourhood help young people into work."
    assert nomination.attachments.count() == 1
    assert decided.events.filter(action="contact_erased").count() == 1


def test_an_erased_person_can_no_longer_sign_in_and_their_sessions_end(client, decided):
    nominator = decided.nominator
    email = nominator.email
    other_device = client.__class__()
    other_device.force_login(nominator)
    assert other_device.get(reverse("nominations:list")).status_code == 200

    account_erase(user=nominator, by=nominator)

    assert other_device.get(reverse("nominations:list")).status_code == 302
    owners = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(nominator.pk) not in owners
    signin = client.post(
        reverse("account_login"), {"login": email, "password": "secret-password-1"}
    )
    assert signin.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session
    assert not client.login(username=email, password="secret-password-1")


def test_erasure_is_refused_while_a_review_is_open_and_says_which(
    client, draft, coordinator, reviewers
):
    accepted(draft, coordinator)
    person = Review.objects.filter(nomination=draft).order_by("pk")[0].reviewer
    identity = ("username", "email", "first_name", "last_name", "password", "is_active")
    before = User.objects.filter(pk=person.pk).values(*identity)[0]

    with pytest.raises(ErasureRefused) as refused:
        account_erase(user=person, by=person)
    client.force_login(person)
    page = client.get(reverse("privacy:erase"))
    posted = client.post(reverse("privacy:erase"), {"confirmation": "secret-password-1"})

    message = f"The review of “{draft.title}” is open: submit it or decline it first."
    assert refused.value.reasons == [message]
    assert message in page.content.decode()
    assert message in posted.content.decode()
    assert User.objects.filter(pk=person.pk).values(*identity)[0] == before
    assert not ErasureRecord.objects.exists()


def test_the_only_coordinator_with_screenings_waiting_is_refused(draft, coordinator):
    from workflow.services import nomination_submit

    nomination_submit(nomination=draft, by=draft.nominator)

    with pytest.raises(ErasureRefused) as refused:
        account_erase(user=coordinator, by=coordinator)

    assert refused.value.reasons == [
        "You are the only national coordinator of Sweden and one of its tasks is waiting: "
        "an administrator must name another coordinator first."
    ]
    second = UserFactory(username="second-coordinator")
    draft.country.coordinators.add(second)
    account_erase(user=coordinator, by=coordinator)
    assert list(draft.country.coordinators.all()) == [second]


def test_a_nominator_whose_nomination_is_under_way_is_refused(draft, coordinator):
    """The flow may still need them: changes requested would go to an account nobody holds."""
    from workflow.services import nomination_submit

    nomination_submit(nomination=draft, by=draft.nominator)

    with pytest.raises(ErasureRefused) as refused:
        account_erase(user=draft.nominator, by=draft.nominator)

    assert refused.value.reasons == [
        f"Your nomination “{draft.title}” is still under way: wait for its decision, or ask "
        "its national coordinator to close it."
    ]
    assert User.objects.get(pk=draft.nominator.pk).is_active


def test_one_of_two_leads_is_refused_where_two_leads_decide_and_a_selection_waits(
    draft, coordinator, lead
):
    from workflow.services import reviewers_go_on

    call = draft.call
    call.require_two_leads = True
    call.save()
    second = UserFactory(username="lead-2")
    call.leads.add(second)
    accepted(draft, coordinator)
    reviewers_go_on(
        task_id=open_task(draft, NominationFlow.find_reviewers).pk, by=coordinator, note="None."
    )

    with pytest.raises(ErasureRefused) as refused:
        account_erase(user=second, by=second)

    assert refused.value.reasons == [
        f"“{call.title}” needs two leads for each decision and one selection is waiting: "
        "an administrator must name another lead first."
    ]
    call.leads.add(UserFactory(username="lead-3"))
    account_erase(user=second, by=second)


def test_the_erase_page_asks_for_the_password_then_erases_and_signs_out(client, nominator):
    client.force_login(nominator)

    wrong = client.post(reverse("privacy:erase"), {"confirmation": "not my password"})
    right = client.post(reverse("privacy:erase"), {"confirmation": "secret-password-1"})

    assert wrong.status_code == 200
    assert "That is not your password." in wrong.content.decode()
    assert (right.status_code, right.url) == (302, reverse("privacy:policy"))
    assert "_auth_user_id" not in client.session
    nominator.refresh_from_db()
    assert nominator.email == f"erased-{nominator.pk}@erased.invalid"


def test_the_erase_page_takes_ten_password_guesses_a_minute_at_most(client, nominator):
    """A session someone else took over is no way to guess the password without limit."""
    client.force_login(nominator)
    for _ in range(10):
        client.post(reverse("privacy:erase"), {"confirmation": "a guess"})

    right = client.post(reverse("privacy:erase"), {"confirmation": "secret-password-1"})

    assert right.status_code == 200
    assert "Too many attempts." in right.content.decode()
    assert User.objects.get(pk=nominator.pk).is_active


def test_the_erase_page_only_ever_erases_the_signed_in_person(client, nominator):
    other = UserFactory(username="other")
    client.force_login(other)

    client.post(
        reverse("privacy:erase"), {"confirmation": "secret-password-1", "user": nominator.pk}
    )

    nominator.refresh_from_db()
    assert nominator.is_active and nominator.email == "nominator@example.org"
    assert ErasureRecord.objects.get().user_id == other.pk


# --- the admin's actions ---------------------------------------------------------------


def changelist():
    return reverse("admin:auth_user_changelist")


def test_an_admin_downloads_one_persons_data(client, decided):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)

    response = client.post(
        changelist(),
        {"action": "download_personal_data", "_selected_action": [decided.nominator.pk]},
    )

    assert response["Content-Type"] == "application/zip"
    _archive, data = unzip(response.content)
    assert data["account"]["email"] == decided.nominator.email
    assert [n["id"] for n in data["nominations"]] == [decided.pk]


def test_an_admin_erases_after_confirming(client, decided):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    person = decided.nominator
    client.force_login(admin)
    data = {"action": "erase_personal_data", "_selected_action": [person.pk]}

    asked = client.post(changelist(), data)
    person.refresh_from_db()
    assert asked.status_code == 200
    assert "Yes, erase" in asked.content.decode()
    assert person.is_active

    done = client.post(changelist(), {**data, "post": "yes"})

    person.refresh_from_db()
    assert done.status_code == 302
    assert person.email == f"erased-{person.pk}@erased.invalid"
    assert ErasureRecord.objects.get(user=person).by_admin


def test_non_admins_cannot_run_the_actions(client, decided):
    person = decided.nominator
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    plain = UserFactory(username="plain")

    responses = []
    for user in (plain, viewer):
        client.force_login(user)
        for action in ("download_personal_data", "erase_personal_data"):
            responses.append(
                client.post(
                    changelist(),
                    {"action": action, "_selected_action": [person.pk], "post": "yes"},
                )
            )

    # Not staff: sent to sign in. Staff who may only view users: the actions are not theirs.
    assert [r.status_code for r in responses] == [302, 302, 200, 200]
    assert all(r.get("Content-Type") != "application/zip" for r in responses)
    person.refresh_from_db()
    assert person.is_active
    assert not ErasureRecord.objects.exists()
