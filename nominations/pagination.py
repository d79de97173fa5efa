"""Pages of a long list: by number (with a count) or by cursor (newest first, no count).

``page_by_number`` is Django's Paginator for lists whose count is modest or whose sort
the person picks (inboxes, nominations): "Page 3 of 12". It counts only when it must: a
first page shorter than a page is its own count, so a short list costs one query.

``page_by_cursor`` is keyset pagination for lists that only grow and are read newest
first (the outbox, notifications): each page asks for the rows older (or newer) than
the last one shown, ``(created_at, pk) < (t, n)``, so page 500 costs what page 1 does,
where an OFFSET reads and throws away every row before it.

The shared template ``templates/_pagination.html`` draws either kind.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Q

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def page_by_number(queryset, *, number, per_page):
    """The page ``number`` (a string from the query, maybe wrong) of ``queryset``.

    A missing, malformed or too large number gives the first or the last page, as
    Django's ``get_page`` does.
    """
    paginator = Paginator(queryset, per_page)
    if number in (None, "", "1"):
        rows = list(queryset[: per_page + 1])
        if len(rows) <= per_page:
            paginator.count = len(rows)  # the whole list: no COUNT query
        return Page(rows[:per_page], 1, paginator)
    return paginator.get_page(number)


@dataclass
class CursorPage:
    """One page of a list read by cursor, newest first; iterates over its rows."""

    object_list: list
    has_previous: bool
    has_next: bool
    previous_cursor: str = ""
    next_cursor: str = ""
    keyset: bool = field(default=True, init=False)

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    def __bool__(self):
        return bool(self.object_list)

    def has_other_pages(self):
        return self.has_previous or self.has_next


def cursor_of(row):
    """The cursor just past ``row``: its creation time in microseconds and its key."""
    return f"{(row.created_at - _EPOCH) // _MICROSECOND}.{row.pk}"


def _parse(cursor):
    """(created_at, pk) from a cursor, or None for a missing or malformed one."""
    try:
        micros, pk = (int(part) for part in cursor.split("."))
        return _EPOCH + timedelta(microseconds=micros), pk
    except (AttributeError, OverflowError, TypeError, ValueError):
        return None


def page_by_cursor(queryset, *, after=None, before=None, per_page):
    """The rows of ``queryset`` older than ``after`` (or newer than ``before``), newest first.

    Ordered by ``created_at`` then ``pk``, both descending, and read with one query of at
    most ``per_page + 1`` rows. A malformed cursor gives the first page.
    """
    older, newer = _parse(after), _parse(before)
    if newer is not None:
        moment, pk = newer
        rows = list(
            queryset.filter(Q(created_at__gt=moment) | Q(created_at=moment, pk__gt=pk)).order_by(
                "created_at", "pk"
            )[: per_page + 1]
        )
        more_newer = len(rows) > per_page
        rows = rows[:per_page][::-1]
        if not more_newer:
            # Back at the start: the first page in full, as a fresh visit shows it.
            return page_by_cursor(queryset, per_page=per_page)
        return _page(rows, has_previous=True, has_next=True)
    if older is not None:
        moment, pk = older
        queryset = queryset.filter(Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk))
    rows = list(queryset.order_by("-created_at", "-pk")[: per_page + 1])
    return _page(rows[:per_page], has_previous=older is not None, has_next=len(rows) > per_page)


def _page(rows, *, has_previous, has_next):
    return CursorPage(
        rows,
        has_previous=has_previous and bool(rows),
        has_next=has_next,
        previous_cursor=cursor_of(rows[0]) if rows and has_previous else "",
        next_cursor=cursor_of(rows[-1]) if rows and has_next else "",
    )
