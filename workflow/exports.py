"""A call's nominations as a table, for CSV and Excel: answers, scores, decisions.

What a person exports is what they may see: admins every submitted nomination
of the call, coordinators their countries', leads the call's nominations from
selection on. Reviewer identities appear only for admins and the call's leads;
coordinators get each review's scores as "Review 1", "Review 2"…
"""

import csv
import datetime
import io
import re
from statistics import mean

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from nominations.accounts import is_erased, reviewer_display
from nominations.models import Nomination, SurveyQuestion
from nominations.permissions import is_coordinator, leads_call
from reviewers.selectors import submitted_reviews_prefetch, weighted_mean


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
    """(headers, rows) of the call's nominations as ``user`` may export them."""
    nominations, name_reviewers = exportable_nominations(call=call, user=user)
    nominations = list(
        nominations.select_related("country", "decision")
        .prefetch_related("themes", submitted_reviews_prefetch())
        .order_by("pk")
    )
    questions = list(call.questions.all())
    criteria = list(call.criteria.all())
    most_reviews = max((len(n.reviews.all()) for n in nominations), default=0)
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

    rows = []
    for nomination in nominations:
        reviews = list(nomination.reviews.all())
        scores = [
            {score.criterion_id: score.score for score in review.scores.all()} for review in reviews
        ]
        row = [
            nomination.pk,
            nomination.title,
            nomination.get_kind_display(),
            nomination.country.name if nomination.country else "",
            nomination.organisation,
            ", ".join(theme.name for theme in nomination.themes.all()),
            nomination.language,
            nomination.year_started,
            nomination.get_stage_display(),
            _local(nomination.submitted_at),
            *[_answer(q, nomination.survey_answers.get(str(q.pk))) for q in questions],
        ]
        means = []
        for criterion in criteria:
            given = [s[criterion.pk] for s in scores if s.get(criterion.pk) is not None]
            means.append(round(mean(given), 2) if given else None)
        weighted = weighted_mean(criteria=criteria, means=means)
        row += ["" if m is None else m for m in means]
        row.append("" if weighted is None else weighted)
        for index in range(most_reviews):
            review = reviews[index] if index < len(reviews) else None
            if name_reviewers:
                row.append(_reviewer_name(review) if review else "")
            row += [scores[index].get(c.pk, "") if review else "" for c in criteria]
            row.append(review.comment if review else "")
        decision = getattr(nomination, "decision", None)
        row += [
            decision.get_outcome_display() if decision else "",
            decision.rationale if decision else "",
            _local(decision.decided_at) if decision else "",
        ]
        rows.append(row)
    return headers, rows


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


def _reviewer_name(review):
    user = review.reviewer
    profile = getattr(user, "reviewer_profile", None)
    country = f" ({profile.country.code})" if profile else ""
    if is_erased(user):
        return reviewer_display(user)
    return f"{reviewer_display(user)} <{user.email}>{country}"


def as_csv(headers, rows):
    out = io.StringIO()
    # A byte order mark so that spreadsheet programs read the file as UTF-8.
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows([_csv_cell(value) for value in row] for row in rows)
    return out.getvalue().encode()


def _csv_cell(value):
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return _safe_cell(value)


def as_xlsx(headers, rows, *, title):
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.properties.title = title  # the full title; the sheet's name may be shorter
    sheet = workbook.active
    sheet.title = _sheet_name(title)
    sheet.append([str(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        # Excel keeps no time zone: local times go in as they read, the zone in the header.
        sheet.append(
            [
                value.replace(tzinfo=None)
                if isinstance(value, datetime.datetime)
                else _safe_cell(value)
                for value in row
            ]
        )
    widths = [len(str(header)) for header in headers]
    for row in sheet.iter_rows(min_row=2):
        for index, cell in enumerate(row):
            if isinstance(cell.value, datetime.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
                length = 16
            else:
                length = max((len(line) for line in str(cell.value or "").splitlines()), default=0)
            widths[index] = max(widths[index], length)
    for index, width in enumerate(widths, start=1):
        # Wide enough to read, capped so that a long comment does not make a wall.
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 6), 50) + 2
    sheet.freeze_panes = "C2"
    out = io.BytesIO()
    workbook.save(out)
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
