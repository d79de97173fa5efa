"""The inbox's query: the same tasks as the actors table says, from the open-task indexes.

``open_tasks_for`` is a UNION of the tasks a person holds and each pool's unowned tasks
in their reach. Here it is compared, for a generated mix of tasks and people, with a
computation that shares nothing with it: for each task, whoever acts on it by
``workflow.actors`` (its owner, or its pool's members while nobody holds it).
"""

import random

import pytest
from django.db import connection
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from nominations.models import Nomination
from workflow import actors
from workflow.flows import NominationFlow
from workflow.models import NominationProcess
from workflow.selectors import open_tasks_for

from ..factories import CallFactory, CountryFactory, NominationFactory, UserFactory

pytestmark = [pytest.mark.django_db]

#: Human steps with pools and without, and a routed step (never in an inbox).
NODES = ["screen", "revise", "find_reviewers", "find_replacement", "review", "select", "submit"]
STATUSES = [STATUS.NEW, STATUS.ASSIGNED, STATUS.DONE, STATUS.CANCELED, STATUS.ERROR]


def _acts_on(person, task, nomination):
    """Whether the actors table puts ``task`` in ``person``'s inbox."""
    if task.status not in {STATUS.NEW, STATUS.ASSIGNED}:
        return False
    rules = actors.ACTORS.get(task.flow_task.name)
    if rules is None:
        return False
    party = rules.acting(owned=task.owner_id is not None)
    members = actors.party_members(party, nomination=nomination, owner=task.owner)
    return person in members


@pytest.fixture
def generated(db):
    """Four countries and three calls, people in several roles at once, 240 tasks.

    Person 5 and 6 hold tasks in no pool; person 7 holds nothing and is in no pool.
    """
    rng = random.Random(14)
    countries = [CountryFactory(code=code) for code in ["ES", "FR", "LV", "SE"]]
    calls = [CallFactory() for _ in range(3)]
    people = [UserFactory(username=f"person{i}") for i in range(8)]
    # Coordinators: one country, two countries, none for Latvia's; leads: one call, two.
    countries[3].coordinators.add(people[0], people[1])
    countries[1].coordinators.add(people[1])
    countries[0].coordinators.add(people[2])
    calls[0].leads.add(people[3])
    calls[1].leads.add(people[3], people[4])
    calls[2].leads.add(people[1])  # a coordinator who also leads a call
    processes = []
    for index in range(60):
        nomination = NominationFactory(
            call=rng.choice(calls),
            country=rng.choice(countries),
            nominator=rng.choice(people),
            stage=Nomination.Stage.REVIEW,
            title=f"Practice {index}",
        )
        processes.append(
            NominationProcess.objects.create(
                flow_class=NominationFlow, nomination=nomination, status=STATUS.NEW
            )
        )
    for _ in range(240):
        Task.objects.create(
            process=rng.choice(processes),
            flow_task=getattr(NominationFlow, rng.choice(NODES)),
            flow_task_type="HUMAN",
            status=rng.choice(STATUSES),
            owner=rng.choice([None, None, *people[:7]]),  # the last holds nothing
        )
    return people


def test_every_persons_inbox_is_what_the_actors_table_says(generated):
    tasks = list(
        Task.objects.select_related("owner", "process__nominationprocess__nomination__call")
    )
    assert len(tasks) == 240
    for person in generated:
        expected = {
            task.pk
            for task in tasks
            if _acts_on(person, task, task.process.nominationprocess.nomination)
        }
        got = [task.pk for task in open_tasks_for(user=person)]
        assert len(got) == len(set(got)), "a task listed twice"
        assert set(got) == expected, person.username
    # The mix reaches every kind of inbox: pool tasks, own tasks, and empty ones.
    sizes = [open_tasks_for(user=person).count() for person in generated]
    assert min(sizes) == 0 and max(sizes) > 10


def test_the_inbox_is_ordered_by_due_date_then_creation(generated):
    tasks = list(open_tasks_for(user=generated[1]))
    keys = [(task.scheduled is None, task.scheduled, task.created, task.pk) for task in tasks]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1] or 0, k[2], k[3]))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
@pytest.mark.parametrize("person, index", [(6, "task_open_owner"), (0, "task_open_pool")])
def test_the_inbox_reads_the_open_task_indexes(generated, person, index):
    """With sequential scans priced out (a test table is tiny), each branch has its index.

    An index whose condition no longer matches the inbox's statuses would not be usable.
    """
    sql, params = open_tasks_for(user=generated[person]).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan
