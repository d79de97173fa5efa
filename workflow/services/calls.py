"""Setting up a call: its texts and settings, themes, rubric and survey, written as one unit.

A call is read as a ``CallDraft`` (``call_draft``, or ``call_copy_draft`` for a new call
that starts from an earlier one) and written back with ``call_save``. Which of the call's
fields a lead sets is read from the models' ``_meta``, so a field added to ``Call``,
``RubricCriterion`` or ``SurveyQuestion`` is copied and saved without a change here;
only what belongs to one round (its dates, its final selection, its nominations) is named.
"""

import dataclasses
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from modeltranslation.fields import TranslationField

from nominations.models import Call, Nomination, SurveyQuestion, Theme
from nominations.permissions import may_create_call, may_lead_call
from reviewers.models import CriterionScore, Review, RubricCriterion
from reviewers.selectors import HELD_STATUSES

#: The call's own record of one round: never copied, never set on the setup page.
ROUND_FIELDS = frozenset({"id", "selection_finalised_at", "selection_finalised_by"})
#: A new call gets its own dates (``call_copy_draft`` moves them on by whole years).
DATE_FIELDS = ("opens_at", "closes_at")
#: Rows of other tables that are part of the call's set-up, copied with it.
COPIED_RELATIONS = frozenset({"criteria", "questions"})
#: Rows of other tables that belong to one round: never copied.
ROUND_RELATIONS = frozenset({"nominations", "invitations", "invitationimportrow"})
#: A criterion's and a question's link to the call and place in it: set by ``call_save``.
ROW_PLACE_FIELDS = frozenset({"id", "call", "position"})


def _translated_originals(model):
    """The untranslated columns (``title``) whose per-language columns (``title_en``) stand
    for them: those are what a lead sets."""
    return {
        field.translated_field.name
        for field in model._meta.concrete_fields
        if isinstance(field, TranslationField)
    }


def _setting_names(model, *, leave_out):
    originals = _translated_originals(model)
    names = []
    for field in model._meta.get_fields():
        if field.auto_created and not field.concrete:
            continue  # a reverse relation: another table's rows
        if field.name in leave_out or field.name in originals:
            continue
        if not field.editable:
            continue  # kept by the code that owns it (a search index, a token), not set here
        names.append(field.name)
    return names


def call_setting_names():
    """Every field of ``Call`` a lead sets, the many-to-many ones included."""
    return _setting_names(Call, leave_out=ROUND_FIELDS)


def call_many_to_many_names():
    return [field.name for field in Call._meta.many_to_many if field.name not in ROUND_FIELDS]


def call_field_names():
    """The settings stored in the call's own row (not its many-to-many ones)."""
    many = set(call_many_to_many_names())
    return [name for name in call_setting_names() if name not in many]


def criterion_field_names():
    return _setting_names(RubricCriterion, leave_out=ROW_PLACE_FIELDS)


def question_field_names():
    return _setting_names(SurveyQuestion, leave_out=ROW_PLACE_FIELDS)


@dataclasses.dataclass
class CallDraft:
    """A call as the setup page shows it and ``call_save`` writes it.

    ``fields`` holds the call's own columns (``title_en`` … ``retention_days``), the
    many-to-many settings hold primary keys, and each criterion or question is a dict of
    its fields with its ``id`` (None for a new row), in order.
    """

    fields: dict
    themes: list
    leads: list
    selection_escalation_people: list
    criteria: list
    questions: list


class CallRefused(Exception):
    """Changes to a call refused because running nominations depend on what they change."""

    def __init__(self, reasons):
        super().__init__(" ".join(str(reason) for reason in reasons))
        self.reasons = list(reasons)


def call_draft(*, call):
    """``call`` as it stands, to edit: in four queries (themes, people, criteria, questions)."""
    fields = {name: getattr(call, name) for name in call_field_names()}
    people = {
        name: list(getattr(call, name).values_list("pk", flat=True))
        for name in call_many_to_many_names()
    }
    criteria = [
        {"id": row["id"], **{name: row[name] for name in criterion_field_names()}}
        for row in call.criteria.order_by("position", "pk").values("id", *criterion_field_names())
    ]
    questions = [
        {"id": row["id"], **{name: row[name] for name in question_field_names()}}
        for row in call.questions.order_by("position", "pk").values("id", *question_field_names())
    ]
    return CallDraft(
        fields=fields,
        themes=people.pop("themes"),
        leads=people.pop("leads"),
        selection_escalation_people=people.pop("selection_escalation_people"),
        criteria=criteria,
        questions=questions,
    )


def call_copy_draft(*, call, now=None):
    """A new call like ``call``: every setting, text, criterion and question, new rows.

    Nothing is saved. The dates move on by the fewest whole years that put the opening
    in the future (same day and hour in the call's time zone), and a year in the titles
    that lies within the earlier call's dates moves on with them; a title without a year
    gets the new one.
    """
    now = now or timezone.now()
    draft = call_draft(call=call)
    zone = ZoneInfo(call.time_zone)
    opens = timezone.localtime(call.opens_at, zone)
    closes = timezone.localtime(call.closes_at, zone)
    years = 1
    while _years_on(opens, years) <= now:
        years += 1
    draft.fields["opens_at"] = _years_on(opens, years)
    draft.fields["closes_at"] = _years_on(closes, years)
    for name in [n for n in draft.fields if n.startswith("title_")]:
        draft.fields[name] = _title_years_on(
            draft.fields[name], years=years, first=opens.year, last=closes.year
        )
    for row in (*draft.criteria, *draft.questions):
        row["id"] = None
    return draft


def _years_on(moment, years):
    """``moment`` that many years later on the wall clock of its time zone (29 February
    becomes the 28th)."""
    try:
        moved = moment.replace(year=moment.year + years)
    except ValueError:
        moved = moment.replace(year=moment.year + years, day=28)
    naive = datetime(*moved.timetuple()[:6])
    return naive.replace(tzinfo=moment.tzinfo)


YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def _title_years_on(title, *, years, first, last):
    if not title:
        return title
    found = False

    def move(match):
        nonlocal found
        year = int(match.group())
        if first <= year <= last:
            found = True
            return str(year + years)
        return match.group()

    moved = YEAR.sub(move, title)
    if not found:
        moved = f"{title} {first + years}"
    return moved[: Call._meta.get_field("title").max_length]


def call_save(
    *,
    call=None,
    by,
    fields,
    themes,
    leads,
    selection_escalation_people,
    criteria,
    questions,
    now=None,
):
    """Create a call (``call=None``) or change one; returns the call.

    ``criteria`` and ``questions`` are the complete lists in order: a saved row left out is
    removed, a row without ``id`` is new. Whoever creates a call becomes one of its leads.
    Changes that running nominations depend on are refused with ``CallRefused``, naming
    each obstacle and how many nominations, scores or answers hold to it: removing a
    criterion that has scores, removing (or changing the kind of) a question that has
    answers, removing a theme that nominations of the call chose, fewer reviewers per
    nomination than some nomination already holds, and moving the opening into the future
    once there are nominations, and leaving the call without a lead (refused for admins
    too). Everything is written in one transaction.
    """
    now = now or timezone.now()
    if call is None and not may_create_call(by):
        raise PermissionDenied
    if call is not None and not may_lead_call(user=by, call=call):
        raise PermissionDenied
    with transaction.atomic():
        if call is None:
            call = Call()
            existing_criteria, existing_questions = {}, {}
        else:
            # Two leads saving at once: one waits, then sees the other's rows.
            call = Call.objects.select_for_update().get(pk=call.pk)
            existing_criteria = {c.pk: c for c in call.criteria.all()}
            existing_questions = {q.pk: q for q in call.questions.all()}
            reasons = _refusals(
                call=call,
                fields=fields,
                themes=themes,
                criteria=criteria,
                questions=questions,
                existing_criteria=existing_criteria,
                existing_questions=existing_questions,
                now=now,
            )
            if not leads:
                # Nobody could then decide its selections or change it, admins aside.
                reasons.append(_("A call always keeps at least one lead: please name one."))
            if reasons:
                raise CallRefused(reasons)
        for name in call_field_names():
            if name in fields:
                setattr(call, name, fields[name])
        _empty_translations_as_null(call)
        try:
            call.full_clean(exclude=call_many_to_many_names())
        except ValidationError as error:
            raise CallRefused(error.messages) from None
        created = call.pk is None
        with translation.override(settings.LANGUAGE_CODE):
            call.save()
            call.themes.set(themes)
            call.leads.set({*leads, *([by.pk] if created else [])})
            call.selection_escalation_people.set(selection_escalation_people)
            _rows_save(
                model=RubricCriterion,
                call=call,
                rows=criteria,
                existing=existing_criteria,
                names=criterion_field_names(),
            )
            _rows_save(
                model=SurveyQuestion,
                call=call,
                rows=questions,
                existing=existing_questions,
                names=question_field_names(),
            )
    return call


def _empty_translations_as_null(obj):
    """A language
    left empty is stored as NULL, like a translation never made (the English shows).

    modeltranslation saves the untranslated column from the active language: the writes
    run with English active (``call_save``), so it holds the English text.
    """
    for field in obj._meta.concrete_fields:
        if isinstance(field, TranslationField) and getattr(obj, field.attname) == "":
            setattr(obj, field.attname, None)


def _rows_save(*, model, call, rows, existing, names):
    """Update, create and delete ``call``'s rows in a fixed number of statements."""
    kept, new = [], []
    for position, row in enumerate(rows):
        obj = existing.get(row.get("id")) if row.get("id") else None
        if obj is None:
            obj = model(call=call)
            new.append(obj)
        else:
            kept.append(obj)
        for name in names:
            if name in row:
                setattr(obj, name, row[name])
        obj.position = position
        _empty_translations_as_null(obj)
    gone = set(existing) - {obj.pk for obj in kept}
    if gone:
        model.objects.filter(pk__in=gone).delete()
    if kept:
        model.objects.bulk_update(kept, [*names, "position", *_translated_originals(model)])
    if new:
        model.objects.bulk_create(new)


