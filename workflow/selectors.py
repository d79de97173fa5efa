"""Who may see and do what: every read that depends on the person asking."""

from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from nominations.models import Call, Country, Nomination
from nominations.permissions import coordinates_country, is_coordinator, leads_call
from reviewers.models import Review

from . import actors
from .actors import ACTORS, POOLS
from .deadlines import OPEN_TASK_STATUSES
from .flows import NominationFlow
from .models import NominationProcess
from .nodes import PASSED


def _nodes(names):
    return tuple(getattr(NominationFlow, name) for name in names)


#: Every human step, and those whose tasks a pool may take (see ``workflow.actors``).
HUMAN_NODES = _nodes(ACTORS)
COORDINATOR_NODES = _nodes(POOLS[actors.COORDINATORS])
POOL_NODES = {node: ACTORS[node.name].pool for node in HUMAN_NODES if ACTORS[node.name].pool}
#: How a pool's members are found from a task, as a lookup to compare with the person.
_POOL_MEMBERS = {
    actors.COORDINATORS: "process__nominationprocess__nomination__country__coordinators",
    actors.LEADS: "process__nominationprocess__nomination__call__leads",
}


#: How a nomination is in a pool member's reach: its country among those a coordinator
#: coordinates, or its call among those a lead leads (the link tables, read by person).
_POOL_REACH = {
    actors.COORDINATORS: ("country_id", Country.coordinators.through, "country_id"),
    actors.LEADS: ("call_id", Call.leads.through, "call_id"),
}


def _owned_task_ids(user):
    """Open human tasks ``user`` holds: one range of the partial index on open tasks' owners."""
    return (
        Task.objects.filter(owner=user, status__in=OPEN_TASK_STATUSES, flow_task__in=HUMAN_NODES)
        .values("pk")
        .order_by()
    )


def _pool_task_ids(user, party):
    """Open tasks nobody holds of ``party``'s nodes, for nominations in ``user``'s reach.

    Reads the open unowned tasks of the pool's nodes (partial index ``task_open_pool``),
    never a done one, and keeps those whose nomination's country (or call) is the
    person's. The whole branch stands behind an uncorrelated EXISTS on the link table,
    which PostgreSQL checks once: for someone in no such pool the branch is never run.
    """
    field, links, linked = _POOL_REACH[party]
    reach = links.objects.filter(user=user)
    processes = NominationProcess.objects.filter(
        **{f"nomination__{field}__in": reach.values(linked)}
    ).values("pk")
    return (
        Task.objects.filter(
            Exists(reach),
            owner__isnull=True,
            status__in=OPEN_TASK_STATUSES,
            flow_task__in=_nodes(POOLS[party]),
            process_id__in=processes,
        )
        .values("pk")
        .order_by()
    )


def open_task_ids_for(*, user):
    """The ids of the person's inbox as one UNION: tasks they hold, then each pool's.

    Each branch is answered from an index on its own; the OR of the owner and the pool
    joins that this replaces made PostgreSQL hash-join every task first.
    """
    branches = [_pool_task_ids(user, party) for party in sorted(POOLS)]
    return _owned_task_ids(user).union(*branches)


def _pk_among(ids):
    """A condition "the row's key is one of ``ids``" that PostgreSQL answers key by key.

    There it is ``id = ANY(ARRAY(ids))``: the ids are read first, once, then each row by
    its primary key. With ``id IN (ids)`` the planner, expecting a few hundred ids from
    the union, hashed them against a sequential scan of every task. Elsewhere it is IN.
    """
    if connection.vendor != "postgresql":
        return Q(pk__in=ids)
    return Func(
        F("pk"),
        Subquery(ids),
        arg_joiner=" = ANY(ARRAY(",
        template="(%(expressions)s)))",
        output_field=BooleanField(),
    )


def open_tasks_for(*, user):
    """The person's inbox: open tasks assigned to them or to a pool they are in.

    One query for anyone: for a person who holds nothing and is in no pool it reads an
    empty range of the owner index and two empty link-table lookups.
    """
    if not user.is_authenticated:
        return Task.objects.none()
    return (
        Task.objects.filter(_pk_among(open_task_ids_for(user=user)))
        .select_related(
            "process__nominationprocess__nomination__country",
            "process__nominationprocess__nomination__call",
        )
        .order_by("scheduled", "created", "pk")
    )


def can_act_on_task(*, user, task):
    """Whether ``user`` may do ``task`` (or, for a pool task, could have done it)."""
    if not user.is_authenticated:
        return False
    rules = ACTORS.get(getattr(task.flow_task, "name", ""))
    if rules is None:
        return task.owner_id == user.pk
    parties = rules.may_act(owned=task.owner_id is not None)
    if actors.OWNER in parties and task.owner_id == user.pk:
        return True
    if rules.pool in parties:
        nomination = _nomination_held(task)
        if nomination is not None:
            # A step holds the task with its nomination: the pool is one row of a link table.
            if rules.pool == actors.COORDINATORS:
                return coordinates_country(user=user, country_id=nomination.country_id)
            return leads_call(user=user, call=nomination.call)
        # The task's own pool only: one join path, where the OR over every pool's joins
        # made PostgreSQL read far more than this one row (7 ms against under 1 ms).
        return Task.objects.filter(pk=task.pk, **{_POOL_MEMBERS[rules.pool]: user}).exists()
    return False


def _nomination_held(task):
    """The task's nomination with its call if they were read with it, else None."""
    if not Task.process.is_cached(task):
        return None
    process = task.process
    link = type(process).nominationprocess
    if not link.is_cached(process):
        return None
    holder = process.nominationprocess
    if not type(holder).nomination.is_cached(holder):
        return None
    nomination = holder.nomination
    return nomination if type(nomination).call.is_cached(nomination) else None


def nominations_visible_to(*, user):
    """Nominations ``user`` may open, as a queryset without duplicates.

    Nominators see their own; coordinators their countries' submitted ones;
    reviewers those they review (not those they declined); leads their calls'
    nominations from selection on; admins everything.
    """
    if not user.is_authenticated:
        return Nomination.objects.none()
    if user.is_staff:
        return Nomination.objects.all()
    reviewed = Review.objects.filter(reviewer=user).exclude(status=Review.Status.DECLINED)
    visible = (
        Q(nominator=user)
        | (Q(country__coordinators=user) & ~Q(stage=Nomination.Stage.DRAFT))
        | Q(pk__in=reviewed.values("nomination_id"))
        | Q(
            call__leads=user,
            stage__in=[Nomination.Stage.SELECTION, Nomination.Stage.DECIDED],
        )
    )
    return Nomination.objects.filter(pk__in=Nomination.objects.filter(visible).values("pk"))


def nomination_viewer_role(*, user, nomination):
    """The broadest role in which ``user`` sees ``nomination``; decides what is shown.

    Returns one of "admin", "lead", "coordinator", "reviewer", "nominator" or None.
    """
    if not user.is_authenticated:
        return None
    if user.is_staff:
        return "admin"
    after_review = nomination.stage in {Nomination.Stage.SELECTION, Nomination.Stage.DECIDED}
    if after_review and leads_call(user=user, call=nomination.call):
        return "lead"
    if nomination.stage != Nomination.Stage.DRAFT and coordinates_country(
        user=user, country_id=nomination.country_id
    ):
        return "coordinator"
    if (
        Review.objects.filter(reviewer=user, nomination=nomination)
        .exclude(status=Review.Status.DECLINED)
        .exists()
    ):
        return "reviewer"
    if nomination.nominator_id == user.pk:
        return "nominator"
    return None


def tasks_of_nomination(*, nomination):
    """All workflow steps of one nomination, oldest first, for the history and chart."""
    return Task.objects.filter(process__nominationprocess__nomination=nomination).order_by(
        "created", "pk"
    )


