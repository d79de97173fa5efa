"""Who is told, reminded and escalated to for every human step, held or not.

The expected people are written out here from the rules in docs/architecture.md
("Who acts on each step"), not read from ``workflow.actors``: this file pins the
table, so that the inbox, the flow's notifications and the reminder sweep cannot drift
from it or from each other.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from notifications.models import Message
from workflow.deadlines import OPEN_TASK_STATUSES
from workflow.flows import NominationFlow
from workflow.reminders import reminders_send
from workflow.selectors import can_act_on_task, open_tasks_for
from workflow.services import (
    ScreeningDecision,
    nomination_screen,
    nomination_submit,
    review_decline,
    review_submit,
)

from ..factories import UserFactory
from ..workflow.helpers import full_scores, open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
GRACE = 3 * DAY  # Call.escalation_grace_days' default

COORDINATORS = {"coordinator-se", "coordinator-se-2"}
LEADS = {"lead", "lead-2"}
ADMINS = {"admin"}


@pytest.fixture
def people(call, countries, coordinator, lead, reviewers, nominator):
    """Everyone who could be told anything, and some who never should be."""
    second_coordinator = UserFactory(username="coordinator-se-2")
    countries["SE"].coordinators.add(second_coordinator)
    countries["FR"].coordinators.add(UserFactory(username="coordinator-fr"))
    call.leads.add(UserFactory(username="lead-2"))
    UserFactory(username="admin", is_superuser=True, is_staff=True)
    UserFactory(username="bystander")
    return {user.username: user for user in type(coordinator).objects.all()}


def _submit(draft):
    nomination_submit(nomination=draft, by=draft.nominator)
    return open_task(draft, NominationFlow.screen)


def _accept(draft, people):
    _submit(draft)
    nomination_screen(
        task_id=open_task(draft, NominationFlow.screen).pk,
        by=people["coordinator-se"],
        decision=ScreeningDecision.ACCEPT,
    )


def _reviewers(call, count):
    call.reviewers_per_nomination = count
    call.save(update_fields=["reviewers_per_nomination"])


def screen(draft, call, people):
    return _submit(draft)


def revise(draft, call, people):
    _submit(draft)
    nomination_screen(
        task_id=open_task(draft, NominationFlow.screen).pk,
        by=people["coordinator-se"],
        decision=ScreeningDecision.REQUEST_CHANGES,
        message="Please add the results of 2023.",
    )
    return open_task(draft, NominationFlow.revise)


def find_reviewers(draft, call, people):
    call.assign_in_bulk = True
    call.save(update_fields=["assign_in_bulk"])
    _accept(draft, people)
    return open_task(draft, NominationFlow.find_reviewers)


def find_replacement(draft, call, people):
    _reviewers(call, 3)  # every reviewer there is: a decline leaves nobody to replace them
    _accept(draft, people)
    declined = open_tasks(draft, NominationFlow.review)[0]
    review_decline(task_id=declined.pk, by=declined.owner, reason="A conflict of interest.")
    return open_task(draft, NominationFlow.find_replacement)


def review(draft, call, people):
    _reviewers(call, 1)
    _accept(draft, people)
    return open_task(draft, NominationFlow.review)


def select(draft, call, people):
    _reviewers(call, 1)
    _accept(draft, people)
    task = open_task(draft, NominationFlow.review)
    review_submit(task_id=task.pk, by=task.owner, scores=full_scores(call), comment="Strong.")
    return open_task(draft, NominationFlow.select)


STEPS = {
    "screen": screen,
    "revise": revise,
    "find_reviewers": find_reviewers,
    "find_replacement": find_replacement,
    "review": review,
    "select": select,
}

#: (step, held by) -> (told when created, reminded, escalated to, named as holders,
#: may act). "owner" stands for whoever holds the task: the reviewer of a review, the
#: nominator of their changes, the coordinator or lead who took a pool task; a pool's
#: members may step in for a colleague who took its task.
EXPECTED = {
    ("screen", None): (COORDINATORS, COORDINATORS, LEADS, COORDINATORS, COORDINATORS),
    ("screen", "coordinator-se-2"): (None, {"owner"}, LEADS, {"owner"}, COORDINATORS),
    ("revise", "nominator"): (set(), {"owner"}, COORDINATORS, {"owner"}, {"owner"}),
    ("find_reviewers", None): (COORDINATORS, COORDINATORS, LEADS, COORDINATORS, COORDINATORS),
    ("find_reviewers", "coordinator-se-2"): (None, {"owner"}, LEADS, {"owner"}, COORDINATORS),
    ("find_replacement", None): (
        COORDINATORS,
        COORDINATORS,
        LEADS,
        COORDINATORS,
        COORDINATORS,
    ),
    ("find_replacement", "coordinator-se-2"): (None, {"owner"}, LEADS, {"owner"}, COORDINATORS),
    ("review", "reviewer"): ({"owner"}, {"owner"}, COORDINATORS, {"owner"}, {"owner"}),
    ("select", None): (LEADS, LEADS, ADMINS, LEADS, LEADS),
    ("select", "lead-2"): (None, {"owner"}, ADMINS, {"owner"}, LEADS),
}


def recipients(kind, since_pk):
    return {
        message.recipient.username
        for message in Message.objects.filter(kind=kind, pk__gt=since_pk).select_related(
            "recipient"
        )
    }


def named_holders(since_pk, people):
    by_email = {user.email: name for name, user in people.items()}
    named = set()
    for message in Message.objects.filter(kind=Message.Kind.ESCALATION, pk__gt=since_pk):
        for item in message.context["tasks"]:
            for holder in item["holders"]:
                named.add(by_email[re.search(r"<(.+)>$", holder).group(1)])
    return named


def last_message_pk():
    return Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.parametrize(("step", "held_by"), list(EXPECTED), ids=lambda v: str(v))
def test_who_is_told_reminded_and_escalated_to(step, held_by, draft, call, people):
    before_creation = last_message_pk()
    task = STEPS[step](draft, call, people)
    created_pk = last_message_pk()

    if held_by in ("coordinator-se-2", "lead-2"):  # someone took the pool task
        Task.objects.filter(pk=task.pk).update(owner=people[held_by], status=STATUS.ASSIGNED)
        task.refresh_from_db()
    owner = task.owner.username if task.owner_id else None
    assert (owner or "").startswith(held_by or "")
    assert (owner is None) == (held_by is None)

    def names(expected):
        return {owner if name == "owner" else name for name in expected}

    told, reminded, escalated, holders, may_act = EXPECTED[(step, held_by)]
    if told is not None:
        assigned = {
            message.recipient.username
            for message in Message.objects.filter(
                kind=Message.Kind.TASK_ASSIGNED,
                pk__gt=before_creation,
                pk__lte=created_pk,
                idempotency_key__startswith=f"task:{task.pk}:",
            ).select_related("recipient")
        }
        assert assigned == names(told)

    # Only this task falls due: every other open task is due long after.
    due = (timezone.now() + 90 * DAY).replace(microsecond=0)
    Task.objects.filter(status__in=OPEN_TASK_STATUSES).update(scheduled=due + 60 * DAY)
    Task.objects.filter(pk=task.pk).update(scheduled=due)

    mark = last_message_pk()
    reminders_send(now=due - DAY + HOUR)
    assert recipients(Message.Kind.REMINDER, mark) == names(reminded)
    assert recipients(Message.Kind.ESCALATION, mark) == set()

    mark = last_message_pk()
    reminders_send(now=due + GRACE + HOUR)
    assert recipients(Message.Kind.ESCALATION, mark) == names(escalated)
    assert named_holders(mark, people) == names(holders)

    # Whoever is reminded finds the task in their inbox and may act on it.
    assert {name for name, user in people.items() if task in open_tasks_for(user=user)} == names(
        reminded
    )
    assert {
        name for name, user in people.items() if can_act_on_task(user=user, task=task)
    } == names(may_act)
