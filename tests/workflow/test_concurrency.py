"""People acting on the same work at the same moment.

Of two coordinators screening one nomination at once exactly one decides; the
other is told who was first and keeps what they typed. Of three reviewers
submitting at once the review stage closes exactly once. Both need real
concurrency: threads with their own database connections against PostgreSQL,
released together by a barrier, and (for screening) real HTTP requests to
``live_server``. Each is repeated over many rounds because a race that is lost
only sometimes is still a bug.
"""

import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from nominations.models import Nomination, NominationEvent
from reviewers.models import Review, ReviewerProfile
from workflow.flows import NominationFlow
from workflow.services import (
    ScreeningDecision,
    TaskUnavailable,
    nomination_screen,
    nomination_submit,
    review_remove,
    review_submit,
)

from ..factories import NominationFactory, UserFactory
from .helpers import full_scores, open_task, times_passed

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

_skip_unless_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=(
        "Concurrent requests need PostgreSQL: the flow's lock is SELECT ... FOR UPDATE "
        "on the process row, and SQLite locks the whole file instead "
        f"(this run uses {connection.vendor})."
    ),
)


def needs_postgres(test):
    return pytest.mark.postgres(_skip_unless_postgres(test))


ROUNDS = 20
SCREENING_ACTIONS = [
    NominationEvent.Action.SCREENING_ACCEPTED,
    NominationEvent.Action.CHANGES_REQUESTED,
    NominationEvent.Action.REJECTED,
]


# --- people ---------------------------------------------------------------


@pytest.fixture
def two_coordinators(countries):
    """Two national coordinators of Sweden, with names the refusal message shows."""
    people = [
        UserFactory(username="astrid", first_name="Astrid", last_name="Lind"),
        UserFactory(username="erik", first_name="Erik", last_name="Berg"),
    ]
    countries["SE"].coordinators.add(*people)
    return people


@pytest.fixture
def reviewers_with_room(reviewers):
    """The three reviewers, with room for every round's still-open reviews."""
    ReviewerProfile.objects.filter(user__in=reviewers).update(capacity=ROUNDS * 3)
    return reviewers


def submitted_nomination(call, nominator, countries, theme, n):
    nomination = NominationFactory(
        call=call, nominator=nominator, country=countries["SE"], themes=[theme], title=f"Round {n}"
    )
    nomination_submit(nomination=nomination, by=nominator)
    return nomination


def screening_message(task):
    """The refusal a late coordinator reads, as ``task_unavailable_message`` words it."""
    finished = timezone.localtime(task.finished).strftime("%Y-%m-%d %H:%M")
    return f"This task was already completed by {task.owner.get_full_name()} on {finished}."


# --- running things at the same moment -------------------------------------


@dataclass
class Outcome:
    result: object = None
    error: BaseException | None = None
    started: float = 0.0
    ended: float = 0.0


