"""A nomination's stage moves only as the transition table allows, and each move writes
its history event and tells the nominator, in one place."""

import pytest
from django.contrib.auth.models import AnonymousUser

from nominations.models import Nomination, NominationEvent
from nominations.permissions import (
    coordinates_country,
    is_coordinator,
    leads_call,
    may_coordinate_nomination,
    may_lead_call,
)
from notifications.models import Message
from workflow.transitions import TRANSITIONS, IllegalTransition, nomination_transition

from ..factories import CallFactory, NominationFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

Stage = Nomination.Stage
Role = NominationEvent.Role

# The documented stage diagram (docs/architecture.md), restated: move -> (from, to,
# history event, what the nominator receives).
DOCUMENTED = {
    "submit": ({"draft"}, "screening", "submitted", "submission_received"),
    "resubmit": ({"changes_requested"}, "screening", "resubmitted", "submission_received"),
    "accept": ({"screening"}, "review", "screening_accepted", "accepted_for_review"),
    "request_changes": (
        {"screening"},
        "changes_requested",
        "changes_requested",
        "changes_requested",
    ),
    "reject": ({"screening"}, "rejected", "rejected", "rejected"),
    "reviews_complete": ({"review"}, "selection", "reviews_complete", None),
    "decide": ({"selection"}, "decided", "decided", "decided"),
}


def test_the_table_is_the_documented_one():
    assert {
        move: (set(t.sources), t.target, t.action, t.tells) for move, t in TRANSITIONS.items()
    } == DOCUMENTED


@pytest.mark.parametrize("move", sorted(DOCUMENTED))
@pytest.mark.parametrize("stage", [stage for stage, _label in Stage.choices])
def test_a_move_goes_ahead_only_from_its_stages_and_writes_all_it_should(
    call, countries, move, stage
):
    sources, target, action, tells = DOCUMENTED[move]
    nomination = NominationFactory(call=call, country=countries["SE"], stage=stage)

    if stage not in sources:
        with pytest.raises(IllegalTransition):
            nomination_transition(nomination=nomination, move=move, role=Role.SYSTEM, key="k")
        nomination.refresh_from_db()
        assert nomination.stage == stage
        assert not NominationEvent.objects.filter(nomination=nomination).exists()
        assert not Message.objects.filter(recipient=nomination.nominator).exists()
        return

    nomination_transition(
        nomination=nomination, move=move, role=Role.LEAD, key="k", message="Why", outcome="national"
    )

    nomination.refresh_from_db()
    assert nomination.stage == target
    assert list(
        NominationEvent.objects.filter(nomination=nomination).values_list(
            "action", "message", "outcome"
        )
    ) == [(action, "Why", "national")]
    assert list(Message.objects.filter(recipient=nomination.nominator).values_list("kind")) == (
        [(tells,)] if tells else []
    )


def test_the_same_move_tells_the_nominator_once_for_one_key(call, countries):
    nomination = NominationFactory(call=call, country=countries["SE"], stage=Stage.SCREENING)
    nomination_transition(nomination=nomination, move="request_changes", role=Role.SYSTEM, key="k")
    nomination.stage = Stage.SCREENING
    nomination.save()

    nomination_transition(nomination=nomination, move="request_changes", role=Role.SYSTEM, key="k")

    assert Message.objects.filter(recipient=nomination.nominator).count() == 1


def test_named_permission_checks_answer_for_every_role(call, countries, lead, coordinator):
    other_call = CallFactory()
    nomination = NominationFactory(call=call, country=countries["SE"], stage=Stage.SCREENING)
    admin = UserFactory(username="admin", is_staff=True)
    nobody = UserFactory(username="nobody")
    anonymous = AnonymousUser()

    def answers(user):
        return (
            leads_call(user=user, call=call),
            may_lead_call(user=user, call=call),
            may_lead_call(user=user, call=other_call),
            is_coordinator(user),
            coordinates_country(user=user, country_id=countries["SE"].pk),
            coordinates_country(user=user, country_id=countries["FR"].pk),
            may_coordinate_nomination(user=user, nomination=nomination),
        )

    assert answers(lead) == (True, True, False, False, False, False, False)
    assert answers(coordinator) == (False, False, False, True, True, False, True)
    assert answers(admin) == (False, True, True, False, False, False, True)
    assert answers(nobody) == (False,) * 7
    assert answers(anonymous) == (False,) * 7