def steps_of_process(*, process_id):
    """[(node, status)] of every step a process has taken, oldest first, routed ones included.

    A human task is its own step; the routed nodes it led to (gateways, functions, the
    join, the ends: ``workflow.nodes``) have no row and follow it, done, in the order its
    ``data["passed"]`` lists them.
    """
    steps = []
    tasks = Task.objects.filter(process_id=process_id).order_by("created", "pk")
    for flow_task, status, data in tasks.values_list("flow_task", "status", "data"):
        steps.append((flow_task, status))
        for name in (data or {}).get(PASSED, []):
            steps.append((NominationFlow.instance.node(name), STATUS.DONE))
    return steps


def calls_led_by(user):
    """The calls ``user`` leads, newest first: for the menu's links to boards and dashboards."""
    if not user.is_authenticated:
        return []
    return list(user.led_calls.order_by("-opens_at", "pk"))


def user_roles(user, *, led_calls=None):
    """The roles a person holds, e.g. {"nominator", "reviewer"}; empty when anonymous.

    ``led_calls`` (from ``calls_led_by``), when the caller has them already, spares a query.
    """
    if not user.is_authenticated:
        return set()
    roles = {"nominator"}
    if user.coordinated_countries.exists():
        roles.add("coordinator")
    if hasattr(user, "reviewer_profile"):
        roles.add("reviewer")
    if led_calls if led_calls is not None else user.led_calls.exists():
        roles.add("lead")
    if user.is_staff:
        roles.add("admin")
    return roles


def tasks_awaiting_reviewers(*, call, user):
    """Open "reviewers needed" tasks of ``call`` that ``user`` may act on, oldest first."""
    if not user.is_authenticated:
        return Task.objects.none()
    tasks = Task.objects.filter(
        flow_task=NominationFlow.find_reviewers,
        status__in=OPEN_TASK_STATUSES,
        process__nominationprocess__nomination__call=call,
    )
    if not user.is_staff:
        tasks = tasks.filter(process__nominationprocess__nomination__country__coordinators=user)
    return tasks.select_related("process__nominationprocess__nomination__country").order_by(
        "created", "pk"
    )


def may_assign_in_bulk(*, user):
    """Admins, and national coordinators for their countries' nominations."""
    return user.is_authenticated and (user.is_staff or is_coordinator(user))


def calls_awaiting_reviewers(*, user):
    """[(call, waiting nominations)] where ``user`` may assign reviewers in bulk."""
    from django.db.models import Count

    from nominations.models import Call

    if not user.is_authenticated:
        return []
    # One query for everyone: for someone who coordinates no country it finds nothing.
    tasks = Task.objects.filter(
        flow_task=NominationFlow.find_reviewers, status__in=OPEN_TASK_STATUSES
    )
    if not user.is_staff:
        tasks = tasks.filter(process__nominationprocess__nomination__country__coordinators=user)
    counts = dict(
        tasks.values_list("process__nominationprocess__nomination__call")
        .annotate(waiting=Count("pk", distinct=True))
        .values_list("process__nominationprocess__nomination__call", "waiting")
    )
    if not counts:
        return []
    return [(call, counts[call.pk]) for call in Call.objects.filter(pk__in=counts)]


def open_review_tasks(*, nomination):
    """The nomination's open review tasks with their reviewers, for its coordinators."""
    return (
        Task.objects.filter(
            process__nominationprocess__nomination=nomination,
            flow_task=NominationFlow.review,
            status__in=OPEN_TASK_STATUSES,
        )
        .select_related("owner__reviewer_profile__country")
        .order_by("created", "pk")
    )


#: Stages that may still reach a decision: the selection cannot be final while any is here.
UNDECIDED_STAGES = (
    Nomination.Stage.SCREENING,
    Nomination.Stage.CHANGES_REQUESTED,
    Nomination.Stage.REVIEW,
    Nomination.Stage.SELECTION,
)


def undecided_nominations(*, call):
    """The call's submitted nominations without a decision, each with its open task if any.

    Returns [(nomination, task or None)]: what stands between the call and a final
    selection, with the step each one waits at, so that leads can go and see it.
    """
    nominations = list(
        call.nominations.filter(stage__in=UNDECIDED_STAGES)
        .select_related("country")
        .order_by("title", "pk")
    )
    tasks = dict(
        Task.objects.filter(
            process__nominationprocess__nomination__in=nominations,
            flow_task__in=HUMAN_NODES,
            status__in=OPEN_TASK_STATUSES,
        )
        .order_by("created")
        .values_list("process__nominationprocess__nomination", "pk")
    )
    return [(nomination, tasks.get(nomination.pk)) for nomination in nominations]


