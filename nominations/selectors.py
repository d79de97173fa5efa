"""Reads of nominations for pages: lists, timelines, history."""

from dataclasses import dataclass

from django.db.models import Count, FilteredRelation, Q
from django.utils.translation import gettext_lazy as _

from .accounts import user_display
from .models import (
    Call,
    Country,
    Invitation,
    Nomination,
    NominationEvent,
    PublishedPractice,
    SurveyQuestion,
)
from .search import practices_matching


def nomination_history_for(*, nomination, role, user):
    """The recorded actions ``role`` may read, with identities only for staff roles.

    Nominators (and reviewers, for others' steps) never see who reviewed,
    which reviewers were chosen, or review-level steps.
    """
    events = nomination.events.select_related("actor")
    staff = role in {"admin", "lead", "coordinator"}
    rows = []
    for event in events:
        own_review_step = role == "reviewer" and event.actor_id == user.pk
        if not (staff or event.is_visible_to_nominator or own_review_step):
            continue
        if role == "reviewer" and event.action == NominationEvent.Action.DECIDED:
            continue  # reviewers judge the practice; the leads' decision is not theirs to read
        show_identity = staff or own_review_step
        hide_outcome = not staff and event.action == NominationEvent.Action.REVIEWERS_ASSIGNED
        rows.append(
            {
                "when": event.created_at,
                "action": event.get_action_display(),
                "action_code": event.action,
                "who": (
                    user_display(event.actor)
                    if show_identity and event.actor
                    else event.get_actor_role_display()
                ),
                "outcome": "" if hide_outcome else event.outcome_display,
                "message": event.message,
            }
        )
    return rows


def survey_answer_rows(*, nomination):
    """(question, answer for display) pairs in the call's order."""
    answers = nomination.survey_answers
    rows = []
    for question in nomination.call.questions.all():
        value = answers.get(str(question.pk))
        if isinstance(value, list):
            value = ", ".join(question.choice_label(choice) for choice in value)
        elif isinstance(value, str) and question.kind == SurveyQuestion.Kind.SINGLE_CHOICE:
            value = question.choice_label(value)
        elif isinstance(value, bool):
            value = _("Yes") if value else _("No")
        rows.append((question, value))
    return rows


# --- the public knowledge hub ------------------------------------------------------------


def hub_practices(*, words="", country=None, theme=None, kind="", call=None):
    """Published practices whose nominators consented, newest first, filtered.

    ``words`` are searched in every version's title, summary and results, ignoring case
    and accents; on PostgreSQL also by stem, best match first (``nominations.search``).
    Each practice comes with its translations.
    """
    practices = PublishedPractice.objects.filter(
        is_published=True, nomination__consent_to_publish=True
    )
    if country:
        practices = practices.filter(nomination__country=country)
    if theme:
        practices = practices.filter(nomination__themes=theme)
    if kind:
        practices = practices.filter(nomination__kind=kind)
    if call:
        practices = practices.filter(nomination__call=call)
    practices = (
        practices.select_related("nomination__country", "nomination__call", "nomination__decision")
        .prefetch_related("nomination__themes", "translations")
        .order_by("-first_published_at", "-pk")
        .distinct()
    )
    return practices_matching(practices, words)


def exportable_calls(*, user):
    """Calls whose nominations ``user`` may export: all for admins, else led or coordinated."""
    if not user.is_authenticated:
        return Call.objects.none()
    if user.is_staff:
        return Call.objects.all()
    return Call.objects.filter(
        Q(leads=user) | Q(nominations__country__coordinators=user)
    ).distinct()


# --- the selection's balance against the call's targets ------------------------------------


#: Nominations the balance counts: in selection (undecided) or decided.
BALANCE_STAGES = (Nomination.Stage.SELECTION, Nomination.Stage.DECIDED)

#: The outcomes that count as selected.
SHOWCASE_OUTCOMES = ("transnational", "national")


@dataclass
class BalanceLine:
    name: str
    selected: int
    undecided: int
    target: int

    @property
    def met(self):
        return self.selected >= self.target

    @property
    def out_of_reach(self):
        """Even selecting every undecided nomination would not meet the target."""
        return self.selected + self.undecided < self.target


def selection_balance(*, call):
    """(per country, per theme) lines: selected, still undecided, and the call's target.

    Counts the call's nominations in selection (undecided) and decided for a showcase,
    grouped by the database: two small grouped queries, however many nominations. The
    call and stages are in the join's own condition, so only this call's nominations are
    joined (not every call's, filtered afterwards).
    """

    def counts():
        considered = FilteredRelation(
            "nominations",
            condition=Q(nominations__call=call, nominations__stage__in=BALANCE_STAGES),
        )
        return {"considered": considered}, {
            "selected": Count(
                "considered", filter=Q(considered__decision__outcome__in=SHOWCASE_OUTCOMES)
            ),
            "undecided": Count("considered", filter=Q(considered__decision__isnull=True)),
        }

    joined, counted = counts()
    countries = (
        Country.objects.filter(is_partner=True)
        .annotate(**joined)
        .annotate(**counted)
        .order_by("name")
    )
    # The call's themes: a theme's nominations are reached through the nomination-theme
    # table, so a nomination of another call with the same theme is not counted.
    joined, counted = counts()
    themes = (
        call.themes.annotate(**joined).annotate(**counted).order_by("-is_priority", "name", "pk")
    )
    by_country = call.min_selected_per_country
    by_theme = call.min_selected_per_theme
    return (
        [BalanceLine(c.name, c.selected, c.undecided, by_country) for c in countries],
        [BalanceLine(t.name, t.selected, t.undecided, by_theme) for t in themes],
    )


def target_warnings(*, nomination):
    """What not selecting ``nomination`` would put out of reach, as sentences."""
    call = nomination.call
    if not (call.min_selected_per_country or call.min_selected_per_theme):
        return []
    by_country, by_theme = selection_balance(call=call)
    names = {nomination.country.name} | {theme.name for theme in nomination.themes.all()}
    warnings = []
    for line in [*by_country, *by_theme]:
        # Without this one, the rest still undecided could not bring the line to target.
        at_stake = line.name in names and line.target and not line.met
        if at_stake and line.selected + line.undecided - 1 < line.target:
            warnings.append(
                _(
                    "Not selecting it leaves %(name)s below its target: %(selected)d "
                    "selected of at least %(target)d."
                )
                % {"name": line.name, "selected": line.selected, "target": line.target}
            )
    return warnings


def open_calls(*, now):
    """Calls taking nominations at ``now``, the soonest to close first."""
    return Call.objects.filter(opens_at__lte=now, closes_at__gt=now).order_by("closes_at")


def invitations_visible_to(*, user):
    """The invitations ``user`` may see, resend and withdraw (``may_manage_invitation``).

    Admins: all. Coordinators: reviewer invitations for their countries. Leads: reviewer
    invitations for their calls. Everyone else: none.
    """
    invitations = Invitation.objects.select_related("country", "call", "inviter", "accepted_by")
    if not user.is_authenticated:
        return invitations.none()
    if user.is_staff:
        return invitations
    return invitations.filter(
        Q(country__in=Country.objects.filter(coordinators=user))
        | Q(call__in=Call.objects.filter(leads=user)),
        role=Invitation.Role.REVIEWER,
    )
