"""Long lists a page at a time: by number with a count, or by cursor for the outbox and bell.

Each list keeps its filters and sort in the links to the other pages, costs the same
queries on a page of a short list as of a long one, and shows every row exactly once
when walked from the first page to the last.
"""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from nominations.models import Nomination
from nominations.pagination import cursor_of, page_by_cursor, page_by_number
from notifications import views as notification_views
from notifications.models import Message, Notification
from workflow import nomination_views
from workflow.flows import NominationFlow
from workflow.services import ScreeningDecision, nomination_screen, nomination_submit
from workflow.views import tasks as task_views

from ..factories import NominationFactory, UserFactory
from ..workflow.helpers import open_task

pytestmark = [pytest.mark.django_db]

#: As in tests/nominations/test_query_counts.py: session, user, second factor, the
#: navigation's three role checks and the bell's unread count.
PAGE_OVERHEAD = 7


def links(response, rel):
    """The query strings of the pagination's links marked ``rel`` ("next" or "prev")."""
    html = response.content.decode()
    nav = re.search(r'<nav class="pagination".*?</nav>', html, re.S)
    if nav is None:
        return []
    return [unescape(href) for href in re.findall(rf'href="([^"]*)" rel="{rel}"', nav.group())]


def walk(client, url, query=""):
    """Every page from ``url`` by following "next": [(response, rows on the page)]."""
    pages = []
    next_query = query
    while next_query is not None:
        response = client.get(url + next_query)
        assert response.status_code == 200
        pages.append(response)
        found = links(response, "next")
        next_query = found[0] if found else None
        assert len(pages) < 20
    return pages


@pytest.fixture
def submitted(call, countries, theme):
    """Make ``n`` submitted nominations of ``country`` (each a screening task in its pool)."""

    def make(n, *, code="SE", nominator=None):
        made = []
        for _ in range(n):
            nomination = NominationFactory(
                call=call,
                nominator=nominator or UserFactory(),
                country=countries[code],
                themes=[theme],
            )
            nomination_submit(nomination=nomination, by=nomination.nominator)
            made.append(nomination)
        return made

    return make


# --- the two kinds of page ---------------------------------------------------------------


def test_a_short_first_page_is_its_own_count(django_assert_num_queries, nominator):
    Notification.objects.create(recipient=nominator, title="One")
    with django_assert_num_queries(1):
        page = page_by_number(Notification.objects.order_by("pk"), number=None, per_page=2)
        assert (page.paginator.count, page.paginator.num_pages, len(page)) == (1, 1, 1)


def test_a_full_first_page_counts_and_a_wrong_number_gives_a_page(nominator):
    for index in range(5):
        Notification.objects.create(recipient=nominator, title=f"N{index}")
    rows = Notification.objects.order_by("pk")
    first = page_by_number(rows, number="1", per_page=2)
    assert (first.paginator.count, first.paginator.num_pages, first.has_next()) == (5, 3, True)
    assert [n.title for n in page_by_number(rows, number="3", per_page=2)] == ["N4"]
    assert [n.title for n in page_by_number(rows, number="99", per_page=2)] == ["N4"]
    assert [n.title for n in page_by_number(rows, number="x", per_page=2)] == ["N0", "N1"]


def test_cursor_pages_walk_every_row_once_both_ways_ties_broken_by_key(nominator):
    moment = timezone.now()
    # Three share one instant: the key orders them.
    times = [moment, moment, moment, *(moment - timedelta(minutes=m) for m in range(1, 5))]
    made = [
        Notification.objects.create(recipient=nominator, title=f"N{i}", created_at=when)
        for i, when in enumerate(times)
    ]
    newest_first = sorted(made, key=lambda n: (n.created_at, n.pk), reverse=True)
    rows = Notification.objects.filter(recipient=nominator)

    seen, page = [], page_by_cursor(rows, per_page=3)
    assert not page.has_previous
    while True:
        seen.append(list(page))
        if not page.has_next:
            break
        page = page_by_cursor(rows, after=page.next_cursor, per_page=3)
    assert [n for chunk in seen for n in chunk] == newest_first
    assert [len(chunk) for chunk in seen] == [3, 3, 1]

    back = page_by_cursor(rows, before=page.previous_cursor, per_page=3)
    assert list(back) == seen[1] and back.has_previous and back.has_next
    start = page_by_cursor(rows, before=back.previous_cursor, per_page=3)
    assert list(start) == seen[0] and not start.has_previous


@pytest.mark.parametrize("cursor", ["", "x", "1.2.3", "99999999999999999999999.1", "-.-"])
def test_a_malformed_cursor_gives_the_first_page(nominator, cursor):
    made = Notification.objects.create(recipient=nominator, title="One")
    rows = Notification.objects.filter(recipient=nominator)
    assert list(page_by_cursor(rows, after=cursor, per_page=3)) == [made]
    assert list(page_by_cursor(rows, before=cursor, per_page=3)) == [made]
    assert cursor_of(made).endswith(f".{made.pk}")


# --- the inbox and home ------------------------------------------------------------------


def test_the_inbox_pages_keep_the_step_filter_and_show_every_task_once(
    client, monkeypatch, coordinator, submitted
):
    monkeypatch.setattr(task_views, "INBOX_PAGE_SIZE", 2)
    nominations = submitted(5)
    accept = nominations[0]
    nomination_screen(
        task_id=open_task(accept, NominationFlow.screen).pk,
        by=coordinator,
        decision=ScreeningDecision.ACCEPT,
    )
    client.force_login(coordinator)
    url = reverse("workflow:inbox")

    pages = walk(client, url, "?step=screen")
    assert [len(page.context["tasks"]) for page in pages] == [2, 2]
    assert all("step=screen" in link for page in pages[:-1] for link in links(page, "next"))
    assert "step=screen" in links(pages[-1], "prev")[0]
    seen = [task.pk for page in pages for task in page.context["tasks"]]
    screening = {open_task(n, NominationFlow.screen).pk for n in nominations[1:]}
    assert sorted(seen) == sorted(screening)
    first = pages[0].content.decode()
    assert "4 tasks" in first and 'aria-current="page">Page 1 of 2<' in first

    everything = client.get(url)
    assert everything.context["tasks"].paginator.count == 5  # four screenings, one search
    # An unknown step is no filter at all.
    assert client.get(url, {"step": "nonsense"}).context["tasks"].paginator.count == 5


def test_the_inbox_costs_the_same_queries_on_a_page_of_three_or_of_six_tasks(
    client, monkeypatch, django_assert_num_queries, coordinator, submitted
):
    """Beyond one page the paginator counts: one query more than a short list, no more."""
    monkeypatch.setattr(task_views, "INBOX_PAGE_SIZE", 2)
    submitted(3)
    client.force_login(coordinator)
    url = reverse("workflow:inbox") + "?page=2"
    # The tasks' count, the page of tasks, the calls waiting for bulk assignment.
    with django_assert_num_queries(PAGE_OVERHEAD + 3):
        small = client.get(url)
    submitted(3)
    with django_assert_num_queries(PAGE_OVERHEAD + 3):
        large = client.get(url)
    assert (len(small.context["tasks"]), len(large.context["tasks"])) == (1, 2)


def test_home_asks_one_cheap_question_for_a_nominator_without_tasks(
    client, django_assert_num_queries, nominator, submitted
):
    """Someone who holds no task and is in no pool: the task query reads an empty index range.

    The pools' branches stand behind a check of the person's link rows, so the page costs
    the tasks' one query and the nominations' one, whatever else waits in the system.
    """
    submitted(3, nominator=nominator)  # three screening tasks, none of them the nominator's
    client.force_login(nominator)
    with django_assert_num_queries(PAGE_OVERHEAD + 2):
        response = client.get(reverse("workflow:home"))
    assert list(response.context["tasks"]) == []
    assert len(response.context["nominations"]) == 3


# --- my nominations and the nominations I follow -----------------------------------------


def test_my_nominations_come_a_page_at_a_time(
    client, monkeypatch, django_assert_num_queries, nominator, submitted
):
    monkeypatch.setattr(nomination_views, "NOMINATIONS_PAGE_SIZE", 2)
    made = submitted(3, nominator=nominator)
    client.force_login(nominator)
    url = reverse("nominations:list")
    pages = walk(client, url)
    seen = [n.pk for page in pages for n in page.context["nominations"]]
    assert seen == [n.pk for n in reversed(made)]
    assert "3 nominations" in pages[0].content.decode()
    submitted(3, nominator=nominator)
    # The count, the page of nominations with call, country and next deadline.
    with django_assert_num_queries(PAGE_OVERHEAD + 2):
        client.get(url + "?page=2")


def test_the_overview_keeps_its_stage_filter_and_sort_across_pages(
    client, monkeypatch, django_assert_num_queries, coordinator, submitted
):
    monkeypatch.setattr(nomination_views, "NOMINATIONS_PAGE_SIZE", 2)
    made = submitted(5)
    for nomination in made[:2]:
        nomination_screen(
            task_id=open_task(nomination, NominationFlow.screen).pk,
            by=coordinator,
            decision=ScreeningDecision.ACCEPT,
        )
    Nomination.objects.filter(pk__in=[n.pk for n in made]).update(submitted_at=timezone.now())
    client.force_login(coordinator)
    url = reverse("nominations:overview")

    pages = walk(client, url, "?stage=screening&sort=title")
    titles = [n.title for page in pages for n in page.context["nominations"]]
    assert titles == sorted(n.title for n in made[2:])
    assert all(
        "stage=screening" in link and "sort=title" in link
        for page in pages[:-1]
        for link in links(page, "next")
    )
    assert pages[0].context["nominations"].paginator.count == 3
    assert [len(p.context["nominations"]) for p in walk(client, url)] == [2, 2, 1]
    # Sorted by the next deadline: each row's is no earlier than the one before it.
    due = [n.next_due for p in walk(client, url, "?sort=due") for n in p.context["nominations"]]
    assert due == sorted(due)
    # Unknown values fall back to every stage and the default order, not an error.
    fallback = client.get(url, {"stage": "bogus", "sort": "bogus"})
    assert (fallback.context["stage"], fallback.context["sort"]) == ("", "submitted")
    # The count, the page (with call, country, next due), the calls one may export.
    with django_assert_num_queries(PAGE_OVERHEAD + 3):
        client.get(url + "?page=2")
    submitted(3)
    with django_assert_num_queries(PAGE_OVERHEAD + 3):
        client.get(url + "?page=2")


