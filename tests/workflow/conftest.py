"""Fixtures shared by the workflow's test modules."""

import pytest

from workflow.flows import NominationFlow
from workflow.services import reviewers_go_on

from ..factories import NominationFactory
from .helpers import open_task
from .test_reviewer_pages import accepted


@pytest.fixture
def two_in_selection(call, countries, coordinator):
    """Two nominations of the call waiting in selection (Sweden, France): their open tasks."""
    countries["FR"].coordinators.add(coordinator)
    tasks = []
    for code in ("SE", "FR"):
        nomination = accepted(NominationFactory(call=call, country=countries[code]), coordinator)
        reviewers_go_on(
            task_id=open_task(nomination, NominationFlow.find_reviewers).pk,
            by=coordinator,
            note="No reviewer.",
        )
        tasks.append(open_task(nomination, NominationFlow.select))
    return tasks
