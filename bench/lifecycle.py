"""Benchmark 4: a nomination's whole lifecycle through Nomflow's services, beside plain viewflow.

One lifecycle is the path every selected nomination takes: a draft is made and
submitted, a national coordinator accepts it in screening (the matcher picks
three reviewers from 150), the three reviewers each submit five rubric scores,
and a lead decides. It runs through the same services the pages call, with the
outbox writing and dispatching every message to Redis after commit (no worker
runs, so the messages stay pending).

Beside it runs a plain django-viewflow flow of the same shape (bench/plainflow:
start, screen, a split into three parallel reviews, a join, select, end; every
step a ``Handle`` driven from code, with the same row lock), which does none of
Nomflow's domain work. The two alternate round by round in the same process
against the same database, so a busy machine slows both alike; each round's
lifecycles per second count the steps' own time (finding the next task's id,
which a person would click, is left out for both), and the medians are reported.

Statements are counted on one more lifecycle of each, step by step, with
``CaptureQueriesContext``: BEGIN, COMMIT, SAVEPOINT and RELEASE included.
"""

import statistics
import time
from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Task

from bench.plainflow.flows import PlainReviewFlow
from config.celery_app import app as celery_app
from nominations.models import Call, Country, Nomination, Theme
from nominations.services import nomination_create
from reviewers.models import ReviewerProfile, RubricCriterion
from workflow.deadlines import OPEN_TASK_STATUSES
from workflow.flows import NominationFlow
from workflow.services import (
    ScreeningDecision,
    nomination_screen,
    nomination_submit,
    review_submit,
    selection_decide,
)

#: Nobody signs in as a benchmark user.
UNUSABLE = make_password(None)
COUNTRIES = [("ES", "Spain"), ("FR", "France"), ("LV", "Latvia"), ("SE", "Sweden")]
CRITERIA = [
    "Innovation",
    "Impact and evidence",
    "Sustainability and longevity",
    "Transferability",
    "Relevance to the call's themes",
]
REVIEWERS = 150

STEPS = ["draft", "submit", "accept", "review 1", "review 2", "review 3", "decide"]
PLAIN_STEPS = ["start", "screen", "review 1", "review 2", "review 3", "select"]

NOMINATION_FIELDS = {
    "title": "Neighbourhood mentors",
    "kind": Nomination.Kind.PROGRAMME,
    "organisation": "Malmö Neighbourhood Trust",
    "organisation_sector": Nomination.Sector.CIVIL_SOCIETY,
    "language": "en",
    "summary": "Mentors from the neighbourhood help young people into work.",
    "problem": "Spatial segregation keeps young people out of the labour market.",
    "target_group": "Young people aged 16 to 25",
    "results": "300 mentees, 60 % in work or study after a year.",
    "year_started": 2012,
    "transferability": "Runs in three cities already.",
    "contact_name": "Anna Svensson",
    "contact_email": "anna@example.org",
    "consent_to_publish": True,
}


def build():
    """The call, its people and 150 reviewers; returns what a lifecycle needs."""
    User = get_user_model()
    countries = {
        code: Country.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in COUNTRIES
    }
    themes = [
        Theme.objects.create(name="Spatial segregation", is_priority=True),
        Theme.objects.create(name="Social exclusion", is_priority=True),
    ]
    now = timezone.now()
    call = Call.objects.create(
        title="Lifecycle benchmark call",
        languages=["en", "es", "fr", "lv", "sv"],
        opens_at=now - timedelta(days=30),
        closes_at=now + timedelta(days=60),
        reviewers_per_nomination=3,
    )
    call.themes.set(themes)
    for position, title in enumerate(CRITERIA):
        RubricCriterion.objects.create(call=call, title=title, position=position)

    def user(name):
        return User.objects.create(username=name, email=f"{name}@example.org", password=UNUSABLE)

    coordinators = [user(f"coordinator-se-{i}") for i in (1, 2)]
    countries["SE"].coordinators.set(coordinators)
    lead = user("lead")
    call.leads.add(lead)
    nominator = user("nominator")
    codes = [code for code, _name in COUNTRIES]
    for i in range(REVIEWERS):
        reviewer = user(f"reviewer-{i:03d}")
        profile = ReviewerProfile.objects.create(
            user=reviewer,
            country=countries[codes[i % len(codes)]],
            organisation=f"Organisation {i % 40}",
            languages=["en"],
            capacity=4,
        )
        profile.expertise.set([themes[i % 2]])
    return {
        "call": call,
        "country": countries["SE"],
        "themes": themes,
        "nominator": nominator,
        "coordinator": coordinators[0],
        "lead": lead,
        "scores": {
            criterion.pk: (4, f"On {criterion.title}: convincing.")
            for criterion in call.criteria.all()
        },
    }