# --- the bell and the outbox (by cursor) --------------------------------------------------


def test_the_notifications_walk_older_and_newer_by_cursor(
    client, monkeypatch, django_assert_num_queries, nominator
):
    monkeypatch.setattr(notification_views, "NOTIFICATIONS_PAGE_SIZE", 2)
    for index in range(5):
        Notification.objects.create(recipient=nominator, title=f"Note {index}")
    client.force_login(nominator)
    url = reverse("notifications:list")
    pages = walk(client, url)
    assert [[n.title for n in p.context["page"]] for p in pages] == [
        ["Note 4", "Note 3"],
        ["Note 2", "Note 1"],
        ["Note 0"],
    ]
    # Back from the last page: the middle one again.
    newer = client.get(url + links(pages[-1], "prev")[0])
    assert [n.title for n in newer.context["page"]] == ["Note 2", "Note 1"]
    # A page deep in the list costs what the first does: one query, no count.
    with django_assert_num_queries(PAGE_OVERHEAD + 1):
        client.get(url + links(pages[0], "next")[0])


def test_the_outbox_keeps_its_status_filter_across_cursor_pages(
    client, monkeypatch, django_assert_num_queries, nominator
):
    monkeypatch.setattr(notification_views, "OUTBOX_PAGE_SIZE", 2)
    staff = UserFactory(username="staff-outbox", is_staff=True)
    failed = []
    for index in range(5):
        status = Message.Status.FAILED if index % 2 == 0 or index == 1 else Message.Status.SENT
        made = Message.objects.create(
            idempotency_key=f"page:{index}",
            kind=Message.Kind.DECIDED,
            recipient=nominator,
            to_email=nominator.email,
            language="en",
            subject=f"Message {index}",
            status=status,
        )
        if status == Message.Status.FAILED:
            failed.append(made)
    client.force_login(staff)
    url = reverse("notifications:outbox")
    pages = walk(client, url, "?status=failed")
    assert all("status=failed" in link for p in pages[:-1] for link in links(p, "next"))
    seen = [m.pk for p in pages for m in p.context["page"]]
    assert seen == [m.pk for m in reversed(failed)]
    # The failed count, the page with recipients, the bouncing addresses.
    with django_assert_num_queries(PAGE_OVERHEAD + 3):
        client.get(url + links(pages[0], "next")[0])


# --- filters narrow, never widen ----------------------------------------------------------


def test_filters_and_pages_show_nobody_more_than_before(
    client, monkeypatch, coordinator, reviewers, nominator, submitted
):
    """A filter or a page number only narrows what the person may see anyway."""
    monkeypatch.setattr(task_views, "INBOX_PAGE_SIZE", 1)
    monkeypatch.setattr(nomination_views, "NOMINATIONS_PAGE_SIZE", 1)
    swedish = submitted(2)
    french = submitted(2, code="FR")
    client.force_login(coordinator)
    inbox = [
        t.process.nominationprocess.nomination
        for page in walk(client, reverse("workflow:inbox"), "?step=screen")
        for t in page.context["tasks"]
    ]
    followed = [
        n
        for page in walk(client, reverse("nominations:overview"), "?stage=screening")
        for n in page.context["nominations"]
    ]
    assert sorted(n.pk for n in inbox) == sorted(n.pk for n in swedish)
    assert sorted(n.pk for n in followed) == sorted(n.pk for n in swedish)
    assert not {n.pk for n in followed} & {n.pk for n in french}

    for person in [reviewers[0], nominator]:
        client.force_login(person)
        assert (
            list(client.get(reverse("workflow:inbox"), {"step": "screen"}).context["tasks"]) == []
        )
        overview = client.get(reverse("nominations:overview"), {"stage": "screening", "page": 2})
        assert list(overview.context["nominations"]) == []

    client.logout()
    for url in [reverse("workflow:inbox"), reverse("nominations:overview")]:
        response = client.get(url, {"page": 2})
        assert response.status_code == 302 and "login" in response.url
