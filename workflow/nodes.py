"""Flow nodes of Nomflow's own: human tasks saved once, and steps routed without a row.

viewflow writes a task row, a link row and an UPDATE (with savepoints) for every
node a process passes, gateways and functions included. Most of Nomflow's nodes
need no person: they decide where to go next, or call a service, inside the step
of the person whose task just ended. Those nodes here are *routed*: they run in
memory, in the same transaction and under the same process lock as that task,
and leave no row. The task they followed (their *anchor*, always a human task of
the same process) records their names in ``task.data["passed"]`` when it is saved,
so the flow chart and the list of steps (``workflow.selectors.steps_of_process``)
still show every node the process went through.

The rules that keep this within viewflow's extension points, without patching it:

- A routed node's task is a ``Task`` never saved; its activation hashes by identity.
- A human task created after routed nodes is linked (``Task.previous``) to their
  anchor, the last task that has a row.
- ``RoutedJoin`` goes on when no other task of its split is still open, read under
  the process lock every human step holds; it has no row to find or lock.
- Routed nodes let exceptions through: the whole step is rolled back, so a failure
  leaves the process as it was before the person acted (there is no error row to
  revive, and no savepoint to pay for).
- Routed nodes send no viewflow task signals (Nomflow listens to none).
"""

from django.db import connection
from django.shortcuts import redirect
from django.utils.timezone import now
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.end import EndActivation
from viewflow.workflow.nodes.func import FunctionActivation
from viewflow.workflow.nodes.if_gate import IfActivation
from viewflow.workflow.nodes.join import JoinActivation
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.nodes.start import StartHandleActivation
from viewflow.workflow.nodes.switch import SwitchActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.signals import flow_finished, flow_started, task_finished, task_started
from viewflow.workflow.status import PROCESS, STATUS
from viewflow.workflow.token import Token

#: The key of a task's data listing the routed nodes passed after it, in order.
PASSED = "passed"


def _anchor_of(prev_activation):
    """The activation of the last task with a row on the way to ``prev_activation``."""
    return getattr(prev_activation, "anchor", None) or prev_activation


def _routed_create(cls, flow_task, prev_activation, token, data=None, seed=None):
    anchor = _anchor_of(prev_activation)
    if not isinstance(anchor, HumanTaskActivation):
        raise FlowRuntimeError(
            f"{flow_task.name} is routed without a row, so it must follow a human task "
            f"(it follows {prev_activation.flow_task.name})"
        )
    task = flow_task.flow_class.task_class(
        process=prev_activation.process, flow_task=flow_task, token=token
    )
    task.flow_task_type = flow_task.task_type
    task.data = data if data is not None else {}
    task.seed = seed
    activation = cls(task)
    activation.anchor = anchor
    return activation


class RoutedActivation:
    """Shared behaviour of the activations of routed nodes (see the module's docstring).

    A mixin, not an ``Activation``: each routed activation's transitions are those of
    the viewflow activation it extends (a join's ``complete`` waits for its branches).
    """

    anchor = None

    create = classmethod(_routed_create)

    # An unsaved task has no primary key to hash by; viewflow keeps activations in sets.
    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def record_passed(self):
        """Record this node on its anchor: the anchor's save writes it."""
        self.task.finished = now()
        self.anchor.passed.append(self.flow_task.name)


class RoutedFunctionActivation(RoutedActivation, FunctionActivation):
    @Activation.status.super()
    def activate(self):
        self.task.started = now()
        self.flow_task._func(self)

    @Activation.status.super()
    def complete(self):
        self.record_passed()


class RoutedIfActivation(RoutedActivation, IfActivation):
    @Activation.status.super()
    def activate(self):
        self._condition_result = self.flow_task._condition(self)

    @Activation.status.super()
    def complete(self):
        self.record_passed()


class RoutedSwitchActivation(RoutedActivation, SwitchActivation):
    @Activation.status.super()
    def activate(self):
        for node, cond in self.flow_task._branches:
            if cond is None or cond(self):
                self.next_task = node
                break
        if not self.next_task:
            raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")

    @Activation.status.super()
    def complete(self):
        self.record_passed()


