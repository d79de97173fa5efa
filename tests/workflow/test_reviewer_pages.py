"""The pages where reviewers decline and coordinators find, pick and bulk-assign reviewers."""

import pytest
from django.urls import reverse
from django.utils import timezone

from nominations.accounts import user_display
from nominations.models import Nomination
from reviewers.models import Review
from workflow.flows import NominationFlow
from workflow.services import (
    ScreeningDecision,
    TaskUnavailable,
    nomination_screen,
    nomination_submit,
    review_remove,
    review_submit,
)

from ..factories import NominationFactory, ReviewerFactory, UserFactory
from .helpers import full_scores, open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def accepted(nomination, coordinator):
    nomination_submit(nomination=nomination, by=nomination.nominator)
    nomination_screen(
        task_id=open_task(nomination, NominationFlow.screen).pk,
        by=coordinator,
        decision=ScreeningDecision.ACCEPT,
    )
    return nomination


def test_a_reviewer_declines_on_the_review_page_and_a_replacement_is_asked(
    client, draft, coordinator, reviewers
):
    accepted(draft, coordinator)
    first, _second = open_tasks(draft, NominationFlow.review)
    client.force_login(first.owner)

    empty = client.post(reverse("workflow:task", args=[first.pk]), {"decline": "1", "reason": ""})
    response = client.post(
        reverse("workflow:task", args=[first.pk]), {"decline": "1", "reason": "On leave"}
    )

    assert empty.status_code == 200  # the reason is required; the page says so
    assert (response.status_code, response.url) == (302, reverse("workflow:inbox"))
    assert Review.objects.get(nomination=draft, reviewer=first.owner).status == "declined"
    owners = {t.owner for t in open_tasks(draft, NominationFlow.review)}
    assert first.owner not in owners and len(owners) == 2


@pytest.fixture
def short(draft, coordinator, countries, theme):
    """The Swedish nomination with one of its two reviewers: one French expert is all there is."""
    ReviewerFactory(
        username="french-expert",
        reviewer_profile__country=countries["FR"],
        reviewer_profile__expertise=[theme],
    )
    accepted(draft, coordinator)
    return open_task(draft, NominationFlow.find_reviewers)