def _refusals(
    *, call, fields, themes, criteria, questions, existing_criteria, existing_questions, now
):
    reasons = []
    posted_criteria = {row["id"] for row in criteria if row.get("id")}
    posted_questions = {row["id"] for row in questions if row.get("id")}
    if posted_criteria - set(existing_criteria) or posted_questions - set(existing_questions):
        reasons.append(
            _(
                "Someone changed this call's rubric or survey while you edited it; "
                "please open the page again."
            )
        )
        return reasons

    removed = set(existing_criteria) - posted_criteria
    if removed:
        scores = dict(
            CriterionScore.objects.filter(criterion_id__in=removed)
            .values("criterion_id")
            .annotate(n=Count("pk"))
            .values_list("criterion_id", "n")
        )
        for pk in sorted(scores, key=lambda pk: existing_criteria[pk].position):
            reasons.append(
                ngettext(
                    "Criterion “%(title)s” has %(count)d score and cannot be removed; "
                    "rename it instead or add a new one.",
                    "Criterion “%(title)s” has %(count)d scores and cannot be removed; "
                    "rename it instead or add a new one.",
                    scores[pk],
                )
                % {"title": existing_criteria[pk].title, "count": scores[pk]}
            )

    kinds = {row["id"]: row.get("kind") for row in questions if row.get("id")}
    for pk, question in existing_questions.items():
        removing = pk not in posted_questions
        if not removing and kinds.get(pk) in (None, question.kind):
            continue
        answers = Nomination.objects.filter(
            call_id=call.pk, survey_answers__has_key=str(pk)
        ).count()
        if not answers:
            continue
        if removing:
            message = ngettext(
                "Question “%(text)s” has %(count)d answer and cannot be removed; "
                "reword it instead or add a new one.",
                "Question “%(text)s” has %(count)d answers and cannot be removed; "
                "reword it instead or add a new one.",
                answers,
            )
        else:
            message = ngettext(
                "Question “%(text)s” has %(count)d answer, so its kind cannot change; "
                "add a new question instead.",
                "Question “%(text)s” has %(count)d answers, so its kind cannot change; "
                "add a new question instead.",
                answers,
            )
        reasons.append(message % {"text": question.text, "count": answers})

    removed_themes = set(call.themes.values_list("pk", flat=True)) - set(themes)
    if removed_themes:
        used = dict(
            Nomination.themes.through.objects.filter(
                nomination__call_id=call.pk, theme_id__in=removed_themes
            )
            .values("theme_id")
            .annotate(n=Count("pk"))
            .values_list("theme_id", "n")
        )
        for theme in Theme.objects.filter(pk__in=used).order_by("name"):
            reasons.append(
                ngettext(
                    "Theme “%(name)s” is chosen by %(count)d nomination and cannot be "
                    "removed from the call.",
                    "Theme “%(name)s” is chosen by %(count)d nominations and cannot be "
                    "removed from the call.",
                    used[theme.pk],
                )
                % {"name": theme.name, "count": used[theme.pk]}
            )

    wanted = fields.get("reviewers_per_nomination", call.reviewers_per_nomination)
    if wanted < call.reviewers_per_nomination:
        fuller = (
            Review.objects.filter(nomination__call_id=call.pk, status__in=HELD_STATUSES)
            .values("nomination_id")
            .annotate(n=Count("pk"))
            .filter(n__gt=wanted)
        )
        count = fuller.count()
        if count:
            most = max(fuller.values_list("n", flat=True))
            reasons.append(
                ngettext(
                    "Reviewers per nomination cannot go below %(most)d: %(count)d "
                    "nomination already has that many reviewers.",
                    "Reviewers per nomination cannot go below %(most)d: %(count)d "
                    "nominations already have that many reviewers.",
                    count,
                )
                % {"most": most, "count": count}
            )

    opens_at = fields.get("opens_at", call.opens_at)
    if opens_at != call.opens_at and opens_at > now:
        nominations = Nomination.objects.filter(call_id=call.pk).count()
        if nominations:
            reasons.append(
                ngettext(
                    "The call already has %(count)d nomination, so its opening cannot "
                    "move into the future.",
                    "The call already has %(count)d nominations, so its opening cannot "
                    "move into the future.",
                    nominations,
                )
                % {"count": nominations}
            )
    return reasons


def people_by_email(emails):
    """The accounts with these email addresses: ``(users, unknown addresses)``."""
    wanted = {email.strip().lower() for email in emails if email.strip()}
    if not wanted:
        return [], []
    query = Q()
    for email in wanted:
        query |= Q(email__iexact=email)
    users = list(get_user_model().objects.filter(query).order_by("email", "pk"))
    found = {user.email.lower() for user in users}
    return users, sorted(wanted - found)
