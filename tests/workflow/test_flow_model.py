"""The flow's invariants, held under any sequence of right and wrong people's actions.

A hypothesis state machine drives one call with two nominations through the real
services, as the nominator, coordinators, reviewers (one from the Swedish
nomination's own country), two leads and a stranger, and checks the rules of
docs/architecture.md after every step. Each example runs in a savepoint of the
test's transaction and is rolled back at its end.
"""

import sys
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from viewflow.workflow.models import Task

from nominations.models import NominationEvent, SelectionDecision, SelectionProposal
from nominations.services import NominationError
from reviewers.models import Review
from reviewers.selectors import HELD_STATUSES
from workflow.deadlines import OPEN_TASK_STATUSES
from workflow.flows import NominationFlow
from workflow.selectors import can_act_on_task
from workflow.services import (
    ScreeningDecision,
    TaskUnavailable,
    nomination_resubmit,
    nomination_screen,
    nomination_submit,
    review_decline,
    review_remove,
    review_submit,
    reviewers_assign_in_bulk,
    reviewers_go_on,
    selection_confirm,
    selection_decide,
    selection_finalise,
    selection_propose,
    selection_return,
)

from ..factories import (
    CallFactory,
    CountryFactory,
    CriterionFactory,
    NominationFactory,
    ReviewerFactory,
    ThemeFactory,
    UserFactory,
)
from .helpers import full_scores

pytestmark = [pytest.mark.integration]

OUR_ERRORS = (NominationError, TaskUnavailable, PermissionDenied)
HUMAN_NODES = (
    NominationFlow.screen,
    NominationFlow.revise,
    NominationFlow.find_reviewers,
    NominationFlow.review,
    NominationFlow.find_replacement,
    NominationFlow.select,
)
#: The human steps a nomination may have open in each stage (none where it is empty).
OPEN_NODES_BY_STAGE = {
    "draft": set(),
    "screening": {NominationFlow.screen},
    "changes_requested": {NominationFlow.revise},
    "review": {
        NominationFlow.review,
        NominationFlow.find_reviewers,
        NominationFlow.find_replacement,
    },
    "selection": {NominationFlow.select},
    "rejected": set(),
    "decided": set(),
}
PEOPLE = [
    "nominator",
    "coordinator_se",
    "coordinator_fr",
    "reviewer_fr",
    "reviewer_lv",
    "reviewer_es",
    "reviewer_se",
    "lead",
    "second_lead",
    "stranger",
]
#: Who may act on an open task, the likeliest first.
ACTORS = [
    "coordinator_se",
    "coordinator_fr",
    "lead",
    "second_lead",
    "nominator",
    "reviewer_fr",
    "reviewer_lv",
    "reviewer_es",
    "reviewer_se",
]
OUTCOMES = [o for o, _label in SelectionDecision.Outcome.choices]

#: None stands for the person the action is meant for; the others are anyone at all.
people = st.one_of(st.none(), st.none(), st.sampled_from(PEOPLE))
nominations = st.integers(min_value=0, max_value=1)
picks = st.integers(min_value=0, max_value=3)


def reached(*nodes):
    """A rule's precondition: some nomination has (or had) a task of one of ``nodes``."""
    return precondition(lambda self: any(set(nodes) & seen for seen in self.nodes_seen))


class NominationFlowMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.ready = False
        self.nodes_seen = [set(), set()]
        self.steps = 0

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)
        NominationFlowMachine.examples += 1
        NominationFlowMachine.total_steps += self.steps

    examples = 0
    total_steps = 0
    succeeded = Counter()

    # --- the world ------------------------------------------------------------------

    @initialize(two_leads=st.booleans(), bulk=st.booleans())
    def setup(self, two_leads, bulk):
        countries = {code: CountryFactory(code=code) for code in ["ES", "FR", "LV", "SE"]}
        theme = ThemeFactory(name="Spatial segregation")
        self.call = CallFactory(require_two_leads=two_leads, assign_in_bulk=bulk)
        self.call.themes.add(theme)
        for title in ["Innovation", "Impact"]:
            CriterionFactory(call=self.call, title=title)
        self.people = {name: UserFactory(username=name) for name in PEOPLE if "_" not in name}
        for code in ["SE", "FR"]:
            coordinator = UserFactory(username=f"coordinator_{code.lower()}")
            countries[code].coordinators.add(coordinator)
            self.people[f"coordinator_{code.lower()}"] = coordinator
        for code in ["FR", "LV", "ES", "SE"]:
            self.people[f"reviewer_{code.lower()}"] = ReviewerFactory(
                username=f"reviewer_{code.lower()}",
                reviewer_profile__country=countries[code],
                reviewer_profile__expertise=[theme],
            )
        self.people["second_lead"] = UserFactory(username="second_lead")
        self.call.leads.add(self.people["lead"], self.people["second_lead"])
        self.nominations = [
            NominationFactory(
                call=self.call,
                nominator=self.people["nominator"],
                country=countries[code],
                themes=[theme],
            )
            for code in ["SE", "FR"]
        ]
        self.finalised_state = None
        self.nodes_seen = [set(), set()]
        self.ready = True

    # --- acting -----------------------------------------------------------------------

    def snapshot(self):
        self.call.refresh_from_db()
        state = [self.call.selection_finalised_at, self.call.closes_at]
        for nomination in self.nominations:
            nomination.refresh_from_db()
            state.append(
                (
                    nomination.stage,
                    sorted(
                        Review.objects.filter(nomination=nomination).values_list("pk", "status")
                    ),
                    list(SelectionDecision.objects.filter(nomination=nomination).values_list("pk")),
                    list(
                        SelectionProposal.objects.filter(nomination=nomination).values_list(
                            "version", "proposed_by"
                        )
                    ),
                    nomination.events.count(),
                    sorted(
                        Task.objects.filter(
                            process__nominationprocess__nomination=nomination
                        ).values_list("pk", "status")
                    ),
                )
            )
        return state

    def people_events(self):
        return NominationEvent.objects.exclude(actor_role=NominationEvent.Role.SYSTEM).count()

    def attempt(self, action, *, one_event=True):
        """Run ``action``; a refusal must be one of ours and change nothing."""
        self.steps += 1
        before, events_before = self.snapshot(), self.people_events()
        try:
            action()
        except OUR_ERRORS:
            assert self.snapshot() == before
            return False
        if one_event:
            assert self.people_events() == events_before + 1
        NominationFlowMachine.succeeded[sys._getframe(1).f_code.co_name] += 1
        return True

    def person(self, who, right):
        return self.people[who if who is not None else right]

    def coordinator(self, index):
        return "coordinator_se" if index == 0 else "coordinator_fr"

    def other_lead(self, index):
        proposal = SelectionProposal.objects.filter(nomination=self.nominations[index]).first()
        if proposal is not None and proposal.proposed_by == self.people["lead"]:
            return "second_lead"
        return "lead"

    def task(self, index, node, pick=0):
        """An open task of ``node`` on the nomination, else its latest (done) one, or None."""
        tasks = Task.objects.filter(
            process__nominationprocess__nomination=self.nominations[index], flow_task=node
        ).order_by("pk")
        open_ = [t for t in tasks if t.status in OPEN_TASK_STATUSES]
        if open_:
            return open_[pick % len(open_)]
        return tasks.last()

    @rule(
        index=nominations,
        times=st.integers(min_value=1, max_value=8),
        decision=st.sampled_from(
            [ScreeningDecision.ACCEPT] * 3
            + [ScreeningDecision.REQUEST_CHANGES, ScreeningDecision.REJECT]
        ),
        decline=st.booleans(),
        outcome=st.sampled_from(OUTCOMES),
    )
    def advance(self, index, times, decision, decline, outcome):
        """The people meant to act take the next steps, so that sequences reach selection."""
        for _ in range(times):
            self.next_step(index, decision, decline, outcome)

    def next_step(self, index, decision, decline, outcome):
        nomination = self.nominations[index]
        nomination.refresh_from_db()
        stage = nomination.stage
        if stage == "draft":
            return self.submit(index, None)
        if stage == "screening":
            return self.screen(index, None, decision)
        if stage == "changes_requested":
            return self.revise(index, None)
        if stage == "selection":
            if not self.call.require_two_leads:
                return self.decide(index, None, outcome)
            if SelectionProposal.objects.filter(nomination=nomination).exists():
                return self.confirm(index, None, False)
            return self.propose(index, None, outcome)
        if stage in ("decided", "rejected"):
            self.close_call()
            return self.finalise(None)
        for node in (NominationFlow.review, NominationFlow.find_replacement):
            task = self.task(index, node)
            if task is None or task.status not in OPEN_TASK_STATUSES:
                continue
            if node == NominationFlow.review:
                return (self.review_decline if decline else self.review_submit)(index, None, 0)
            return self.go_on(index, None, True)
        if self.call.assign_in_bulk:
            foreign = [name for name in PEOPLE[3:7] if not name.endswith(("se", "fr")[index])]
            return self.assign_in_bulk(index, None, foreign[:2], foreign[2:])
        return self.go_on(index, None, False)

    @rule(index=nominations, who=people)
    def submit(self, index, who):
        nomination = self.nominations[index]
        self.attempt(
            lambda: nomination_submit(nomination=nomination, by=self.person(who, "nominator"))
        )

    @reached(NominationFlow.screen)
    @rule(
        index=nominations,
        who=people,
        decision=st.sampled_from(
            [ScreeningDecision.ACCEPT, ScreeningDecision.REQUEST_CHANGES, ScreeningDecision.REJECT]
        ),
    )
    def screen(self, index, who, decision):
        task = self.task(index, NominationFlow.screen)
        if task is not None:
            self.attempt(
                lambda: nomination_screen(
                    task_id=task.pk,
                    by=self.person(who, self.coordinator(index)),
                    decision=decision,
                    message="Because.",
                )
            )

    @reached(NominationFlow.revise)
    @rule(index=nominations, who=people)
    def revise(self, index, who):
        task = self.task(index, NominationFlow.revise)
        if task is not None:
            self.attempt(
                lambda: nomination_resubmit(task_id=task.pk, by=self.person(who, "nominator"))
            )

    @reached(NominationFlow.review)
    @rule(index=nominations, who=people, pick=picks)
    def review_submit(self, index, who, pick):
        task = self.task(index, NominationFlow.review, pick)
        if task is not None:
            self.attempt(
                lambda: review_submit(
                    task_id=task.pk,
                    by=self.people[who] if who else task.owner,
                    scores=full_scores(self.call),
                    comment="Fine.",
                )
            )

    @reached(NominationFlow.review)
    @rule(index=nominations, who=people, pick=picks)
    def review_decline(self, index, who, pick):
        task = self.task(index, NominationFlow.review, pick)
        if task is not None:
            self.attempt(
                lambda: review_decline(
                    task_id=task.pk, by=self.people[who] if who else task.owner, reason="Busy."
                )
            )

    @reached(NominationFlow.review)
    @rule(index=nominations, who=people, pick=picks)
    def remove_reviewer(self, index, who, pick):
        task = self.task(index, NominationFlow.review, pick)
        if task is not None:
            self.attempt(
                lambda: review_remove(
                    task_id=task.pk,
                    by=self.person(who, self.coordinator(index)),
                    reason="Conflict.",
                )
            )

    @reached(NominationFlow.find_reviewers, NominationFlow.find_replacement)
    @rule(index=nominations, who=people, replacement=st.booleans())
    def go_on(self, index, who, replacement):
        node = NominationFlow.find_replacement if replacement else NominationFlow.find_reviewers
        task = self.task(index, node)
        if task is not None:
            self.attempt(
                lambda: reviewers_go_on(
                    task_id=task.pk, by=self.person(who, self.coordinator(index)), note="Ok."
                )
            )

    @reached(NominationFlow.find_reviewers)
    @rule(
        index=nominations,
        who=people,
        kept=st.lists(st.sampled_from(PEOPLE[3:7]), max_size=3, unique=True),
        added=st.lists(st.sampled_from(PEOPLE[3:7]), max_size=3, unique=True),
    )
    def assign_in_bulk(self, index, who, kept, added):
        task = self.task(index, NominationFlow.find_reviewers)
        if task is not None:
            self.attempt(
                lambda: reviewers_assign_in_bulk(
                    by=self.person(who, self.coordinator(index)),
                    pairs=[(task.pk, self.people[name].pk) for name in kept],
                    additions=[(task.pk, self.people[name].pk) for name in added],
                    confirmed=True,
                ),
                one_event=False,
            )

    @reached(NominationFlow.select)
    @rule(index=nominations, who=people, outcome=st.sampled_from(OUTCOMES))
    def decide(self, index, who, outcome):
        task = self.task(index, NominationFlow.select)
        if task is not None:
            self.attempt(
                lambda: selection_decide(
                    task_id=task.pk, by=self.person(who, "lead"), outcome=outcome, rationale="Why."
                )
            )

    @reached(NominationFlow.select)
    @rule(index=nominations, who=people, outcome=st.sampled_from(OUTCOMES))
    def propose(self, index, who, outcome):
        task = self.task(index, NominationFlow.select)
        if task is not None:
            self.attempt(
                lambda: selection_propose(
                    task_id=task.pk,
                    by=self.person(who, self.other_lead(index)),
                    outcome=outcome,
                    rationale="Why.",
                )
            )

    def _version(self, index, stale):
        proposal = SelectionProposal.objects.filter(nomination=self.nominations[index]).first()
        version = proposal.version if proposal else 1
        return version - 1 if stale else version

    @reached(NominationFlow.select)
    @rule(index=nominations, who=people, stale=st.booleans())
    def confirm(self, index, who, stale):
        task = self.task(index, NominationFlow.select)
        if task is not None:
            version = self._version(index, stale)
            self.attempt(
                lambda: selection_confirm(
                    task_id=task.pk, by=self.person(who, self.other_lead(index)), version=version
                )
            )

    @reached(NominationFlow.select)
    @rule(index=nominations, who=people, stale=st.booleans())
    def send_back(self, index, who, stale):
        task = self.task(index, NominationFlow.select)
        if task is not None:
            version = self._version(index, stale)
            self.attempt(
                lambda: selection_return(
                    task_id=task.pk,
                    by=self.person(who, self.other_lead(index)),
                    version=version,
                    note="Not yet.",
                )
            )

    @rule()
    def close_call(self):
        """The call's closing date passes (an admin's change, not a person's action)."""
        self.call.refresh_from_db()
        self.call.closes_at = timezone.now() - timedelta(minutes=1)
        self.call.save(update_fields=["closes_at"])

    @rule(who=people)
    def finalise(self, who):
        done = self.attempt(
            lambda: selection_finalise(call=self.call, by=self.person(who, "lead")), one_event=False
        )
        if done:
            self.finalised_state = self.snapshot()[2:]

    # --- what always holds ---------------------------------------------------------------

    @invariant()
    def the_rules_hold(self):
        if not self.ready:
            return
        self.call.refresh_from_db()
        for index, nomination in enumerate(self.nominations):
            nomination.refresh_from_db()
            tasks = list(
                Task.objects.filter(process__nominationprocess__nomination=nomination).order_by(
                    "pk"
                )
            )
            self.nodes_seen[index] = {task.flow_task for task in tasks}
            self.stage_agrees_with_open_tasks(nomination, tasks)
            self.reviews_keep_the_hard_rules_and_the_wanted_number(nomination)
            self.join_and_selection_happen_once_with_four_eyes(nomination, tasks)
        if self.finalised_state is not None:  # nothing changes after finalising
            assert self.snapshot()[2:] == self.finalised_state

    def stage_agrees_with_open_tasks(self, nomination, tasks):
        open_ = [t for t in tasks if t.flow_task in HUMAN_NODES and t.status in OPEN_TASK_STATUSES]
        allowed = OPEN_NODES_BY_STAGE[nomination.stage]
        assert {task.flow_task for task in open_} <= allowed, nomination.stage
        if allowed:  # no process stuck: a stage that waits for someone has a task
            assert open_, nomination.stage
        for task in open_:  # and someone may act on each
            assert any(can_act_on_task(user=self.people[name], task=task) for name in ACTORS), (
                task.flow_task
            )

    def reviews_keep_the_hard_rules_and_the_wanted_number(self, nomination):
        reviews = list(
            Review.objects.filter(nomination=nomination).values_list(
                "reviewer_id", "reviewer__reviewer_profile__country", "status"
            )
        )
        assert all(country != nomination.country_id for _r, country, _s in reviews)
        held = [reviewer for reviewer, _c, status in reviews if status in HELD_STATUSES]
        assert len(held) <= self.call.reviewers_per_nomination
        assert len(set(held)) == len(held)

    def join_and_selection_happen_once_with_four_eyes(self, nomination, tasks):
        nodes = [task.flow_task for task in tasks]
        assert nodes.count(NominationFlow.close_review) <= 1
        assert nodes.count(NominationFlow.select) <= 1
        decision = SelectionDecision.objects.filter(nomination=nomination).first()
        if decision is not None:
            assert nomination.stage == "decided"
            assert decision.confirmed_by_id != decision.decided_by_id
            assert (decision.confirmed_by_id is not None) == self.call.require_two_leads
        if SelectionProposal.objects.filter(nomination=nomination).exists():
            assert self.call.require_two_leads
            assert nomination.stage == "selection"


def test_the_flow_keeps_its_rules_under_any_sequence_of_actions(db):
    NominationFlowMachine.examples = NominationFlowMachine.total_steps = 0
    NominationFlowMachine.succeeded = Counter()
    run_state_machine_as_test(
        NominationFlowMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=15,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    print(  # the figures the closing note quotes
        f"{NominationFlowMachine.examples} examples, {NominationFlowMachine.total_steps} actions;"
        f" succeeded: {dict(NominationFlowMachine.succeeded)}"
    )
