"""A reviewer's capacity holds when two assignments want their last slot at once.

Every way a nomination gets a reviewer (acceptance, a replacement after a
decline or a removal, a coordinator's choice by hand, a bulk confirmation) may
run at the same moment as another on a different nomination of the same call;
each holds only its own nomination's process lock. The reviewer below has room
for exactly one more review in every round, and two assignments race for it:
one wins, the other is refused clearly or finds nobody else, and the reviewer
never ends over capacity.
"""

import pytest
from django.db import connection

from nominations.models import NominationEvent
from reviewers.models import ConflictOfInterest, Review, ReviewerProfile
from workflow.flows import NominationFlow
from workflow.services import (
    ScreeningDecision,
    nomination_screen,
    review_decline,
    reviewer_add_by_hand,
    reviewers_assign_in_bulk,
)

from ..factories import UserFactory
from .helpers import open_task, open_tasks
from .test_concurrency import all_in_flight_together, run_together, submitted_nomination

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "Concurrent assignments need PostgreSQL: SQLite locks the whole file "
            f"(this run uses {connection.vendor})."
        ),
    ),
]

ROUNDS = 30
FULL = "has no capacity left in this call"


@pytest.fixture
def two_coordinators(countries):
    people = [
        UserFactory(username="astrid", first_name="Astrid", last_name="Lind"),
        UserFactory(username="erik", first_name="Erik", last_name="Berg"),
    ]
    countries["SE"].coordinators.add(*people)
    return people


def open_load(reviewer, call):
    return Review.objects.filter(
        reviewer=reviewer, nomination__call=call, status__in=Review.OPEN_STATUSES
    ).count()


def capacity_set(reviewer, capacity):
    ReviewerProfile.objects.filter(user=reviewer).update(capacity=capacity)


def accepted(call, countries, theme, nominator, coordinator, n, conflicted=()):
    """A nomination screened and accepted; ``conflicted`` reviewers declared a conflict."""
    nomination = submitted_nomination(call, nominator, countries, theme, n)
    for reviewer in conflicted:
        ConflictOfInterest.objects.create(reviewer=reviewer, nomination=nomination)
    nomination_screen(
        task_id=open_task(nomination, NominationFlow.screen).pk,
        by=coordinator,
        decision=ScreeningDecision.ACCEPT,
    )
    return nomination


def reviewer_ids(nomination):
    return set(
        Review.objects.filter(nomination=nomination, status__in=Review.OPEN_STATUSES).values_list(
            "reviewer_id", flat=True
        )
    )


def test_two_coordinators_choosing_one_reviewers_last_slot_by_hand_give_it_once(
    call, countries, theme, nominator, coordinator, reviewers, two_coordinators
):
    """Each nomination lacks a third reviewer; both coordinators pick Spain's at once."""
    call.reviewers_per_nomination = 3
    call.save(update_fields=["reviewers_per_nomination"])
    french, latvian, spanish = reviewers
    capacity_set(french, ROUNDS * 3)
    capacity_set(latvian, ROUNDS * 3)
    overlapping_rounds = 0

    for n in range(ROUNDS):
        capacity_set(spanish, open_load(spanish, call))  # full while the matcher runs
        nominations = [
            accepted(call, countries, theme, nominator, coordinator, f"{n}-{i}") for i in (1, 2)
        ]
        tasks = [open_task(nomination, NominationFlow.find_reviewers) for nomination in nominations]
        capacity_set(spanish, open_load(spanish, call) + 1)  # one slot left

        outcomes = run_together(
            *(
                (
                    lambda t=task, by=person: reviewer_add_by_hand(
                        task_id=t.pk, by=by, reviewer_id=spanish.pk, confirmed=True
                    )
                )
                for task, person in zip(tasks, two_coordinators, strict=True)
            )
        )

        overlapping_rounds += all_in_flight_together(outcomes)
        spanish.reviewer_profile.refresh_from_db()
        assert open_load(spanish, call) == spanish.reviewer_profile.capacity, f"round {n}"
        assert sorted(o.result is True for o in outcomes) == [False, True], f"round {n}"
        (loser,) = [o for o in outcomes if o.result is not True]
        refusal = f"{spanish.get_full_name()} cannot review this nomination: {FULL}."
        assert str(loser.error) == refusal, f"round {n}"
        assert sorted(spanish.pk in reviewer_ids(nomination) for nomination in nominations) == [
            False,
            True,
        ], f"round {n}"

    assert overlapping_rounds >= ROUNDS // 2


def test_a_bulk_assignment_and_a_declines_replacement_wanting_one_last_slot_give_it_once(
    call, countries, theme, nominator, coordinator, reviewers
):
    """The bulk form gives Spain's reviewer to one nomination while Latvia's declines another.

    The replacement for Latvia's reviewer can only be Spain's; whichever comes
    second is refused (bulk) or finds nobody and waits for a coordinator.
    """
    call.reviewers_per_nomination = 2
    call.save(update_fields=["reviewers_per_nomination"])
    french, latvian, spanish = reviewers
    capacity_set(french, ROUNDS * 3)
    capacity_set(latvian, ROUNDS * 3)
    overlapping_rounds = 0

    for n in range(ROUNDS):
        capacity_set(spanish, open_load(spanish, call))  # full while the matcher runs
        short = accepted(
            call, countries, theme, nominator, coordinator, f"{n}-short", conflicted=[latvian]
        )
        reviewed = accepted(call, countries, theme, nominator, coordinator, f"{n}-reviewed")
        assert reviewer_ids(short) == {french.pk}
        assert reviewer_ids(reviewed) == {french.pk, latvian.pk}
        finding = open_task(short, NominationFlow.find_reviewers)
        latvians_task = next(
            task
            for task in open_tasks(reviewed, NominationFlow.review)
            if task.owner_id == latvian.pk
        )
        capacity_set(spanish, open_load(spanish, call) + 1)  # one slot left

        outcomes = run_together(
            lambda t=finding: reviewers_assign_in_bulk(by=coordinator, pairs=[(t.pk, spanish.pk)]),
            lambda t=latvians_task, n=n: review_decline(
                task_id=t.pk, by=latvian, reason=f"Away, {n}"
            ),
        )

        overlapping_rounds += all_in_flight_together(outcomes)
        assert [o.error for o in outcomes] == [None, None], f"round {n}"
        spanish.reviewer_profile.refresh_from_db()
        assert open_load(spanish, call) == spanish.reviewer_profile.capacity, f"round {n}"
        bulk_won = spanish.pk in reviewer_ids(short)
        replacement_won = spanish.pk in reviewer_ids(reviewed)
        assert bulk_won != replacement_won, f"round {n}"
        assigned, refused, gone_on = outcomes[0].result
        if bulk_won:
            assert (assigned, refused, gone_on) == (1, [], 1)
            # The replacement found nobody: a coordinator is asked to find one.
            open_task(reviewed, NominationFlow.find_replacement)
            assert reviewed.events.filter(
                action=NominationEvent.Action.NO_REVIEWER_AVAILABLE
            ).exists()
        else:
            assert (assigned, refused, gone_on) == (
                0,
                [f"“{short.title}”: a chosen reviewer {FULL}."],
                0,
            ), f"round {n}"
            open_task(short, NominationFlow.find_reviewers)

    assert overlapping_rounds >= ROUNDS // 2