def undecided_first(*, call, limit):
    """(how many there are, the first ``limit`` of ``undecided_nominations``), in one query.

    For a page that names only a few: the count and each one's open task (the latest, as
    ``undecided_nominations`` gives it) come with the rows.
    """
    from django.db.models import Count, Window

    latest_task = (
        Task.objects.filter(
            process__nominationprocess__nomination=OuterRef("pk"),
            flow_task__in=HUMAN_NODES,
            status__in=OPEN_TASK_STATUSES,
        )
        .order_by("-created", "-pk")
        .values("pk")[:1]
    )
    # The long texts left out: every undecided nomination of the call is counted and
    # sorted before the first few are kept, and carrying those texts through the sort
    # cost more than the rest of the query (8 ms instead of 3 at 2,500 nominations).
    long_texts = [
        field.name
        for field in Nomination._meta.concrete_fields
        if field.get_internal_type() in ("TextField", "JSONField")
    ]
    nominations = list(
        call.nominations.filter(stage__in=UNDECIDED_STAGES)
        .select_related("country")
        .defer(*long_texts)
        .annotate(open_task=Subquery(latest_task), undecided_total=Window(Count("pk")))
        .order_by("title", "pk")[:limit]
    )
    total = nominations[0].undecided_total if nominations else 0
    return total, [(nomination, nomination.open_task) for nomination in nominations]


def selection_final_audience(*, call):
    """How many nominators a final selection tells: one per decided nomination's nominator."""
    return (
        call.nominations.filter(stage=Nomination.Stage.DECIDED)
        .values("nominator")
        .distinct()
        .count()
    )


# --- dashboards --------------------------------------------------------------------------


