"""The path of a nomination, from submission to selection.

Each method here is an adapter: the decisions live in the services of the
nominations and reviewers apps, which this flow calls and routes on. The nodes
that need no person (gateways, functions, the join, the ends) are routed without
a row of their own inside the step of the person whose task led to them; that
task records them (``workflow.nodes``).

    submit -> screen -> screening_outcome
                          |-- changes requested -> revise -> screen
                          |-- rejected -> rejected (end)
                          `-- accepted -> assign_reviewers -> reviewers_found
                                 reviewers_found: short -> find_reviewers (coordinators)
                                     -> reviewers_settled: none -> close_review
                                 all (or settled) -> review_split -> review (one per reviewer)
                                     review -> review_outcome
                                        declined -> replace_reviewer -> replacement_found
                                            yes -> review (the replacement)
                                            no  -> replacement_missing
                                                given up -> reviews_done
                                                else -> find_replacement (coordinators)
                                                    -> replacement_found
                                        submitted -> reviews_done
                                 reviews_done (join) -> close_review -> select -> selected (end)
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import SelectForUpdateLock

from nominations.models import Nomination, NominationEvent
from notifications.services import task_assigned_notify
from reviewers.models import Review
from reviewers.selectors import HELD_STATUSES
from reviewers.services import reviews_assign, reviews_replace_declined

from .actors import ACTORS, party_members
from .deadlines import deadline_for
from .models import NominationProcess
from .nodes import (
    DynamicSplit,
    HumanTask,
    RoutedEnd,
    RoutedFunction,
    RoutedIf,
    RoutedJoin,
    RoutedSwitch,
    StartInTransaction,
    our_task_page,
)
from .transitions import nomination_transition


class NominationFlow(flow.Flow):
    process_class = NominationProcess
    process_title = _("Nomination")
    process_description = _("Submission, national screening, peer review and selection.")
    # The default no_lock lets reviewers who submit at the same moment leave
    # stray join tasks. Waiting for the row lock (nowait=False) keeps the
    # worst case in milliseconds where nowait's retry sleeps take seconds.
    lock_impl = SelectForUpdateLock(nowait=False)

    submit = (
        StartInTransaction(this.start_process).Annotation(title=_("Submitted")).Next(this.screen)
    )

    screen = (
        HumanTask(our_task_page)
        .Annotation(title=_("National screening"))
        .Due(this.task_due)
        .onCreate(this.task_created)
        .Next(this.screening_outcome)
    )

    screening_outcome = (
        RoutedSwitch()
        .Annotation(title=_("Screening outcome"))
        .Case(this.assign_reviewers, this.was_accepted)
        .Case(this.revise, this.needs_changes)
        .Default(this.rejected)
    )

    revise = (
        HumanTask(our_task_page)
        .Annotation(title=_("Changes by the nominator"))
        .Assign(this.nominator_of)
        .Due(this.task_due)
        .onCreate(this.task_created)
        .Next(this.screen)
    )

    assign_reviewers = (
        RoutedFunction(this.choose_reviewers)
        .Annotation(title=_("Reviewers chosen"))
        .Next(this.reviewers_found)
    )

    reviewers_found = (
        RoutedIf(this.has_all_reviewers)
        .Annotation(title=_("All reviewers found?"))
        .Then(this.review_split)
        .Else(this.find_reviewers)
    )

    # The matcher found too few valid reviewers (or the call assigns in bulk): the
    # coordinators find more, assign one by hand, or go on with those it has.
    find_reviewers = (
        HumanTask(our_task_page)
        .Annotation(title=_("Reviewers needed"))
        .Due(this.task_due)
        .onCreate(this.task_created)
        .Next(this.reviewers_settled)
    )

    reviewers_settled = (
        RoutedIf(this.has_open_reviews)
        .Annotation(title=_("Any reviewer?"))
        .Then(this.review_split)
        .Else(this.close_review)
    )

    review_split = (
        DynamicSplit()
        .Annotation(title=_("One review per reviewer"))
        .Next(this.review, data_source=this.open_reviews)
    )

    review = (
        HumanTask(our_task_page)
        .Annotation(title=_("Peer review"))
        .Assign(this.reviewer_of)
        .Due(this.task_due)
        .onCreate(this.task_created)
        .Next(this.review_outcome, task_data=this.review_ended)
    )

    review_outcome = (
        RoutedIf(this.was_declined)
        .Annotation(title=_("Declined?"))
        .Then(this.replace_reviewer, task_data=this.same_review)
        .Else(this.reviews_done)
    )

    replace_reviewer = (
        RoutedFunction(this.choose_replacement)
        .Annotation(title=_("Replacement chosen"))
        .Next(this.replacement_found, task_data=this.replacement_review)
    )

    replacement_found = (
        RoutedIf(this.has_review)
        .Annotation(title=_("Replacement found?"))
        .Then(this.review, task_data=this.same_review)
        .Else(this.replacement_missing, task_data=this.same_data)
    )

    replacement_missing = (
        RoutedIf(this.replacement_given_up)
        .Annotation(title=_("Go on without?"))
        .Then(this.reviews_done)
        .Else(this.find_replacement, task_data=this.same_data)
    )

    find_replacement = (
        HumanTask(our_task_page)
        .Annotation(title=_("Replacement needed"))
        .Due(this.task_due)
        .onCreate(this.task_created)
        .Next(this.replacement_found, task_data=this.same_data)
    )

    reviews_done = RoutedJoin().Annotation(title=_("All reviews in")).Next(this.close_review)

    close_review = (
        RoutedFunction(this.finish_review_stage)
        .Annotation(title=_("Peer review complete"))
        .Next(this.select)
    )

    select = (
        HumanTask(our_task_page)
        .Annotation(title=_("Selection"))
        .Due(this.task_due)
        .onCreate(this.task_created)
        .Next(this.selected)
    )

    selected = RoutedEnd().Annotation(title=_("Decided"))
    rejected = RoutedEnd().Annotation(title=_("Not accepted"))

    def start_process(self, activation, nomination):
        activation.process.nomination = nomination
        return activation.process

    def task_due(self, activation):
        """When a new human task is due, set before its first save (``workflow.deadlines``)."""
        call = activation.process.nomination.call
        return deadline_for(
            created=activation.task.created,
            days=getattr(call, ACTORS[activation.flow_task.name].deadline_field),
            time_zone=call.time_zone,
        )

    def task_created(self, activation):
        nomination = activation.process.nomination
        node = activation.flow_task.name
        task_assigned_notify(
            task=activation.task,
            nomination=nomination,
            node=node,
            recipients=self.who_must_act(activation),
        )

    def who_must_act(self, activation):
        """People told about a new task, as ``workflow.actors`` says."""
        task = activation.task
        told = ACTORS[activation.flow_task.name].told(owned=task.owner_id is not None)
        return party_members(told, nomination=activation.process.nomination, owner=task.owner)

    def was_accepted(self, activation):
        return activation.process.nomination.stage == Nomination.Stage.REVIEW

    def needs_changes(self, activation):
        return activation.process.nomination.stage == Nomination.Stage.CHANGES_REQUESTED

    def nominator_of(self, activation):
        return activation.process.nomination.nominator

    def choose_reviewers(self, activation):
        nomination = activation.process.nomination
        if not nomination.call.assign_in_bulk:
            reviews_assign(nomination=nomination)

    def has_all_reviewers(self, activation):
        nomination = activation.process.nomination
        held = list(
            Review.objects.filter(nomination=nomination, status__in=HELD_STATUSES).select_related(
                "reviewer"
            )
        )
        # The split right after reads its open reviews from these (``open_reviews``).
        activation.process.held_reviews_read = held
        return len(held) >= nomination.call.reviewers_per_nomination

    def has_open_reviews(self, activation):
        return bool(self.open_reviews(activation))

    def open_reviews(self, activation):
        held = activation.process.__dict__.pop("held_reviews_read", None)
        if held is not None:
            reviews = [review for review in held if review.status in Review.OPEN_STATUSES]
        else:
            reviews = list(
                Review.objects.filter(
                    nomination=activation.process.nomination, status__in=Review.OPEN_STATUSES
                ).select_related("reviewer")
            )
        # Each review task's owner is its reviewer: read here, with the reviews, rather
        # than once per task (``reviewer_of``). The process object lives for this step.
        activation.process.reviewers_read = {review.pk: review.reviewer for review in reviews}
        return [{"review_id": review.pk} for review in reviews]

    def reviewer_of(self, activation):
        review_id = activation.task.data["review_id"]
        known = getattr(activation.process, "reviewers_read", {})
        if review_id in known:
            return known[review_id]
        return get_user_model().objects.get(reviews__pk=review_id)

    def same_review(self, activation):
        return {"review_id": activation.task.data["review_id"]}

    def review_ended(self, activation):
        """The review, and whether its reviewer declined it (``False`` once submitted)."""
        return {
            "review_id": activation.task.data["review_id"],
            "declined": bool(activation.task.data.get("declined")),
        }

    def was_declined(self, activation):
        if "declined" in activation.task.data:  # said by the step that ended the review
            return activation.task.data["declined"]
        review_id = activation.task.data["review_id"]
        return Review.objects.filter(pk=review_id, status=Review.Status.DECLINED).exists()

    def choose_replacement(self, activation):
        declined = Review.objects.get(pk=activation.task.data["review_id"])
        replacement = reviews_replace_declined(declined=declined)
        activation.task.data["replacement_review_id"] = replacement.pk if replacement else None

    def replacement_review(self, activation):
        return {
            "review_id": activation.task.data["replacement_review_id"],
            "declined_review_id": activation.task.data["review_id"],
        }

    def same_data(self, activation):
        return dict(activation.task.data)

    def has_review(self, activation):
        return activation.task.data.get("review_id") is not None

    def replacement_given_up(self, activation):
        return bool(activation.task.data.get("given_up"))

    def finish_review_stage(self, activation):
        nomination_transition(
            nomination=activation.process.nomination,
            move="reviews_complete",
            role=NominationEvent.Role.SYSTEM,
            key="reviews-complete",
        )