def _open_tasks(nomination, node):
    return list(
        Task.objects.filter(
            process__nominationprocess__nomination=nomination,
            flow_task=node,
            status__in=OPEN_TASK_STATUSES,
        )
        .select_related("owner")
        .order_by("pk")
    )


def nomflow_lifecycle(world, step):
    """One lifecycle through Nomflow's services; ``step(name, callable)`` runs each step."""
    nomination, _created = step(
        "draft",
        lambda: nomination_create(
            call=world["call"],
            nominator=world["nominator"],
            fields={**NOMINATION_FIELDS, "country": world["country"]},
            themes=world["themes"],
            survey_answers={},
        ),
    )
    step("submit", lambda: nomination_submit(nomination=nomination, by=world["nominator"]))
    (screen,) = _open_tasks(nomination, NominationFlow.screen)
    step(
        "accept",
        lambda: nomination_screen(
            task_id=screen.pk, by=world["coordinator"], decision=ScreeningDecision.ACCEPT
        ),
    )
    reviews = _open_tasks(nomination, NominationFlow.review)
    if len(reviews) != 3:
        raise RuntimeError(f"expected 3 review tasks, found {len(reviews)}")
    for number, task in enumerate(reviews, 1):
        step(
            f"review {number}",
            lambda task=task: review_submit(
                task_id=task.pk,
                by=task.owner,
                scores=world["scores"],
                comment="A practice others can learn from.",
            ),
        )
    (select,) = _open_tasks(nomination, NominationFlow.select)
    step(
        "decide",
        lambda: selection_decide(
            task_id=select.pk,
            by=world["lead"],
            outcome="transnational",
            rationale="Strong evidence and easy to transfer.",
        ),
    )


def _plain_open(process, node):
    return Task.objects.get(process=process, flow_task=node, status__in=OPEN_TASK_STATUSES)


def plain_lifecycle(_world, step):
    """One lifecycle of the plain viewflow flow of the same shape."""
    flow = PlainReviewFlow
    process = step("start", lambda: flow.start.run())
    screen = _plain_open(process, flow.screen)
    step("screen", lambda: flow.screen.run(screen))
    for number, node in enumerate((flow.review_1, flow.review_2, flow.review_3), 1):
        task = _plain_open(process, node)
        step(f"review {number}", lambda node=node, task=task: node.run(task))
    select = _plain_open(process, flow.select)
    step("select", lambda: flow.select.run(select))


def _timed(lifecycle, world, count):
    """Seconds spent inside the steps of ``count`` lifecycles."""
    spent = 0.0

    def step(_name, action):
        nonlocal spent
        started = time.perf_counter()
        result = action()
        spent += time.perf_counter() - started
        return result

    for _ in range(count):
        lifecycle(world, step)
    return spent


def _kind(sql):
    word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
    if word in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return "savepoint"
    if word in ("BEGIN", "COMMIT"):
        return "transaction"
    if word == "SELECT" and "FOR UPDATE" in sql.upper():
        return "lock"
    return word.lower()


def _counted(lifecycle, world):
    """[(step, statements, Counter of kinds)] of one lifecycle."""
    rows = []

    def step(name, action):
        with CaptureQueriesContext(connection) as captured:
            result = action()
        rows.append((name, len(captured), Counter(_kind(q["sql"]) for q in captured)))
        return result

    lifecycle(world, step)
    return rows


def run(*, lifecycles=30, rounds=5):
    started = time.perf_counter()
    world = build()
    built = time.perf_counter() - started
    celery_app.control.purge()
    # Warm up both (imports, template and flow caches) before anything is measured.
    _timed(nomflow_lifecycle, world, 2)
    _timed(plain_lifecycle, world, 2)

    nomflow_rates, plain_rates = [], []
    for number in range(rounds):
        order = [(nomflow_lifecycle, nomflow_rates), (plain_lifecycle, plain_rates)]
        if number % 2:
            order.reverse()  # neither side always runs on the warmer cache
        for lifecycle, rates in order:
            rates.append(lifecycles / _timed(lifecycle, world, lifecycles))

    nomflow_steps = _counted(nomflow_lifecycle, world)
    plain_steps = _counted(plain_lifecycle, world)
    celery_app.control.purge()
    return {
        "reviewers": REVIEWERS,
        "criteria": len(CRITERIA),
        "built_seconds": built,
        "lifecycles": lifecycles,
        "rounds": rounds,
        "nomflow_rates": nomflow_rates,
        "plain_rates": plain_rates,
        "nomflow": statistics.median(nomflow_rates),
        "plain": statistics.median(plain_rates),
        "nomflow_steps": nomflow_steps,
        "plain_steps": plain_steps,
        "nomflow_queries": sum(count for _name, count, _kinds in nomflow_steps),
        "plain_queries": sum(count for _name, count, _kinds in plain_steps),
    }
