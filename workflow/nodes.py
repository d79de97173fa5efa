"""Flow nodes that viewflow's open-source edition does not ship."""

from django.shortcuts import redirect
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.split import SplitActivation


class DynamicSplitActivation(SplitActivation):
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


class DynamicSplit(flow.Split):
    """A parallel split whose number of branches is decided when it runs.

    viewflow 2.4's ``Split.Next`` takes no ``data_source``; this one does. Each
    item the source returns becomes the ``task.data`` of its own parallel task,
    with its own split token, so a ``Join`` downstream waits for all of them.
    """

    activation_class = DynamicSplitActivation

    def Next(self, node, case=None, data_source=None):
        self._activate_next.append((node, case, data_source))
        return self


def our_task_page(request, task_pk, **kwargs):
    """Human tasks are done on Nomflow's own pages; viewflow's URLs forward there."""
    return redirect("workflow:task", task_pk=task_pk)
