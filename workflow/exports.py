"""A call's nominations as a table, for CSV and Excel: answers, scores, decisions.

What a person exports is what they may see: admins every submitted nomination
of the call, coordinators their countries', leads the call's nominations from
selection on. Reviewer identities appear only for admins and the call's leads;
coordinators get each review's scores as "Review 1", "Review 2"…

Memory stays bounded however big the call: the rows come from three ordered
``values()`` queries read in chunks (the nominations with their score sums and
counts per criterion computed by the database, their themes, their submitted
reviews with each criterion's score) and merged by nomination id as they stream;
no model is built per row and no list of all rows is ever made. The CSV is
written while it streams; the Excel file is built by a Celery task
(``export_build``) in openpyxl's write-only mode and kept for
``settings.EXPORT_FILE_DAYS`` days.
"""

import csv
import datetime
import io
import itertools
import logging
import pickle
import re
import tempfile
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from nominations.accounts import ERASED_EMAIL_DOMAIN, reviewer_display
from nominations.models import Country, Nomination, SelectionDecision, SurveyQuestion, Theme
from nominations.permissions import is_coordinator, leads_call
from notifications.models import Message
from notifications.services import notify
from reviewers.models import CriterionScore, Review
from reviewers.selectors import shown

from .models import ExportFile

logger = logging.getLogger(__name__)

#: Rows fetched from the database at a time, and rows written to the CSV stream at a time.
CHUNK_SIZE = 500
#: How often (in rows) a background build records its progress.
PROGRESS_EVERY = 100
#: A build still "running" after this long was left by a worker that died; it may be rerun.
STALE_RUN = datetime.timedelta(minutes=30)
#: An export whose build keeps being lost fails this long after it was asked for.
GIVE_UP_AFTER = datetime.timedelta(hours=12)


def exportable_nominations(*, call, user):
    """(nominations of ``call`` ``user`` may export, whether reviewers may be named)."""
    if not user.is_authenticated:
        raise PermissionDenied
    is_lead = leads_call(user=user, call=call)
    nominations = Nomination.objects.filter(call=call).exclude(stage=Nomination.Stage.DRAFT)
    if not user.is_staff:
        allowed = Q(country__coordinators=user)
        if is_lead:
            allowed |= Q(stage__in=[Nomination.Stage.SELECTION, Nomination.Stage.DECIDED])
        nominations = nominations.filter(
            pk__in=Nomination.objects.filter(call=call).filter(allowed).values("pk")
        )
        if not is_lead and not is_coordinator(user):
            raise PermissionDenied
    return nominations, user.is_staff or is_lead


def call_export_table(*, call, user):
    """(headers, rows) of the call's nominations as ``user`` may export them.

    ``rows`` is a generator: the queries run as it is read, a chunk at a time, and it can
    be read once. The headers cost four small queries (questions, criteria, the most
    reviews a nomination has, and the lookups of country and theme names); the rows three
    more however many nominations there are.
    """
    nominations, name_reviewers = exportable_nominations(call=call, user=user)
    questions = list(call.questions.all())
    criteria = list(call.criteria.all())
    ids = nominations.values("pk")
    submitted = Review.objects.filter(nomination__in=ids, status=Review.Status.SUBMITTED)
    most_reviews = _most_reviews(submitted)
    # Times are the site's local time, as the pages show them, with the zone named.
    zone = {"zone": timezone.get_current_timezone_name()}

    headers = [
        _("Id"),
        _("Title"),
        _("Kind"),
        _("Country"),
        _("Organisation"),
        _("Themes"),
        _("Language"),
        _("Year started"),
        _("Stage"),
        _("Submitted (%(zone)s)") % zone,
        *[question.text for question in questions],
        *[_("Mean: %(criterion)s") % {"criterion": c.title} for c in criteria],
        _("Weighted score"),
    ]
    for number in range(1, most_reviews + 1):
        label = _("Review %(number)d") % {"number": number}
        if name_reviewers:
            headers.append(_("%(review)s: reviewer") % {"review": label})
        headers += [f"{label}: {c.title}" for c in criteria]
        headers.append(_("%(review)s: comment") % {"review": label})
    headers += [_("Decision"), _("Rationale"), _("Decided (%(zone)s)") % zone]

    rows = _rows(
        nominations=nominations,
        submitted=submitted,
        questions=questions,
        criteria=criteria,
        most_reviews=most_reviews,
        name_reviewers=name_reviewers,
    )
    return headers, rows


