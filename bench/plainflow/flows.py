"""Plain django-viewflow in the shape of a nomination's process, and nothing else.

start -> screen -> split -> review_1 | review_2 | review_3 -> join -> select -> end,
every step a ``Handle`` driven from code, on viewflow's own Process and Task models,
with the lock Nomflow uses. No domain rows, no history, no messages: what the
library alone costs for the same path.
"""

from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.lock import SelectForUpdateLock


class PlainReviewFlow(flow.Flow):
    lock_impl = SelectForUpdateLock(nowait=False)

    start = flow.StartHandle().Next(this.screen)
    screen = flow.Handle().Next(this.split)
    split = flow.Split().Next(this.review_1).Next(this.review_2).Next(this.review_3)
    review_1 = flow.Handle().Next(this.join)
    review_2 = flow.Handle().Next(this.join)
    review_3 = flow.Handle().Next(this.join)
    join = flow.Join().Next(this.select)
    select = flow.Handle().Next(this.end)
    end = flow.End()
