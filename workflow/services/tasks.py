"""Acting on a task: the lock, the checks, and one clear message for the one who came second.

Human actions go through ``human_task``: it takes the process lock, re-reads
the task and checks that it is still open and that the person may act on it.
Of two people acting on one task at once exactly one succeeds; the other gets
a ``TaskUnavailable`` that says who was first.
"""

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from config.compiled import CompiledRead
from nominations.accounts import user_display
from nominations.services import (
    NominationError,
)
from notifications.services import outbox_batch

from ..deadlines import OPEN_TASK_STATUSES
from ..flows import NominationFlow


class TaskUnavailable(Exception):
    """The task was completed or cancelled before this action reached it."""


#: What a step reads with its task: the process, nomination, call, country and nominator.
TASK_CONTEXT = (
    "owner",
    "process__nominationprocess__nomination__call",
    "process__nominationprocess__nomination__country",
    "process__nominationprocess__nomination__nominator",
)

#: The task with its context (``TASK_CONTEXT``), by id: one statement, compiled once.
_task_with_context = CompiledRead(
    lambda task_id: Task.objects.select_related(*TASK_CONTEXT).filter(pk=task_id)
)


def _process_lock_query(task_id, process_id=None):
    # The lock covers every row the statement reads: the process (both tables of it) and
    # the task. That is on purpose: a step that waited for the lock then reads the task's
    # status as the winner left it, so a task finished meanwhile is refused. NO KEY UPDATE
    # still excludes every other step's lock (and viewflow's FOR UPDATE on the process),
    # but not a row that merely refers to the task (a reminder's log entry).
    processes = NominationFlow.process_class._default_manager.filter(task__pk=task_id)
    if process_id is not None:
        processes = processes.filter(pk=process_id)
    return (
        processes.select_for_update(no_key=True)
        .values_list("task__status", "task__finished")
        .order_by("pk")[:1]
    )


_process_lock = CompiledRead(_process_lock_query, model=False)
_process_lock_checked = CompiledRead(_process_lock_query, arity=2, model=False)


def _task_checked(task, *, nodes, user, permitted):
    if task.flow_task not in nodes or not permitted(user=user, task=task):
        raise PermissionDenied
    if task.status not in OPEN_TASK_STATUSES:
        raise TaskUnavailable(task_unavailable_message(task, user=user))
    selection_not_final(task.process.nominationprocess.nomination.call)
    return task


@contextmanager
def open_task_locked(*, task_id, nodes, user, permitted=None):
    """The open task ``task_id`` of one of ``nodes``, under the process lock, for ``user``.

    Raises ``PermissionDenied`` if it is not theirs to act on (``permitted(user=, task=)``,
    by default whether it is their task or their pool's) and ``TaskUnavailable`` if it is
    done or cancelled.
    """
    from ..selectors import can_act_on_task

    permitted = permitted or can_act_on_task
    # The lock's transaction is the step's (no savepoint inside an outer one); the
    # messages of the whole step are written together just before it commits.
    with transaction.atomic(), outbox_batch():
        if _process_lock_of_task(task_id=task_id) is None:
            raise TaskUnavailable(_("This task does not exist any more."))
        # A statement of its own, after the lock: in READ COMMITTED it sees what the
        # transaction that held the lock wrote. Read in the locking statement, the
        # task, nomination and call would be as they were before the wait.
        task = _task_with_context(task_id)
        yield _task_checked(task, nodes=nodes, user=user, permitted=permitted)


def _process_lock_of_task(*, task_id, process_id=None):
    """Lock the process of task ``task_id``; returns its (status, finished), None if gone.

    The row lock that excludes ``NominationFlow.lock`` (viewflow's
    ``SelectForUpdateLock(nowait=False)``: ``SELECT … FOR UPDATE`` on the process row,
    waiting for it), found from the task and taken in the caller's transaction, so a
    step pays one statement for it rather than a read of the process id, a lock and
    a savepoint. The task's row is locked with it (``_process_lock_query``).
    """
    if process_id is None:
        return _process_lock(task_id)
    return _process_lock_checked(task_id, process_id)


def selection_not_final(call):
    """Refuse any step once ``call``'s selection is final: nothing changes after it."""
    if call.selection_finalised_at is not None:
        raise NominationError(
            _("The selection of this call is final; its nominations can no longer change.")
        )


def _task_start(task, user):
    """Start an open task (inside ``open_task_locked``), taking it from its pool if needed.

    The task is completed in the same step, so taking it is not saved on its own: the
    task is written once, done, after the steps it leads to (``HumanTaskActivation``).
    """
    activation = task.flow_task.activation_class(task)
    if task.owner_id is None:
        activation.take(user)
    activation.start(None)
    return activation


def _task_complete(task, user, **data):
    """Finish an open task (inside ``open_task_locked``) and create the next steps."""
    activation = _task_start(task, user)
    activation.task.data = {**(activation.task.data or {}), **data}
    activation.execute()


@contextmanager
def human_task(*, task_id, node, user):
    """Run one person's action on an open task, then move the flow on.

    Yields the task's activation; the caller changes the domain inside the
    block. On leaving it the task is completed and the next steps created,
    all in one transaction under the process lock.
    """
    with open_task_locked(task_id=task_id, nodes=(node,), user=user) as task:
        activation = _task_start(task, user)
        yield activation
        activation.execute()


@contextmanager
def review_task(*, task_id, user, permitted=None):
    """``human_task`` for a review, with the process lock taken only to complete it.

    The review's own writes (the review row, its scores, the history event) touch rows
    of that review alone, so they go first, without holding up the other reviewers of
    the same nomination; then the process row is locked, the task read again (someone
    may have finished it meanwhile: ``TaskUnavailable`` rolls the whole step back), and
    the task completed with what follows it (the join). Three reviewers submitting at
    once wait for each other only for that last part. Every path that locks a review
    row and the process row takes the review first, as the review paths do, so none
    can deadlock another.
    """
    from ..selectors import can_act_on_task

    permitted = permitted or can_act_on_task
    with transaction.atomic(), outbox_batch():
        task = _task_with_context(task_id)
        if task is None:
            raise TaskUnavailable(_("This task does not exist any more."))
        _task_checked(task, nodes=(NominationFlow.review,), user=user, permitted=permitted)
        activation = _task_start(task, user)
        yield activation
        status, finished = _process_lock_of_task(task_id=task_id, process_id=task.process_id)
        if status not in OPEN_TASK_STATUSES:
            task.status, task.finished = status, finished
            raise TaskUnavailable(task_unavailable_message(task, user=user))
        activation.execute()


def task_unavailable_message(task, user=None):
    """Why ``user`` can no longer act on ``task``: who finished it, or what ended it."""
    removed_by = (task.data or {}).get("removed_by")
    if task.status == STATUS.DONE and removed_by:
        # The task's owner is the removed reviewer: "completed by" would name them.
        if user is not None and user.pk == task.owner_id:
            return _("A coordinator removed you from this review before you submitted it.")
        return _("%(name)s removed this reviewer from the review on %(date)s.") % {
            "name": user_display(get_user_model().objects.get(pk=removed_by)),
            "date": timezone.localtime(task.finished).strftime("%Y-%m-%d %H:%M"),
        }
    if task.status == STATUS.DONE and task.owner:
        return _("This task was already completed by %(name)s on %(date)s.") % {
            "name": user_display(task.owner),
            "date": timezone.localtime(task.finished).strftime("%Y-%m-%d %H:%M"),
        }
    return _("This task is no longer open.")