def _most_reviews(submitted):
    """The most submitted reviews any one of the nominations has (one grouped query)."""
    counts = submitted.order_by().values("nomination_id").annotate(reviews=Count("pk"))
    return counts.aggregate(most=Max("reviews"))["most"] or 0


def _rows(*, nominations, submitted, questions, criteria, most_reviews, name_reviewers):
    # A handful of countries and themes: their names (in the reader's language, as the
    # models give them) and the themes' order are read once, not joined to every row.
    countries = {country.pk: country.name for country in Country.objects.all()}
    themes = list(Theme.objects.all())  # in the themes' own order: priority first, by name
    theme_names = {theme.pk: theme.name for theme in themes}
    theme_rank = {theme.pk: rank for rank, theme in enumerate(themes)}
    kinds = dict(Nomination.Kind.choices)
    stages = dict(Nomination.Stage.choices)
    outcomes = dict(SelectionDecision.Outcome.choices)

    scores = CriterionScore.objects.filter(
        review__nomination=OuterRef("pk"), review__status=Review.Status.SUBMITTED
    ).order_by()
    figures = {}
    for index, criterion in enumerate(criteria):
        given = scores.filter(criterion=criterion).values("review__nomination")
        figures[f"sum_{index}"] = Subquery(
            given.annotate(total=Sum("score")).values("total"), output_field=IntegerField()
        )
        figures[f"count_{index}"] = Subquery(
            given.annotate(given=Count("score")).values("given"), output_field=IntegerField()
        )
    nomination_rows = (
        nominations.order_by("pk")
        .values(
            "pk",
            "title",
            "kind",
            "country_id",
            "organisation",
            "language",
            "year_started",
            "stage",
            "submitted_at",
            "survey_answers",
            "decision__outcome",
            "decision__rationale",
            "decision__decided_at",
        )
        .annotate(**figures)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    theme_rows = (
        Nomination.themes.through.objects.filter(nomination__in=nominations.values("pk"))
        .order_by("nomination_id")
        .values_list("nomination_id", "theme_id")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    reviewer_fields = (
        [
            "reviewer__first_name",
            "reviewer__last_name",
            "reviewer__email",
            "reviewer__reviewer_profile__country__code",
        ]
        if name_reviewers
        else []
    )
    review_rows = (
        submitted.order_by("nomination_id", "submitted_at", "pk")
        .values("nomination_id", "comment", *reviewer_fields)
        .annotate(
            **{
                f"score_{index}": Subquery(
                    CriterionScore.objects.filter(review=OuterRef("pk"), criterion=criterion)
                    .order_by()
                    .values("score")[:1],
                    output_field=IntegerField(),
                )
                for index, criterion in enumerate(criteria)
            }
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    themes_of = _Merged(theme_rows, key=lambda row: row[0])
    reviews_of = _Merged(review_rows, key=lambda row: row["nomination_id"])

    for nomination in nomination_rows:
        pk = nomination["pk"]
        reviews = reviews_of.take(pk)
        answers = nomination["survey_answers"] or {}
        own_themes = sorted((theme for _pk, theme in themes_of.take(pk)), key=theme_rank.get)
        row = [
            pk,
            nomination["title"],
            _label(kinds, nomination["kind"]),
            countries.get(nomination["country_id"], ""),
            nomination["organisation"],
            ", ".join(theme_names[theme] for theme in own_themes),
            nomination["language"],
            nomination["year_started"],
            _label(stages, nomination["stage"]),
            _local(nomination["submitted_at"]),
            *[_answer(q, answers.get(str(q.pk))) for q in questions],
        ]
        means = [
            _mean(nomination[f"sum_{index}"], nomination[f"count_{index}"])
            for index in range(len(criteria))
        ]
        weighted = _weighted(criteria, means)
        row += ["" if m is None else shown(m) for m in means]
        row.append("" if weighted is None else shown(weighted))
        for index in range(most_reviews):
            review = reviews[index] if index < len(reviews) else None
            if name_reviewers:
                row.append(_reviewer_name(review) if review else "")
            row += [_score(review[f"score_{c}"]) if review else "" for c in range(len(criteria))]
            row.append(review["comment"] if review else "")
        outcome = nomination["decision__outcome"]
        row += [
            _label(outcomes, outcome) if outcome else "",
            nomination["decision__rationale"] if outcome else "",
            _local(nomination["decision__decided_at"]) if outcome else "",
        ]
        yield row


class _Merged:
    """Rows ordered by nomination id, handed out a nomination at a time as the export
    walks the nominations in the same order (a merge join, reading each stream once)."""

    def __init__(self, rows, *, key):
        self._groups = itertools.groupby(rows, key=key)
        self._next = next(self._groups, None)

    def take(self, pk):
        while self._next is not None and self._next[0] < pk:
            self._next = next(self._groups, None)
        if self._next is None or self._next[0] != pk:
            return []
        found = list(self._next[1])
        self._next = next(self._groups, None)
        return found


def _label(labels, value):
    return str(labels.get(value, value or ""))


def _mean(total, count):
    """The exact mean of ``count`` scores adding up to ``total`` (a ``Fraction``); or None."""
    return Fraction(total, count) if count else None


def _weighted(criteria, means):
    """The criteria's exact means weighted by their weights, over those with a mean; or None.

    As the selection board computes it: nothing is rounded before the one rounding for
    display (``shown``), so the export and the board show the same figures.
    """
    scored = [
        (Fraction(c.weight), m) for c, m in zip(criteria, means, strict=True) if m is not None
    ]
    total_weight = sum(weight for weight, _mean in scored)
    if not total_weight:
        return None
    return sum(weight * m for weight, m in scored) / total_weight


def _score(score):
    return "" if score is None else score


def _answer(question, value):
    if isinstance(value, list):
        return ", ".join(question.choice_label(str(v)) for v in value)
    if isinstance(value, str) and question.kind == SurveyQuestion.Kind.SINGLE_CHOICE:
        return question.choice_label(value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return "" if value is None else value


def _local(moment):
    """An aware moment in the site's local time, to the minute; "" for none."""
    if moment is None:
        return ""
    return timezone.localtime(moment).replace(second=0, microsecond=0)


class _Reviewer:
    """The fields of a reviewer ``reviewer_display`` reads, without loading the user."""

    def __init__(self, review):
        self.first_name = review["reviewer__first_name"]
        self.last_name = review["reviewer__last_name"]
        self.email = review["reviewer__email"]

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()


def _reviewer_name(review):
    user = _Reviewer(review)
    code = review["reviewer__reviewer_profile__country__code"]
    country = f" ({code})" if code else ""
    if user.email and user.email.endswith(f"@{ERASED_EMAIL_DOMAIN}"):
        return reviewer_display(user)
    return f"{reviewer_display(user)} <{user.email}>{country}"


# --- CSV ---------------------------------------------------------------------------------


def csv_chunks(headers, rows):
    """The CSV as UTF-8 byte chunks of ``CHUNK_SIZE`` rows each, the first with the headers.

    Starts with a byte order mark so that spreadsheet programs read the file as UTF-8.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(headers)
    rows = iter(rows)
    while batch := list(itertools.islice(rows, CHUNK_SIZE)):
        writer.writerows([_csv_cell(value) for value in row] for row in batch)
        yield out.getvalue().encode()
        out.seek(0)
        out.truncate()
    if out.tell():  # no rows: the headers alone
        yield out.getvalue().encode()


def as_csv(headers, rows):
    return b"".join(csv_chunks(headers, rows))


def _csv_cell(value):
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return _safe_cell(value)


# --- Excel -------------------------------------------------------------------------------


def xlsx_write(headers, rows, *, title, out, progress=None):
    """Write the Excel file to the binary file ``out``; returns how many rows it has.

    openpyxl's write-only mode keeps one row in memory, but wants the columns' widths
    before the first row: the rows are first read once into a temporary file (pickled,
    one at a time) while the widths are measured, then written. ``progress(n)`` is
    called every ``PROGRESS_EVERY`` rows read and at the end.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    widths = [len(str(header)) for header in headers]
    count = 0
    with tempfile.TemporaryFile() as spool:
        for row in rows:
            # Excel keeps no time zone: local times go in as they read, the zone in the header.
            cells = [
                value.replace(tzinfo=None)
                if isinstance(value, datetime.datetime)
                else _safe_cell(value)
                for value in row
            ]
            for index, value in enumerate(cells):
                if isinstance(value, datetime.datetime):
                    length = 16
                else:
                    length = max((len(line) for line in str(value or "").splitlines()), default=0)
                widths[index] = max(widths[index], length)
            pickle.dump(cells, spool, protocol=pickle.HIGHEST_PROTOCOL)
            count += 1
            if progress and count % PROGRESS_EVERY == 0:
                progress(count)
        if progress:
            progress(count)
        spool.seek(0)

        workbook = Workbook(write_only=True)
        workbook.properties.title = title  # the full title; the sheet's name may be shorter
        sheet = workbook.create_sheet(_sheet_name(title))
        for index, width in enumerate(widths, start=1):
            # Wide enough to read, capped so that a long comment does not make a wall.
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 6), 50) + 2
        sheet.freeze_panes = "C2"
        bold = Font(bold=True)
        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=str(header))
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for _row in range(count):
            cells = pickle.load(spool)  # noqa: S301 - our own temporary file, written just above
            for index, value in enumerate(cells):
                if isinstance(value, datetime.datetime):
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.number_format = "yyyy-mm-dd hh:mm"
                    cells[index] = cell
            sheet.append(cells)
        workbook.save(out)
    return count


def as_xlsx(headers, rows, *, title):
    """The Excel file as bytes (for small tables and tests; the site builds it in a task)."""
    out = io.BytesIO()
    xlsx_write(headers, rows, title=title, out=out)
    return out.getvalue()


def _sheet_name(title):
    """A sheet name Excel accepts: 31 characters at most, none of []:*?/\\, cut at a word."""
    name = " ".join(re.sub(r"[\[\]:*?/\\]", " ", title).split())
    if len(name) > 31:
        cut = name[:30].rsplit(" ", 1)[0] if " " in name[:30] else name[:30]
        name = cut.rstrip(" ,;.-–") + "…"
    return name or _("Nominations")


def _safe_cell(value):
    """Text that a spreadsheet would run as a formula is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


# --- the Excel file, built in the background --------------------------------------------


def export_request(*, call, user):
    """The person's Excel export of ``call``: the one being built, or a new one queued.

    Raises PermissionDenied if ``user`` may not export the call. Returns (export, created).
    A second request while one is queued or running returns that one (a constraint keeps
    two from being made at the same moment).
    """
    exportable_nominations(call=call, user=user)
    language = translation.get_language() or settings.LANGUAGE_CODE
    wanted = {"call": call, "requested_by": user, "file_format": ExportFile.Format.XLSX}
    existing = ExportFile.objects.filter(**wanted, status__in=ExportFile.ACTIVE_STATUSES).first()
    if existing:
        if _lost(existing, now=timezone.now()):
            _build_queue(existing.pk)
        return existing, False
    try:
        with transaction.atomic():
            export = ExportFile.objects.create(**wanted, language=language)
    except IntegrityError:
        # Asked twice at the same moment: the other request's export stands.
        return ExportFile.objects.get(**wanted, status__in=ExportFile.ACTIVE_STATUSES), False
    _build_queue(export.pk)
    return export, True


def _build_queue(export_id):
    from .tasks import export_build as build_task

    def export_build_queue():  # named: Django logs a robust callback's failure by name
        build_task.delay(export_id)

    # ``robust``: a broker that is down leaves the export queued (the page says so and a
    # later request finds it) instead of turning the request into an error page.
    transaction.on_commit(export_build_queue, robust=True)


def export_build(*, export_id, now=None):
    """Build a queued export's file, record its progress, and tell the person it is ready.

    Safe twice: an export already built, failed or gone is left alone; one left running
    by a worker that died (for longer than ``STALE_RUN``) is built again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        export = (
            ExportFile.objects.select_for_update()
            .select_related("call", "requested_by")
            .filter(pk=export_id)
            .first()
        )
        if export is None or not _may_start(export, now=now):
            return None
        export.status = ExportFile.Status.RUNNING
        export.started_at = now
        export.rows_done = 0
        export.save(update_fields=["status", "started_at", "rows_done"])

    try:
        with translation.override(export.language):
            headers, rows = call_export_table(call=export.call, user=export.requested_by)
            total = exportable_nominations(call=export.call, user=export.requested_by)[0]
            ExportFile.objects.filter(pk=export.pk).update(rows_total=total.count())

            def progress(done):
                ExportFile.objects.filter(pk=export.pk).update(rows_done=done)

            with tempfile.TemporaryFile() as out:
                done = xlsx_write(
                    headers, rows, title=export.call.title, out=out, progress=progress
                )
                out.seek(0)
                stamp = timezone.localtime(export.created_at).strftime("%Y%m%d-%H%M")
                export.file.save(
                    f"nomflow-call-{export.call_id}-{stamp}.xlsx", File(out), save=False
                )
    except Exception:
        logger.exception("Export %s of call %s failed", export.pk, export.call_id)
        ExportFile.objects.filter(pk=export.pk).update(
            status=ExportFile.Status.FAILED, expires_at=timezone.now() + _kept()
        )
        return None

    ready_at = timezone.now()
    export.status = ExportFile.Status.READY
    export.rows_done = export.rows_total = done
    export.ready_at = ready_at
    export.expires_at = ready_at + _kept()
    export.save(
        update_fields=["status", "file", "rows_done", "rows_total", "ready_at", "expires_at"]
    )
    _tell_ready(export)
    return export


def _may_start(export, *, now):
    if export.status == ExportFile.Status.QUEUED:
        return True
    return (
        export.status == ExportFile.Status.RUNNING
        and export.started_at is not None
        and export.started_at < now - STALE_RUN
    )


def _lost(export, *, now):
    """Whether ``export``'s build is presumed lost: queued, or started, ``STALE_RUN`` ago.

    Queued that long, its task never reached the broker (it was down at the request) or was
    dropped; running that long, its build was killed, and the redelivery found it running
    and stopped. Another task is then sent: a build that was only slow finds the export
    taken or done and does nothing (``export_build`` locks the row).
    """
    if export.status == ExportFile.Status.QUEUED:
        return export.created_at < now - STALE_RUN
    return _may_start(export, now=now)


def exports_resume(*, now):
    """Queue the build of every export whose build was lost (``_lost``); returns how many.

    Run hourly with the expiry, so no export stays "being prepared" for good and blocks
    its person's next export of the call.
    """
    stale = now - STALE_RUN
    lost = ExportFile.objects.filter(
        Q(status=ExportFile.Status.QUEUED, created_at__lt=stale)
        | Q(status=ExportFile.Status.RUNNING, started_at__lt=stale)
    )
    # A build lost again and again (one that is killed each time for its memory) is not
    # tried for ever: after GIVE_UP_AFTER it fails, and the page offers to ask again.
    lost.filter(created_at__lt=now - GIVE_UP_AFTER).update(
        status=ExportFile.Status.FAILED, expires_at=now + _kept()
    )
    resumed = list(lost.values_list("pk", flat=True))
    for export_id in resumed:
        _build_queue(export_id)
    return len(resumed)


def _kept():
    return datetime.timedelta(days=settings.EXPORT_FILE_DAYS)


def _tell_ready(export):
    with translation.override(export.language):
        notify(
            recipient=export.requested_by,
            kind=Message.Kind.EXPORT_READY,
            key=f"export-ready:{export.pk}",
            context={
                "call_title": export.call.title,
                "export_id": export.pk,
                "expires_at": export.expires_at.isoformat(),
            },
            path=reverse("nominations:exports", args=[export.call_id]),
        )


def export_visible_or_denied(*, export_id, user):
    """The export ``user`` may follow and download: their own, or any for admins.

    The requester must still be allowed to export the call (a coordinator who has left
    the role no longer gets the file). Raises PermissionDenied otherwise, or if it is gone.
    """
    if not user.is_authenticated:
        raise PermissionDenied
    export = ExportFile.objects.select_related("call").filter(pk=export_id).first()
    if export is None or not (user.is_staff or export.requested_by_id == user.pk):
        raise PermissionDenied
    exportable_nominations(call=export.call, user=user)
    return export


def exports_of(*, call, user, now=None):
    """The person's exports of ``call`` not yet expired, newest first."""
    now = now or timezone.now()
    return ExportFile.objects.filter(call=call, requested_by=user).exclude(expires_at__lte=now)


def exports_expire(*, now):
    """Delete expired exports and their files; returns how many. Safe to run twice."""
    deleted = 0
    for export in ExportFile.objects.filter(expires_at__lte=now).iterator(chunk_size=100):
        if export.file:
            export.file.delete(save=False)
        export.delete()
        deleted += 1
    return deleted