def may_see_dashboard(*, user, call=None):
    """Admins see every call; leads their calls; coordinators the calls of their countries."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    if call is None:
        return False
    return leads_call(user=user, call=call) or is_coordinator(user)


def dashboard_figures(*, calls, countries=None):
    """The figures of one or more calls' dashboards, in a fixed number of queries.

    Returns a dict of tables: the pipeline by stage and country, review progress,
    overdue tasks by who holds them, reviewers' open load and the score distribution.
    ``countries`` limits every figure to those countries' nominations (a coordinator's).
    """
    from django.db.models import Count
    from django.utils import timezone

    from nominations.models import Country
    from reviewers.models import CriterionScore

    in_scope = Q(call__in=calls)
    if countries is not None:
        in_scope &= Q(country__in=countries)
    nominations = Nomination.objects.filter(in_scope).exclude(stage=Nomination.Stage.DRAFT)
    scoped = nominations.values("pk")
    stages = [stage for stage in Nomination.Stage if stage != Nomination.Stage.DRAFT]
    partner_countries = Country.objects.filter(is_partner=True).order_by("name")
    if countries is not None:
        partner_countries = partner_countries.filter(pk__in=[c.pk for c in countries])
    countries = list(partner_countries)
    counts = {
        (row["stage"], row["country"]): row["n"]
        for row in nominations.values("stage", "country").annotate(n=Count("pk"))
    }
    pipeline = {
        "columns": [str(stage.label) for stage in stages],
        "rows": [
            (country.name, [counts.get((stage.value, country.pk), 0) for stage in stages])
            for country in countries
        ],
    }
    reviews = dict(
        Review.objects.filter(nomination__in=scoped)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    review_progress = [
        (str(status.label), reviews.get(status.value, 0)) for status in Review.Status
    ]
    overdue = (
        Task.objects.filter(
            process__nominationprocess__nomination__in=scoped,
            flow_task__in=HUMAN_NODES,
            status__in=OPEN_TASK_STATUSES,
            scheduled__lt=timezone.now(),
        )
        .values("owner__first_name", "owner__last_name", "owner__email", "flow_task")
        .annotate(n=Count("pk"))
        .order_by("-n", "owner__email")
    )
    overdue_by_person = [
        (
            " ".join(filter(None, [row["owner__first_name"], row["owner__last_name"]]))
            or row["owner__email"]
            or str(POOL_TITLES.get(str(row["flow_task"]), "")),
            row["n"],
        )
        for row in overdue
    ]
    workload = [
        (
            " ".join(filter(None, [row["reviewer__first_name"], row["reviewer__last_name"]]))
            or row["reviewer__email"],
            row["n"],
            row["reviewer__reviewer_profile__capacity"],
        )
        for row in Review.objects.filter(nomination__in=scoped, status__in=Review.OPEN_STATUSES)
        .values(
            "reviewer__first_name",
            "reviewer__last_name",
            "reviewer__email",
            "reviewer__reviewer_profile__capacity",
        )
        .annotate(n=Count("pk"))
        .order_by("-n", "reviewer__email")
    ]
    scores = dict(
        CriterionScore.objects.filter(
            review__nomination__in=scoped,
            review__status=Review.Status.SUBMITTED,
            score__isnull=False,
        )
        .values("score")
        .annotate(n=Count("pk"))
        .values_list("score", "n")
    )
    return {
        "pipeline": pipeline,
        "review_progress": review_progress,
        "overdue_by_person": overdue_by_person,
        "workload": workload,
        "score_distribution": [(score, scores.get(score, 0)) for score in range(1, 6)],
    }


#: Who holds an overdue pool task nobody has taken yet.
POOL_TITLES = {
    str(NominationFlow.screen): _("Coordinators (screening)"),
    str(NominationFlow.find_reviewers): _("Coordinators (reviewers needed)"),
    str(NominationFlow.find_replacement): _("Coordinators (replacement needed)"),
    str(NominationFlow.select): _("Leads (selection)"),
}


# --- the nominator's view of their nominations' progress ---------------------------------


#: The steps of the journey, in order, for the status timeline.
JOURNEY = [
    (Nomination.Stage.DRAFT, _("Submission")),
    (Nomination.Stage.SCREENING, _("National screening")),
    (Nomination.Stage.REVIEW, _("Peer review")),
    (Nomination.Stage.SELECTION, _("Selection")),
    (Nomination.Stage.DECIDED, _("Decision")),
]


def next_due_subquery():
    return Subquery(
        Task.objects.filter(
            process__nominationprocess__nomination=OuterRef("pk"),
            status__in=OPEN_TASK_STATUSES,
            flow_task_type="HUMAN",
        )
        .order_by("-scheduled")
        .values("scheduled")[:1]
    )


def my_nominations(*, user):
    """The nominator's own nominations with their stage and next deadline (one query)."""
    return (
        Nomination.objects.filter(nominator=user)
        .select_related("call", "country")
        .annotate(next_due=next_due_subquery())
        .order_by("-created_at")
    )


def nomination_next_due(*, nomination):
    return (
        Task.objects.filter(
            process__nominationprocess__nomination=nomination,
            status__in=OPEN_TASK_STATUSES,
            flow_task_type="HUMAN",
        )
        .order_by("-scheduled")
        .values_list("scheduled", flat=True)
        .first()
    )


def nomination_timeline(*, nomination):
    """The journey's steps, each "done", "current", "rejected" or "upcoming"."""
    stage = nomination.stage
    current = {
        Nomination.Stage.CHANGES_REQUESTED: Nomination.Stage.SCREENING,
        Nomination.Stage.REJECTED: Nomination.Stage.SCREENING,
    }.get(stage, stage)
    position = [journey_stage for journey_stage, _label in JOURNEY].index(current)
    steps = []
    for index, (_stage, label) in enumerate(JOURNEY):
        if index < position or stage == Nomination.Stage.DECIDED:
            state = "done"
        elif index == position:
            state = "rejected" if stage == Nomination.Stage.REJECTED else "current"
        else:
            state = "upcoming"
        steps.append({"label": label, "state": state})
    return {
        "steps": steps,
        "next_step": nomination.next_step,
        "next_due": nomination_next_due(nomination=nomination),
    }