def test_the_coordinator_reads_why_and_who_could_be_assigned(
    client, short, draft, coordinator, countries
):
    swede = ReviewerFactory(username="swede", reviewer_profile__country=countries["SE"])
    latvian = ReviewerFactory(username="latvian", reviewer_profile__country=countries["LV"])
    client.force_login(coordinator)

    page = client.get(reverse("workflow:task", args=[short.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "1 of 2 reviewers could not be found" in html
    rows = {choice.user: choice for choice in page.context["choices"]}
    assert rows[swede].refusal == "is from the nomination's country"
    assert rows[latvian].refusal == ""
    assert "shares none of the nomination's themes" in rows[latvian].warnings
    # A refused reviewer cannot even be picked.
    assert f'value="{swede.pk}"' not in html
    assert f'value="{latvian.pk}"' in html


def test_assigning_by_hand_asks_to_confirm_warnings_and_keeps_the_choice(
    client, short, draft, coordinator, countries
):
    latvian = ReviewerFactory(username="latvian", reviewer_profile__country=countries["LV"])
    client.force_login(coordinator)
    url = reverse("workflow:task", args=[short.pk])

    first = client.post(url, {"action": "assign", "hand-reviewer": latvian.pk})

    assert first.status_code == 200
    (error,) = first.context["by_hand"].errors["confirmed"]
    assert error.startswith("Please confirm: this reviewer shares none of the nomination's themes")
    assert "Please confirm: this reviewer shares none of the nomination&#x27;s themes" in (
        first.content.decode()
    )
    assert first.context["by_hand"]["reviewer"].value() == str(latvian.pk)
    assert draft.reviews.count() == 1

    second = client.post(
        url, {"action": "assign", "hand-reviewer": latvian.pk, "hand-confirmed": "on"}
    )

    assert (second.status_code, second.url) == (302, reverse("workflow:inbox"))
    assert latvian in {t.owner for t in open_tasks(draft, NominationFlow.review)}


def test_a_forged_choice_of_a_refused_reviewer_is_refused(
    client, short, draft, coordinator, countries
):
    swede = ReviewerFactory(username="swede", reviewer_profile__country=countries["SE"])
    client.force_login(coordinator)

    page = client.post(
        reverse("workflow:task", args=[short.pk]),
        {"action": "assign", "hand-reviewer": swede.pk, "hand-confirmed": "on"},
    )

    assert page.status_code == 200
    assert draft.reviews.filter(reviewer=swede).count() == 0


def test_going_on_needs_a_reason_and_keeps_what_was_typed(client, short, draft, coordinator):
    client.force_login(coordinator)
    url = reverse("workflow:task", args=[short.pk])

    empty = client.post(url, {"action": "go_on", "go_on-note": ""})
    done = client.post(url, {"action": "go_on", "go_on-note": "One expert review will do."})

    assert empty.status_code == 200 and empty.context["go_on"].errors
    assert (done.status_code, done.url) == (302, reverse("workflow:inbox"))
    assert len(open_tasks(draft, NominationFlow.review)) == 1


def test_two_coordinators_going_on_at_once_one_is_told(
    client, short, draft, coordinator, countries
):
    other = UserFactory(username="coordinator-se-2")
    countries["SE"].coordinators.add(other)
    url = reverse("workflow:task", args=[short.pk])
    client.force_login(coordinator)
    client.post(url, {"action": "go_on", "go_on-note": "Enough."})
    client.force_login(other)

    late = client.post(url, {"action": "go_on", "go_on-note": "Me too."})

    assert late.status_code == 200
    assert "This task was already completed by" in late.content.decode()
    assert late.context["go_on"]["note"].value() == "Me too."
    assert draft.events.filter(action="reviewers_settled").count() == 1


@pytest.mark.parametrize("role", ["nominator", "lead", "reviewer", "other_coordinator"])
def test_only_the_nominations_coordinators_open_the_reviewers_needed_page(
    client, request, short, role, reviewers, countries
):
    if role == "reviewer":
        person = reviewers[0]
    elif role == "other_coordinator":
        person = UserFactory(username="coordinator-fr")
        countries["FR"].coordinators.add(person)
    else:
        person = request.getfixturevalue(role)
    client.force_login(person)

    page = client.get(reverse("workflow:task", args=[short.pk]))
    post = client.post(reverse("workflow:task", args=[short.pk]), {"action": "find_again"})

    assert (page.status_code, post.status_code) == (404, 404)


# --- bulk ------------------------------------------------------------------------------


@pytest.fixture
def bulk_call(call, coordinator, countries, theme, reviewers):
    call.assign_in_bulk = True
    call.save()
    nominations = [
        NominationFactory(call=call, country=countries["SE"], themes=[theme]) for _ in range(2)
    ]
    for nomination in nominations:
        accepted(nomination, coordinator)
    return call


def test_the_bulk_page_previews_then_assigns_what_the_coordinator_kept(
    client, bulk_call, coordinator
):
    client.force_login(coordinator)
    url = reverse("workflow:bulk_assign", args=[bulk_call.pk])

    preview = client.get(url)

    assert preview.status_code == 200
    rows = preview.context["rows"]
    assert len(rows) == 2 and all(len(pairs) == 2 for _t, _n, pairs, _s, _a in rows)
    assert Review.objects.count() == 0
    kept = [f"{task.pk}:{user.pk}" for task, _n, pairs, _s, _a in rows for user, _f, _b in pairs]
    dropped = kept.pop()

    response = client.post(url, {"pair": kept})

    assert response.status_code == 302
    assert Review.objects.count() == 3
    first, second = (row[1] for row in rows)
    assert len(open_tasks(first, NominationFlow.review)) == 2
    # The second lost a reviewer in the preview: it still waits, with one.
    assert open_tasks(second, NominationFlow.review) == []
    assert open_task(second, NominationFlow.find_reviewers)
    assert not Review.objects.filter(reviewer_id=int(dropped.split(":")[1]), nomination=second)


def test_a_forged_pair_in_the_bulk_form_is_refused(client, bulk_call, coordinator, countries):
    swede = ReviewerFactory(username="swede", reviewer_profile__country=countries["SE"])
    client.force_login(coordinator)
    url = reverse("workflow:bulk_assign", args=[bulk_call.pk])
    (task, *_rest), *_others = client.get(url).context["rows"]

    response = client.post(url, {"pair": [f"{task.pk}:{swede.pk}"]}, follow=True)

    assert not Review.objects.filter(reviewer=swede).exists()
    assert "is from the nomination&#x27;s country" in response.content.decode()


def test_a_reviewer_added_by_hand_in_bulk_needs_their_warnings_confirmed(
    client, bulk_call, coordinator, countries
):
    generalist = ReviewerFactory(username="generalist", reviewer_profile__country=countries["LV"])
    client.force_login(coordinator)
    url = reverse("workflow:bulk_assign", args=[bulk_call.pk])
    rows = client.get(url).context["rows"]
    task, nomination, pairs, _shortfall, alternatives = rows[0]
    (offered,) = [c for c in alternatives if c.user == generalist]
    assert "shares none of the nomination's themes" in offered.warnings
    kept = [f"{task.pk}:{pairs[0][0].pk}"]  # one proposed reviewer, and the generalist
    addition = f"{task.pk}:{generalist.pk}"

    unconfirmed = client.post(url, {"pair": kept, "add": addition}, follow=True)

    assert not Review.objects.filter(reviewer=generalist).exists()
    assert "needs your confirmation" in unconfirmed.content.decode()
    # The kept pair was assigned; the nomination still waits for its second reviewer.
    assert open_task(nomination, NominationFlow.find_reviewers)

    client.post(url, {"add": addition, "confirm_warnings": "on"})

    assert Review.objects.filter(reviewer=generalist, nomination=nomination).exists()
    assert nomination.events.filter(action="reviewer_added_by_hand").count() == 1
    assert len(open_tasks(nomination, NominationFlow.review)) == 2


@pytest.mark.parametrize("role", ["nominator", "lead", "reviewer"])
def test_the_bulk_page_is_for_coordinators_and_admins_only(
    client, request, bulk_call, role, reviewers
):
    person = reviewers[0] if role == "reviewer" else request.getfixturevalue(role)
    client.force_login(person)
    url = reverse("workflow:bulk_assign", args=[bulk_call.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"pair": []}).status_code == 404


def test_a_coordinator_of_another_country_sees_none_of_the_calls_waiting_nominations(
    client, bulk_call, countries
):
    french = UserFactory(username="coordinator-fr")
    countries["FR"].coordinators.add(french)
    client.force_login(french)

    page = client.get(reverse("workflow:bulk_assign", args=[bulk_call.pk]))

    assert page.status_code == 200 and page.context["rows"] == []
    assert Nomination.objects.filter(call=bulk_call).count() == 2


def test_the_inbox_points_coordinators_to_the_calls_waiting_for_reviewers(
    client, bulk_call, coordinator, countries
):
    client.force_login(coordinator)
    page = client.get(reverse("workflow:inbox"))
    assert page.context["calls_awaiting_reviewers"] == [(bulk_call, 2)]
    assert reverse("workflow:bulk_assign", args=[bulk_call.pk]) in page.content.decode()

    french = UserFactory(username="coordinator-fr")
    countries["FR"].coordinators.add(french)
    client.force_login(french)
    assert client.get(reverse("workflow:inbox")).context["calls_awaiting_reviewers"] == []


# --- removing a reviewer ---------------------------------------------------------------


def test_a_coordinator_removes_a_reviewer_and_the_best_valid_replacement_takes_over(
    client, draft, coordinator, reviewers
):
    accepted(draft, coordinator)
    removed, kept = open_tasks(draft, NominationFlow.review)
    client.force_login(coordinator)
    detail = client.get(reverse("nominations:detail", args=[draft.pk]))
    assert [t.pk for t in detail.context["removable_review_tasks"]] == [removed.pk, kept.pk]

    empty = client.post(reverse("workflow:review_remove", args=[removed.pk]), {"reason": " "})
    assert Review.objects.get(nomination=draft, reviewer=removed.owner).status == "assigned"
    response = client.post(
        reverse("workflow:review_remove", args=[removed.pk]),
        {"reason": "Works with the nominator on another project."},
    )

    assert empty.status_code == response.status_code == 302
    assert Review.objects.get(nomination=draft, reviewer=removed.owner).status == "declined"
    owners = {t.owner for t in open_tasks(draft, NominationFlow.review)}
    assert removed.owner not in owners and kept.owner in owners and len(owners) == 2
    assert draft.events.filter(action="reviewer_removed").count() == 1
    # The nominator never learns of it.
    client.force_login(draft.nominator)
    page = client.get(reverse("nominations:detail", args=[draft.pk])).content.decode()
    assert "another project" not in page and removed.owner.email not in page


@pytest.mark.parametrize("role", ["nominator", "lead", "other_coordinator", "own_reviewer"])
def test_only_the_nominations_coordinators_remove_a_reviewer(
    client, request, draft, coordinator, reviewers, countries, role
):
    accepted(draft, coordinator)
    task, _other = open_tasks(draft, NominationFlow.review)
    if role == "own_reviewer":
        person = task.owner
    elif role == "other_coordinator":
        person = UserFactory(username="coordinator-fr")
        countries["FR"].coordinators.add(person)
    else:
        person = request.getfixturevalue(role)
    client.force_login(person)

    response = client.post(reverse("workflow:review_remove", args=[task.pk]), {"reason": "x"})

    assert response.status_code == 404
    assert Review.objects.get(nomination=draft, reviewer=task.owner).status == "assigned"


def test_a_reviewer_submitting_after_being_removed_is_told_a_coordinator_removed_them(
    draft, coordinator, reviewers
):
    accepted(draft, coordinator)
    task, _other = open_tasks(draft, NominationFlow.review)
    review_remove(task_id=task.pk, by=coordinator, reason="Works with the nominator.")

    with pytest.raises(TaskUnavailable) as submitted:
        review_submit(task_id=task.pk, by=task.owner, scores=full_scores(draft.call), comment="")

    assert str(submitted.value) == (
        "A coordinator removed you from this review before you submitted it."
    )
    assert Review.objects.get(nomination=draft, reviewer=task.owner).status == "declined"


def test_a_second_coordinator_removing_a_removed_reviewer_is_told_who_removed_them(
    draft, coordinator, reviewers, countries
):
    accepted(draft, coordinator)
    task, _other = open_tasks(draft, NominationFlow.review)
    second = UserFactory(username="coordinator-se-2", first_name="Erik", last_name="Berg")
    countries["SE"].coordinators.add(second)
    review_remove(task_id=task.pk, by=coordinator, reason="Works with the nominator.")
    task.refresh_from_db()

    with pytest.raises(TaskUnavailable) as removed_again:
        review_remove(task_id=task.pk, by=second, reason="A conflict.")

    finished = timezone.localtime(task.finished).strftime("%Y-%m-%d %H:%M")
    assert str(removed_again.value) == (
        f"{user_display(coordinator)} removed this reviewer from the review on {finished}."
    )