class DynamicSplitActivation(RoutedActivation, SplitActivation):
    @Activation.status.super()
    def activate(self):
        """Open one branch per item of each branch's data source."""
        for node, cond, data_source in self.flow_task._branches:
            if cond and not cond(self):
                continue
            if data_source is None:
                self.next_tasks.append((node, None))
            else:
                self.next_tasks.extend((node, item) for item in data_source(self))

        if not self.next_tasks:
            raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")

    @Activation.status.super()
    def complete(self):
        self.record_passed()

    @Activation.status.super()
    def create_next(self):
        """Each branch gets its own split token; the anchor's id makes the split's unique."""
        tokens = Token.split_token_source(self.task.token, self.anchor.task.pk)
        for node, data in self.next_tasks:
            yield node._create(prev_activation=self, token=next(tokens), data=data)


class RoutedJoinActivation(RoutedActivation, JoinActivation):
    """A join without a row: it goes on when the branch arriving is the split's last open one.

    Every human step holds the process lock (``SelectForUpdateLock(nowait=False)``), so
    of branches finishing at the same moment each sees the others' tasks as they were
    committed: exactly one finds none still open, and only that one goes on.
    """

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        activation = _routed_create(cls, flow_task, prev_activation, token, data, seed)
        activation.branch_token = token
        if token.is_split_token():
            activation.task.token = token.get_base_split_token()
        return activation

    @Activation.status.super()
    def activate(self):
        self.task.started = now()

    _done = None

    def is_done(self):
        """Whether no other branch of the split is open; asked twice, read once."""
        if self._done is None:
            self._done = self._no_branch_open()
        return self._done

    def _no_branch_open(self):
        if not self.branch_token.is_split_token():
            return True
        split_prefix = f"{self.branch_token.token.rsplit('_', 1)[0]}_"
        open_branches = (
            self.flow_class.task_class._default_manager.filter(
                process=self.process, token__startswith=split_prefix
            )
            .exclude(status__in=[STATUS.DONE, STATUS.CANCELED, STATUS.REVIVED])
            .exclude(pk=self.anchor.task.pk)
        )
        return not open_branches.exists()

    @Activation.status.super()
    def complete(self):
        self.record_passed()


class RoutedEndActivation(RoutedActivation, EndActivation):
    @Activation.status.super()
    def activate(self):
        """Finish the process unless another task of it is still open."""
        self.task.started = now()
        # Tasks run in parallel only on the branches of a split, whose tokens say so: a
        # process reaching its end from a task of no split has nothing else open.
        others_open = self.anchor.task.token.is_split_token() and (
            self.flow_class.task_class._default_manager.filter(
                process=self.process, finished__isnull=True
            )
            .exclude(pk=self.anchor.task.pk)
            .exists()
        )
        if not others_open:
            self.process.status = PROCESS.DONE
            self.process.finished = now()
            # The table holding the columns: a process subclass's own manager would first
            # read its ids from the subclass table.
            process_table = self.process._meta.get_field("status").model
            process_table._default_manager.filter(pk=self.process.pk).update(
                status=self.process.status, finished=self.process.finished
            )
            flow_finished.send(sender=self.flow_class, process=self.process, task=self.task)

    @Activation.status.super()
    def complete(self):
        self.record_passed()


class RoutedFunction(flow.Function):
    """``flow.Function``, routed without a row."""

    activation_class = RoutedFunctionActivation


class RoutedIf(flow.If):
    """``flow.If``, routed without a row."""

    activation_class = RoutedIfActivation


class RoutedSwitch(flow.Switch):
    """``flow.Switch``, routed without a row."""

    activation_class = RoutedSwitchActivation


class RoutedJoin(flow.Join):
    """``flow.Join`` (wait for every branch), routed without a row."""

    activation_class = RoutedJoinActivation

    def __init__(self, **kwargs):
        # Going on with some branches still open would need their tasks cancelled,
        # which the routed join does not do.
        super().__init__(continue_on_condition=None, **kwargs)


class RoutedEnd(flow.End):
    """``flow.End``, routed without a row."""

    activation_class = RoutedEndActivation