def run_together(*actions):
    """Run each action in its own thread, all released at once; return their outcomes.

    Each thread uses its own database connection and closes it at the end, so
    the test database can be flushed and dropped afterwards.
    """
    barrier = threading.Barrier(len(actions))
    outcomes = [Outcome() for _ in actions]

    def run(action, outcome):
        try:
            barrier.wait(timeout=10)
            outcome.started = time.perf_counter()
            outcome.result = action()
        except BaseException as error:
            outcome.error = error
        finally:
            outcome.ended = time.perf_counter()
            connection.close()

    threads = [
        threading.Thread(target=run, args=(action, outcome))
        for action, outcome in zip(actions, outcomes, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [thread.is_alive() for thread in threads] == [False] * len(threads)
    return outcomes


def all_in_flight_together(outcomes):
    """Whether every action started before any of them ended."""
    return max(o.started for o in outcomes) < min(o.ended for o in outcomes)


# --- a browser without a browser ------------------------------------------


@dataclass
class Page:
    status: int
    location: str | None
    text: str


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the redirect itself is the answer we check


class Browser:
    """One person's browser: their own session and CSRF cookies, over real HTTP."""

    def __init__(self, live_server, user):
        client = Client()
        client.force_login(user)
        self.base_url = live_server.url
        self.cookies = {
            settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value
        }
        # No proxy: the live server is on this machine whatever the environment says.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _KeepRedirects())

    def get(self, path):
        return self._open(path)

    def post(self, path, data):
        return self._open(path, urllib.parse.urlencode(data, doseq=True).encode())

    def csrf_token(self, page):
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def _open(self, path, body=None):
        request = urllib.request.Request(  # noqa: S310 - always the live server's http:// URL
            self.base_url + path,
            data=body,
            headers={"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())},
        )
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:  # 3xx not followed, 4xx, 5xx
            response = error
        with response:
            status = response.status if hasattr(response, "status") else response.code
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return Page(status, response.headers.get("Location"), response.read().decode())


# --- screening: two coordinators, one task, real HTTP ----------------------


@needs_postgres
def test_two_coordinators_screening_at_once_decide_once_and_the_other_is_told_who(
    live_server, call, countries, theme, nominator, two_coordinators, reviewers_with_room
):
    browsers = [Browser(live_server, person) for person in two_coordinators]
    overlapping_rounds = 0

    for n in range(ROUNDS):
        nomination = submitted_nomination(call, nominator, countries, theme, n)
        task = open_task(nomination, NominationFlow.screen)
        url = reverse("workflow:task", args=[task.pk])
        typed = [f"Looks good to {person.first_name}, round {n}." for person in two_coordinators]
        # Both have the task page open, then both press "Record screening".
        forms = []
        for browser, message in zip(browsers, typed, strict=True):
            page = browser.get(url)
            assert page.status == 200
            forms.append(
                {
                    "csrfmiddlewaretoken": browser.csrf_token(page),
                    "decision": ScreeningDecision.ACCEPT,
                    "message": message,
                }
            )

        outcomes = run_together(
            *(
                (lambda b=browser, f=form, u=url: b.post(u, f))
                for browser, form in zip(browsers, forms, strict=True)
            )
        )

        assert [o.error for o in outcomes] == [None, None], f"round {n}"
        pages = [o.result for o in outcomes]
        assert sorted(p.status for p in pages) == [200, 302], f"round {n}"
        winner = 0 if pages[0].status == 302 else 1
        loser = 1 - winner
        overlapping_rounds += all_in_flight_together(outcomes)

        task.refresh_from_db()
        nomination.refresh_from_db()
        assert pages[winner].location == reverse("workflow:inbox")
        assert task.status == STATUS.DONE
        assert task.owner == two_coordinators[winner]
        assert screening_message(task) in pages[loser].text, f"round {n}"
        assert f"{typed[loser]}</textarea>" in pages[loser].text
        assert list(
            nomination.events.filter(action__in=SCREENING_ACTIONS).values_list(
                "action", "actor", "message"
            )
        ) == [(NominationEvent.Action.SCREENING_ACCEPTED, task.owner.pk, typed[winner])]
        assert nomination.stage == Nomination.Stage.REVIEW
        assert (
            Task.objects.filter(process=task.process, flow_task=NominationFlow.screen).count() == 1
        )
        assert (
            Task.objects.filter(process=task.process, flow_task=NominationFlow.review).count()
            == call.reviewers_per_nomination
        )
        assert Review.objects.filter(nomination=nomination).count() == call.reviewers_per_nomination

    # The barrier must really have put both requests in flight together.
    assert overlapping_rounds >= ROUNDS // 2


# --- review: three reviewers, one join, services in threads ----------------


@needs_postgres
def test_three_reviewers_submitting_at_once_close_the_review_stage_exactly_once(
    call, countries, theme, nominator, coordinator, reviewers
):
    call.reviewers_per_nomination = 3
    call.save(update_fields=["reviewers_per_nomination"])
    scores = full_scores(call)
    overlapping_rounds = 0

    for n in range(ROUNDS):
        nomination = submitted_nomination(call, nominator, countries, theme, n)
        nomination_screen(
            task_id=open_task(nomination, NominationFlow.screen).pk,
            by=coordinator,
            decision=ScreeningDecision.ACCEPT,
        )
        review_tasks = list(
            Task.objects.filter(
                process__nominationprocess__nomination=nomination, flow_task=NominationFlow.review
            ).select_related("owner")
        )
        assert {t.owner for t in review_tasks} == set(reviewers)

        outcomes = run_together(
            *(
                (
                    lambda t=task, comment=f"Round {n}": review_submit(
                        task_id=t.pk, by=t.owner, scores=scores, comment=comment
                    )
                )
                for task in review_tasks
            )
        )

        assert [o.error for o in outcomes] == [None, None, None], f"round {n}"
        overlapping_rounds += all_in_flight_together(outcomes)
        nomination.refresh_from_db()
        process_tasks = Task.objects.filter(process__nominationprocess__nomination=nomination)
        # The join has no row of its own (workflow.nodes): exactly one review's task
        # records passing it, and the selection task exists once.
        assert times_passed(nomination, NominationFlow.reviews_done) == 1, f"round {n}"
        # Nothing is left NEW, STARTED or ERROR but the one selection task.
        assert [
            (task.flow_task, task.status)
            for task in process_tasks.exclude(status=STATUS.DONE).order_by("pk")
        ] == [(NominationFlow.select, STATUS.NEW)], f"round {n}"
        assert nomination.stage == Nomination.Stage.SELECTION
        assert nomination.events.filter(action=NominationEvent.Action.REVIEWS_COMPLETE).count() == 1
        assert nomination.events.filter(action=NominationEvent.Action.REVIEW_SUBMITTED).count() == 3
        assert set(nomination.reviews.values_list("status", flat=True)) == {Review.Status.SUBMITTED}

    assert overlapping_rounds >= ROUNDS // 2


# --- sequential: the late one keeps what they typed ------------------------


def test_screening_a_task_already_done_says_who_did_it_and_keeps_the_typed_text(
    client, call, countries, theme, nominator, two_coordinators, reviewers
):
    first, late = two_coordinators
    nomination = submitted_nomination(call, nominator, countries, theme, 0)
    task = open_task(nomination, NominationFlow.screen)
    nomination_screen(task_id=task.pk, by=first, decision=ScreeningDecision.ACCEPT)
    task.refresh_from_db()

    client.force_login(late)
    typed = "Evidence of results is thin; please add the 2023 evaluation."
    response = client.post(
        reverse("workflow:task", args=[task.pk]),
        {"decision": ScreeningDecision.REQUEST_CHANGES, "message": typed},
    )

    nomination.refresh_from_db()
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [screening_message(task)]
    content = response.content.decode()
    assert screening_message(task) in content
    assert f"{typed}</textarea>" in content
    assert response.context["form"]["decision"].value() == ScreeningDecision.REQUEST_CHANGES
    assert nomination.stage == Nomination.Stage.REVIEW
    assert list(
        nomination.events.filter(action__in=SCREENING_ACTIONS).values_list("action", "actor")
    ) == [(NominationEvent.Action.SCREENING_ACCEPTED, first.pk)]


# --- a review submitted while a coordinator removes its reviewer -------------


@needs_postgres
def test_a_review_submitted_while_its_reviewer_is_removed_ends_one_way_without_deadlock(
    call, countries, theme, nominator, coordinator, reviewers_with_room
):
    """Both lock the review row, then the process row (``review_task``): one of them wins."""
    scores = full_scores(call)
    ways = Counter()
    overlapping_rounds = 0

    for n in range(ROUNDS):
        nomination = submitted_nomination(call, nominator, countries, theme, n)
        nomination_screen(
            task_id=open_task(nomination, NominationFlow.screen).pk,
            by=coordinator,
            decision=ScreeningDecision.ACCEPT,
        )
        task = Task.objects.filter(
            process__nominationprocess__nomination=nomination, flow_task=NominationFlow.review
        ).select_related("owner")[0]
        submit, remove = run_together(
            lambda t=task: review_submit(task_id=t.pk, by=t.owner, scores=scores, comment="Done."),
            lambda t=task: review_remove(task_id=t.pk, by=coordinator, reason="A conflict."),
        )

        overlapping_rounds += all_in_flight_together([submit, remove])
        errors = [type(o.error) for o in (submit, remove)]
        assert sorted(map(str, errors)) == sorted(map(str, [type(None), TaskUnavailable])), (
            f"round {n}: {submit.error!r} {remove.error!r}"
        )
        review = Review.objects.get(pk=task.data["review_id"])
        actions = set(nomination.events.values_list("action", flat=True))
        if submit.error is None:
            ways["submitted"] += 1
            assert review.status == Review.Status.SUBMITTED
            assert NominationEvent.Action.REVIEWER_REMOVED not in actions
        else:
            ways["removed"] += 1
            assert review.status == Review.Status.DECLINED
            assert review.scores.count() == 0  # the reviewer's scores were rolled back
            assert NominationEvent.Action.REVIEW_SUBMITTED not in actions
        task.refresh_from_db()
        assert task.status == STATUS.DONE

    assert sum(ways.values()) == ROUNDS
    assert overlapping_rounds >= ROUNDS // 2