class DynamicSplit(flow.Split):
    """A parallel split whose number of branches is decided when it runs; routed without a row.

    viewflow 2.4's ``Split.Next`` takes no ``data_source``; this one does. Each
    item the source returns becomes the ``task.data`` of its own parallel task,
    with its own split token, so a join downstream waits for all of them.
    """

    activation_class = DynamicSplitActivation

    def Next(self, node, case=None, data_source=None):
        self._activate_next.append((node, case, data_source))
        return self


class HumanTaskActivation(ViewActivation):
    """A person's task, written once when created and once when done.

    When created, its owner, its due moment and its links are set before its
    INSERT (viewflow saves the task, then the deadline was an UPDATE). When done
    (``execute``), the routed nodes that follow run first and the task is saved
    after them, with their names in ``data["passed"]``: one UPDATE for the task
    and every gateway and function it leads through.
    """

    def __init__(self, task):
        super().__init__(task)
        self.passed = []
        #: Tasks created after this one in its step, linked to it in one INSERT.
        self.links = []
        self._save_after_routing = False

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        task = flow_task.flow_class.task_class(
            process=prev_activation.process, flow_task=flow_task, token=token
        )
        task.data = data if data is not None else {}
        task.seed = seed
        activation = cls(task)

        owner_permission = flow_task.calc_owner_permission(activation)
        if owner_permission:
            task.owner_permission = owner_permission
            task.owner_permission_obj = flow_task.calc_owner_permission_obj(activation)
        owner = flow_task.calc_owner(activation)
        if owner:
            task.owner = owner
            task.status = STATUS.ASSIGNED
        if flow_task._due is not None:
            task.scheduled = flow_task._due(activation)

        task.save()
        anchor = _anchor_of(prev_activation)
        if isinstance(anchor, HumanTaskActivation) and anchor._save_after_routing:
            anchor.links.append(task)  # written together once the routing is over
        else:
            task.previous.add(anchor.task)
        if flow_task._on_create is not None:
            flow_task._on_create(activation)
        return activation

    def take(self, user):
        """``assign`` without its own save, for a task about to be done in the same step."""
        if self.task.status != STATUS.NEW:
            raise FlowRuntimeError(f"{self.task} is not free to take")
        self.task.owner = user
        self.task.status = STATUS.ASSIGNED

    @ViewActivation.status.super()
    def complete(self):
        if not self._save_after_routing:
            return super().complete.original()
        self.task.finished = now()
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)

    @ViewActivation.status.super()
    def execute(self):
        self._save_after_routing = True
        try:
            self.complete()
            self.activate_next()
        finally:
            self._save_after_routing = False
        if self.links:
            link = self.task.__class__.previous.through
            link.objects.bulk_create(
                [link(from_task_id=task.pk, to_task_id=self.task.pk) for task in self.links]
            )
        if self.passed:
            self.task.data = {
                **self.task.data,
                PASSED: [*self.task.data.get(PASSED, []), *self.passed],
            }
        self.task.save()


class StartInTransactionActivation(StartHandleActivation):
    @Activation.status.super()
    def execute(self):
        """Start the process inside the caller's transaction, without savepoints or a lock.

        viewflow wraps the start in a savepoint and locks the new process row in another;
        nobody else can see a row this transaction has just inserted, and a failure rolls
        back the caller's whole step, so both are left out.
        """
        if not connection.in_atomic_block:
            raise FlowRuntimeError(f"{self.flow_task.name} runs inside the caller's transaction")
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.process.save()
        self.complete()
        flow_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.activate_next()


class StartInTransaction(flow.StartHandle):
    """``flow.StartHandle`` run inside the caller's transaction (see its activation)."""

    activation_class = StartInTransactionActivation


class HumanTask(flow.View):
    """A person's task (``flow.View``), saved once when created and once when done.

    ``.Due(callable)`` gives the moment it is due, set before its first save.
    """

    activation_class = HumanTaskActivation

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._due = None

    def Due(self, ref):
        self._due = ref
        return self

    def _resolve(self, instance):
        super()._resolve(instance)
        self._due = this.resolve(instance, self._due)


def our_task_page(request, task_pk, **kwargs):
    """Human tasks are done on Nomflow's own pages; viewflow's URLs forward there."""
    return redirect("workflow:task", task_pk=task_pk)
