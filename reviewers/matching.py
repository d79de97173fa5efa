"""Reviewer matching over a whole call, as a min-cost flow (OR-Tools).

Pure data in, data out: the services load ``Need`` and ``Candidate`` rows from
the database and write the reviews; nothing here touches Django.

The hard rules are never traded against anything. A candidate is *eligible* for
a nomination only when they are from another country and organisation (a blank
organisation is no organisation: never a conflict), have no conflict with it,
read its language and are available; capacity bounds the reviews a candidate
holds in the call. Within those rules, in this order:

1. **Coverage**: as many of the wanted reviews as the pool can give.
2. **Countries**: the fewest *single-country* nominations, without costing
   coverage (see ``single_country``): a nomination that gets a reviewer and
   ends with two or more, all from one country, although its pool spans two
   countries (the countries it holds, and those of its eligible candidates
   with room left; a full reviewer cannot be given, so does not count).
3. **A load cap**: no reviewer ends heavier than the heaviest load of the greedy
   one-at-a-time baseline (``greedy``), or than the lightest heaviest load that
   keeps the coverage, if that is more. (A cap is a bound every reviewer's load
   stays under, as OpenReview's matcher bounds loads.)
4. **Fit**: the greatest total expertise fit under that cap (see ``fit``: the
   nomination's theme weight, each theme counted at the reviewer's self-rated level).
5. **Load**: the lightest heaviest load that keeps that fit (bisection over the
   bound, each step a min-cost flow).
6. **Bids**, then an even spread below the bound (each further review on a
   reviewer costs a little more), break the remaining ties.

Up to ``EXACT_EDGES`` eligible pairs, this order is solved exactly, as an
integer program (CP-SAT) one level at a time (``_ExactModel``); above it, or if
a level is not proved within ``EXACT_BUDGET``, by min-cost flows (``_Network``),
where the two-country rule is a cost level between coverage and fit: exact
whenever every nomination is filled, blind to a nomination left short with two
or more reviewers from one country.

So the matcher is never worse than the baseline on either measure when both
give the same coverage: the baseline's assignment fits under the cap, so the
fit is at least the baseline's, and the heaviest load at most its. Without the
cap, fit alone would pile reviews on the few best-matched reviewers up to their
capacity. ``load_slack`` raises the cap by that many reviews.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow
from ortools.sat.python import cp_model

logger = logging.getLogger(__name__)

#: Fit is a whole number from 0 (no shared theme) to FIT_SCALE (expert in every theme).
FIT_SCALE = 100
#: The highest self-rated level of expertise in a theme (1 some knowledge, 2 experienced,
#: 3 expert); a theme the reviewer does not list counts as 0.
MAX_LEVEL = 3
#: Up to this many eligible pairs (with room), the objective is solved exactly as an
#: integer program; above it, by the min-cost flows below.
EXACT_EDGES = 2_000
#: CP-SAT's deterministic time budget per level (about seconds); beyond it, the flows.
EXACT_BUDGET = 5.0


class Reason:
    """Why a candidate may not review a nomination, or why a nomination is short."""

    OWN_COUNTRY = "own_country"
    OWN_ORGANISATION = "own_organisation"
    CONFLICT = "conflict"
    LANGUAGE = "language"
    UNAVAILABLE = "unavailable"
    ALREADY_ASKED = "already_asked"
    CAPACITY = "capacity"
    #: Ordered as the constraints are applied when explaining a shortfall.
    ORDER = (OWN_COUNTRY, OWN_ORGANISATION, CONFLICT, ALREADY_ASKED, LANGUAGE, UNAVAILABLE)


@dataclass(frozen=True)
class Candidate:
    """A reviewer as the matcher sees them."""

    user_id: int
    country_id: int
    organisation: str  # normalised: casefolded, single spaces
    languages: frozenset
    #: theme id -> self-rated level, 1..MAX_LEVEL (a dict: left out of the hash).
    expertise: dict = field(hash=False)
    capacity: int  # most open reviews in the call
    load: int = 0  # open reviews in the call already
    unavailable_for: frozenset = frozenset()  # nomination ids whose review period they miss

    @property
    def room(self):
        return max(self.capacity - self.load, 0)


@dataclass(frozen=True)
class Need:
    """A nomination that wants ``wanted`` more reviewers."""

    nomination_id: int
    country_id: int
    organisation: str  # normalised
    languages: frozenset  # a reviewer must read one of these
    themes: dict = field(default_factory=dict)  # theme id -> weight
    wanted: int = 2
    #: Reviewers it already has (kept) or had (declined): never proposed again.
    excluded: frozenset = frozenset()
    #: Reviewers who declared a conflict with it, or whom its nominator declared.
    conflicted: frozenset = frozenset()
    #: Countries of the reviewers it already has, for the two-country rule.
    countries_held: frozenset = frozenset()


@dataclass
class Assignment:
    nomination_id: int
    user_id: int
    fit: int
    bid: int = 0


@dataclass
class Shortfall:
    nomination_id: int
    missing: int
    reason: str  # a Reason value: the constraint that ran out


@dataclass
class Result:
    assignments: list
    shortfalls: list
    #: Each candidate's load after the assignment (their earlier load included).
    loads: dict

    def for_nomination(self, nomination_id):
        return [a for a in self.assignments if a.nomination_id == nomination_id]

    @property
    def total_fit(self):
        return sum(a.fit for a in self.assignments)

    @property
    def max_load(self):
        return max(self.loads.values(), default=0)

    @property
    def min_load(self):
        return min(self.loads.values(), default=0)


def fit(need, candidate):
    """How well the candidate knows the nomination's themes, 0..FIT_SCALE.

    Each of the nomination's themes counts its weight times the candidate's level in it
    (0 when they do not list it), out of its weight times ``MAX_LEVEL``:
    ``round(FIT_SCALE * Σ weight * level / (MAX_LEVEL * Σ weight))``. An expert in every
    theme fits 100; experienced in all of them, 67; a nomination without themes, 0.
    """
    return _fit_for(need)(candidate.expertise)


def _fit_for(need):
    """``fit`` for one nomination, as a function of a candidate's expertise (for many)."""
    total = sum(need.themes.values())
    if not total:
        return lambda expertise: 0
    themes = tuple(need.themes.items())
    most = MAX_LEVEL * total

    def fit_of(expertise):
        return round(FIT_SCALE * sum(w * expertise.get(theme, 0) for theme, w in themes) / most)

    return fit_of


def ineligibility(need, candidate):
    """The first hard rule that keeps ``candidate`` from ``need``, or None."""
    if candidate.country_id == need.country_id:
        return Reason.OWN_COUNTRY
    if candidate.organisation and candidate.organisation == need.organisation:
        return Reason.OWN_ORGANISATION
    if candidate.user_id in need.conflicted:
        return Reason.CONFLICT
    if candidate.user_id in need.excluded:
        return Reason.ALREADY_ASKED
    if not need.languages & candidate.languages:
        return Reason.LANGUAGE
    if need.nomination_id in candidate.unavailable_for:
        return Reason.UNAVAILABLE
    return None


def single_country(need, candidates, given_countries):
    """Whether ``need`` breaks the two-country rule when given reviewers from these countries.

    ``given_countries`` lists the country of each reviewer given (one entry each). It
    breaks when it is given someone, ends with two or more reviewers (those it holds
    count), all from one country, and its pool spans two countries: the countries it
    holds and those of its eligible candidates with room left.
    """
    held = set(need.countries_held)
    ends_with = len(given_countries) + (1 if held else 0)
    if not given_countries or ends_with < 2 or len(held | set(given_countries)) != 1:
        return False
    pool = held | {c.country_id for c in candidates if c.room and ineligibility(need, c) is None}
    return len(pool) >= 2


def shortfall_reason(need, candidates):
    """Name the constraint that ran out: the first one that leaves too few candidates."""
    remaining = list(candidates)
    for reason in Reason.ORDER:
        remaining = [c for c in remaining if _passes(need, c, reason)]
        if len(remaining) < need.wanted:
            return reason
    return Reason.CAPACITY


def _passes(need, candidate, reason):
    checks = {
        Reason.OWN_COUNTRY: lambda: candidate.country_id != need.country_id,
        Reason.OWN_ORGANISATION: lambda: (
            not (candidate.organisation and candidate.organisation == need.organisation)
        ),
        Reason.CONFLICT: lambda: candidate.user_id not in need.conflicted,
        Reason.ALREADY_ASKED: lambda: candidate.user_id not in need.excluded,
        Reason.LANGUAGE: lambda: bool(need.languages & candidate.languages),
        Reason.UNAVAILABLE: lambda: need.nomination_id not in candidate.unavailable_for,
    }
    return checks[reason]()


class _Network:
    """source -> nomination -> (nomination, country) -> reviewer -> sink.

    The two-country rule is a cost level above fit: a (nomination, country) arc carries
    up to ``wanted - 1`` reviews free, and the one review that would fill the nomination
    from that country alone crosses a *penalty arc*, dearer than all the fit there is.
    So a max flow of least cost has the most reviews, then the fewest nominations filled
    from one country, then the greatest fit, then bids, then spread.

    Built once (arcs added in bulk); only the reviewer -> sink capacities change with
    the load bound, so each bisection step re-solves the same two solvers.
    """

    def __init__(self, needs, candidates, edges, country_caps):
        self.needs = needs
        self.candidates = candidates
        self.edges = edges  # [(need index, candidate index, fit, bid)]
        source, self.sink = 0, 1
        self.source = source
        need_node = [2 + i for i in range(len(needs))]
        candidate_node = [2 + len(needs) + j for j in range(len(candidates))]
        next_node = 2 + len(needs) + len(candidates)
        group_node = {}
        for i, j, _fit, _bid in edges:
            key = (i, candidates[j].country_id)
            if key not in group_node:
                group_node[key] = next_node
                next_node += 1
        levels = [
            (j, c.load + extra + 1) for j, c in enumerate(candidates) for extra in range(c.room)
        ]
        weights = _Weights(needs, levels, nodes=next_node)
        tails, heads, capacities, costs = [], [], [], []

        def arcs(tail, head, capacity, cost):
            tails.append(tail)
            heads.append(head)
            capacities.append(capacity)
            costs.append(cost)

        for i, need in enumerate(needs):
            arcs(source, need_node[i], need.wanted, 0)
        penalty_arcs = []
        for (i, country), node in group_node.items():
            free = country_caps.get((i, country), needs[i].wanted)
            arcs(need_node[i], node, free, 0)
            if free < needs[i].wanted:
                penalty_arcs.append(len(tails))
                arcs(need_node[i], node, needs[i].wanted - free, weights.country)
        self.first_edge_arc = len(tails)
        for i, j, fit_, bid in edges:
            cost = -(fit_ * weights.fit + bid * weights.bid)
            arcs(group_node[(i, candidates[j].country_id)], candidate_node[j], 1, cost)
        fixed = len(tails)

        # Max flow: one sink arc per reviewer, as wide as the bound leaves them room.
        self._max = max_flow.SimpleMaxFlow()
        self._max.add_arcs_with_capacity(
            np.array(tails + candidate_node, dtype=np.int64),
            np.array(heads + [self.sink] * len(candidates), dtype=np.int64),
            np.array(capacities + [0] * len(candidates), dtype=np.int64),
        )
        self._max_sink_arcs = np.arange(fixed, fixed + len(candidates), dtype=np.int32)
        self._loads = np.array([c.load for c in candidates], dtype=np.int64)
        self._rooms = np.array([c.room for c in candidates], dtype=np.int64)

        # Min cost: one sink arc per further review, each dearer, so the lightest fill first;
        # the bound opens those that end at or below it.
        self._levels = np.array([level for _j, level in levels], dtype=np.int64)
        self._cost = min_cost_flow.SimpleMinCostFlow()
        self._cost.add_arcs_with_capacity_and_unit_cost(
            np.array(tails + [candidate_node[j] for j, _level in levels], dtype=np.int64),
            np.array(heads + [self.sink] * len(levels), dtype=np.int64),
            np.array(capacities + [0] * len(levels), dtype=np.int64),
            np.array(costs + [level * weights.spread for _j, level in levels], dtype=np.int64),
        )
        self._cost_sink_arcs = np.arange(fixed, fixed + len(levels), dtype=np.int32)
        self._edge_arcs = np.arange(self.first_edge_arc, fixed, dtype=np.int32)
        self._penalty_arcs = np.array(penalty_arcs, dtype=np.int32)
        # The most the source could send; the solver sends as much of it as fits.
        demand = sum(need.wanted for need in needs)
        self._cost.set_node_supply(source, demand)
        self._cost.set_node_supply(self.sink, -demand)

    def max_flow(self, bound):
        rooms = np.minimum(self._rooms, np.maximum(bound - self._loads, 0))
        self._max.set_arcs_capacity(self._max_sink_arcs, rooms)
        status = self._max.solve(self.source, self.sink)
        if status != self._max.OPTIMAL:
            raise RuntimeError(f"max flow failed: {status}")
        return self._max.optimal_flow()

    def min_cost_flow(self, bound):
        """A max flow of least cost under ``bound``: (used assignment arcs, size, penalties).

        ``penalties`` is the number of nominations filled from one country.
        """
        self._cost.set_arc_capacities(
            self._cost_sink_arcs, (self._levels <= bound).astype(np.int64)
        )
        status = self._cost.solve_max_flow_with_min_cost()
        if status != self._cost.OPTIMAL:
            raise RuntimeError(f"min cost flow failed: {status}")
        used = np.flatnonzero(self._cost.flows(self._edge_arcs) > 0).tolist()
        penalties = (
            int(self._cost.flows(self._penalty_arcs).sum()) if len(self._penalty_arcs) else 0
        )
        return _Flow(used=used, size=self._cost.maximum_flow(), penalties=penalties)


@dataclass(frozen=True)
class _Flow:
    used: list  # indexes of the assignment arcs used
    size: int  # reviews given
    penalties: int  # nominations filled from one country although their pool has two


class _Weights:
    """Cost weights that make one min-cost flow lexicographic, sized to the problem.

    Each level's weight exceeds the most the levels below it can add up to, so one
    filled single-country nomination outweighs all the fit, one point of fit all the
    bids, one bid the whole spread. Sized from the problem rather than fixed, so they
    stay inside what the solver accepts: it scales costs by the node count, and refuses
    (BAD_COST_RANGE) when the dearest arc times the nodes nears 2**62.
    """

    #: The dearest arc times the node count stays under this (the solver's limit is 2**62).
    LIMIT = 2**60

    def __init__(self, needs, levels, *, nodes):
        demand = sum(need.wanted for need in needs)
        # The most the spread can add up to: the dearest ``demand`` further reviews.
        spread_most = sum(sorted((level for _j, level in levels), reverse=True)[:demand])
        self.spread = 1
        self.bid = spread_most + 1
        self.fit = self.bid * (2 * demand + 1)  # bids are 0, 1 or 2 per review
        self.country = self.fit * (FIT_SCALE * demand + 1)
        if self.country * nodes >= self.LIMIT:
            # A call far larger than any seen: give up the spread term (the load bound
            # still keeps loads level) rather than overflow, and say so.
            logger.warning(
                "Matching %s reviews over %s nodes: too large to weigh the spread of loads; "
                "loads are kept level by the load bound alone",
                demand,
                nodes,
            )
            self.spread, self.bid = 0, 1
            self.fit = 2 * demand + 1
            self.country = self.fit * (FIT_SCALE * demand + 1)


def solve(needs, candidates, *, bids=None, load_slack=0):
    """Assign reviewers to every need at once; returns a ``Result``.

    ``bids`` maps (nomination id, user id) to a preference level (0 none, 1
    willing, 2 eager). Existing loads count towards every bound.
    """
    bids = bids or {}
    needs = [need for need in needs if need.wanted > 0]
    edges = []
    pools = [set() for _need in needs]  # countries of eligible candidates with room
    rooms = [candidate.room for candidate in candidates]
    for i, need in enumerate(needs):
        fit_of = _fit_for(need)
        for j, candidate in enumerate(candidates):
            if ineligibility(need, candidate) is None:
                bid = bids.get((need.nomination_id, candidate.user_id), 0)
                edges.append((i, j, fit_of(candidate.expertise), bid))
                if rooms[j]:
                    pools[i].add(candidate.country_id)
    ceiling = max((c.capacity for c in candidates), default=0)
    fits = {(needs[i].nomination_id, candidates[j].user_id): f for i, j, f, _bid in edges}
    baseline = _greedy(needs, candidates, bids, fits).max_load

    useful = [edge for edge in edges if rooms[edge[1]]]
    if len(needs) > 1 and len(useful) <= EXACT_EDGES:
        used = _ExactModel(needs, candidates, useful).solve(baseline=baseline, slack=load_slack)
        if used is not None:
            return _result(needs, candidates, _assignments(needs, candidates, used))

    caps = {}
    for i, need in enumerate(needs):
        caps.update(_country_caps(i, need, pools[i]))
    network = _Network(needs, candidates, edges, country_caps=caps)
    flows = {}

    def flow_under(bound):
        # Each bound's flow is solved once: the last step of a search is the answer.
        if bound not in flows:
            flows[bound] = network.min_cost_flow(bound)
        return flows[bound]

    # 1. Coverage: the most reviews the pool can give (a max flow, cheap), and the
    # lightest bound that still gives them all.
    coverage = network.max_flow(ceiling)
    lowest = _least(lambda bound: network.max_flow(bound) >= coverage, 0, ceiling)
    # 2. The fewest nominations filled from one country: none, if that bound's flow of
    # least cost manages it, and otherwise what the flow without a bound manages.
    singles = flow_under(lowest).penalties and flow_under(ceiling).penalties

    def keeps(bound, *, fit_=None):
        if network.max_flow(bound) < coverage:  # the cheap test first
            return False
        flow = flow_under(bound)
        return flow.penalties <= singles and (fit_ is None or _total_fit(flow.used, edges) >= fit_)

    # 3. The load cap: never heavier than the one-at-a-time baseline's heaviest load, nor
    # lighter than the lightest that keeps levels 1 and 2.
    lightest = lowest if keeps(lowest) else _least(keeps, lowest + 1, ceiling)
    cap = min(max(lightest, baseline) + load_slack, ceiling)

    # 4. The greatest fit within the cap, then 5. the lightest heaviest load that keeps it.
    # Fit and balance rarely pull apart, so the lightest bound is tried first.
    best_fit = _total_fit(flow_under(cap).used, edges)
    if keeps(lightest, fit_=best_fit):
        bound = lightest
    else:
        bound = _least(lambda bound: keeps(bound, fit_=best_fit), lightest + 1, cap)
    # A reviewer already heavier than the bound sets the heaviest load anyway: below
    # that, a lower bound would only narrow the choice for the bids and the spread.
    bound = max(bound, min(max((c.load for c in candidates), default=0), cap))

    # 6. Bids, then an even spread, within that bound: already the flow's lower costs.
    used_edges = [edges[e] for e in sorted(flow_under(bound).used)]
    return _result(needs, candidates, _assignments(needs, candidates, used_edges))


def _assignments(needs, candidates, used_edges):
    return [
        Assignment(
            nomination_id=needs[i].nomination_id,
            user_id=candidates[j].user_id,
            fit=fit_,
            bid=bid,
        )
        for i, j, fit_, bid in used_edges
    ]


class _ExactModel:
    """The whole objective as an integer program (CP-SAT), solved level by level.

    Each level's optimum becomes a constraint before the next is optimised, so the
    answer is exactly the documented lexicographic optimum. Used when the problem is
    small enough to prove optimal quickly; ``solve`` returns None if a level is not
    proved within the solver's deterministic time budget.
    """

    def __init__(self, needs, candidates, edges):
        self.edges = edges  # only candidates with room: nobody else can be given
        self.model = model = cp_model.CpModel()
        self.x = [model.new_bool_var(f"x{e}") for e in range(len(edges))]
        by_need, by_candidate = defaultdict(list), defaultdict(list)
        for e, (i, j, _fit, _bid) in enumerate(edges):
            by_need[i].append(e)
            by_candidate[j].append(e)
        for i, need in enumerate(needs):
            model.add(sum(self.x[e] for e in by_need[i]) <= need.wanted)
        top = max((max(c.capacity, c.load) for c in candidates), default=0)
        self.heaviest = model.new_int_var(0, top, "heaviest")
        self.spread = []
        for j, candidate in enumerate(candidates):
            model.add(self.heaviest >= candidate.load)
            given = sum(self.x[e] for e in by_candidate[j])
            if not by_candidate[j]:
                continue
            # One indicator per further review, filled in order: the k-th costs load + k.
            # No more of them than the reviews they can be given.
            further = min(candidate.room, len(by_candidate[j]))
            steps = [model.new_bool_var(f"u{j}_{k}") for k in range(further)]
            for earlier, later in pairwise(steps):
                model.add_implication(later, earlier)
            model.add(sum(steps) == given)
            model.add(self.heaviest >= candidate.load + given)
            self.spread += [(step, candidate.load + k + 1) for k, step in enumerate(steps)]
        self.coverage = sum(self.x)
        self.single = [
            self._single_country(need, by_need[i], candidates) for i, need in enumerate(needs)
        ]
        self.single = [var for var in self.single if var is not None]
        self.fit = sum(fit_ * self.x[e] for e, (_i, _j, fit_, _bid) in enumerate(edges))
        self.bids = sum(bid * self.x[e] for e, (_i, _j, _fit, bid) in enumerate(edges))

    def _single_country(self, need, own_edges, candidates):
        """A 0/1 variable at least 1 when ``need`` is single-country (see ``single_country``)."""
        held = set(need.countries_held)
        by_country = defaultdict(list)
        for e in own_edges:
            by_country[candidates[self.edges[e][1]].country_id].append(self.x[e])
        if len(held) >= 2 or len(held | set(by_country)) < 2:
            return None
        model = self.model
        uses = {}
        for country, xs in by_country.items():
            uses[country] = model.new_bool_var("")
            model.add_max_equality(uses[country], xs)
        single = model.new_bool_var("")
        if held:
            (home,) = held
            if home in uses:  # given someone, all from the country it holds
                model.add(single >= uses[home] - sum(v for c, v in uses.items() if c != home))
            return single
        given = sum(v for xs in by_country.values() for v in xs)
        two_or_more = model.new_bool_var("")
        model.add(given <= 1 + need.wanted * two_or_more)
        two_countries = model.new_bool_var("")
        model.add(sum(uses.values()) >= 2 * two_countries)
        model.add(single >= two_or_more - two_countries)
        return single

    def _optimise(self, expression, *, maximise):
        if maximise:
            self.model.maximize(expression)
        else:
            self.model.minimize(expression)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1  # the same answer for the same problem
        solver.parameters.max_deterministic_time = EXACT_BUDGET
        if solver.solve(self.model) != cp_model.OPTIMAL:
            return None
        self.model.clear_hints()
        for var in self.x:
            self.model.add_hint(var, solver.value(var))
        self.solver = solver
        return round(solver.objective_value)

    def solve(self, *, baseline, slack):
        """The used edges of the lexicographic optimum, or None if not proved in time."""
        model = self.model
        coverage = self._optimise(self.coverage, maximise=True)
        if coverage is None:
            return None
        model.add(self.coverage == coverage)
        singles = self._optimise(sum(self.single), maximise=False)
        if singles is None:
            return None
        model.add(sum(self.single) <= singles)
        lightest = self._optimise(self.heaviest, maximise=False)
        if lightest is None:
            return None
        model.add(self.heaviest <= max(lightest, baseline) + slack)
        for level, maximise in ((self.fit, True), (self.heaviest, False), (self.bids, True)):
            value = self._optimise(level, maximise=maximise)
            if value is None:
                return None
            if maximise:
                model.add(level >= value)
            else:
                model.add(level <= value)
        spread = sum(cost * step for step, cost in self.spread)
        if self._optimise(spread, maximise=False) is None:
            return None
        return [
            edge for edge, var in zip(self.edges, self.x, strict=True) if self.solver.value(var)
        ]


def _least(holds, low, high):
    """The least bound in [low, high] for which ``holds(bound)``, given that it holds at high."""
    while low < high:
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _total_fit(used, edges):
    return sum(edges[edge][2] for edge in used)


def _country_caps(i, need, eligible_countries):
    """How many reviews each country gives ``need`` before the penalty arc, where its pool
    has two countries.

    With no reviewer yet, a country giving all of them fills it from one country; with
    reviewers from one country, that country giving all the new ones does. Two countries
    held: no caps.
    """
    held = set(need.countries_held)
    if len(held) >= 2 or need.wanted + len(held) < 2:
        return {}
    if len(eligible_countries | held) < 2:
        return {}
    if not held:
        return {(i, country): need.wanted - 1 for country in eligible_countries}
    (country,) = held
    return {(i, country): need.wanted - 1} if country in eligible_countries else {}


def greedy(needs, candidates, *, bids=None):
    """The baseline: one nomination at a time, best fit first, then lightest load.

    Prefers a country the nomination does not have yet, as the first rule did.
    """
    return _greedy(needs, candidates, bids or {}, fits=None)


def _greedy(needs, candidates, bids, fits):
    """``greedy``, with the fits of the eligible pairs already known (or None)."""
    if fits is None:
        fits = {
            (need.nomination_id, c.user_id): fit(need, c)
            for need in needs
            for c in candidates
            if ineligibility(need, c) is None
        }
    loads = {c.user_id: c.load for c in candidates}
    assignments = []
    for need in needs:
        pool = [c for c in candidates if (need.nomination_id, c.user_id) in fits]
        pool.sort(
            key=lambda c: (
                -fits[(need.nomination_id, c.user_id)],
                -bids.get((need.nomination_id, c.user_id), 0),
                loads[c.user_id],
                c.user_id,
            )
        )
        chosen, countries = [], set(need.countries_held)
        for prefer_new_country in (True, False):
            for candidate in pool:
                if len(chosen) == need.wanted:
                    break
                if candidate in chosen or loads[candidate.user_id] >= candidate.capacity:
                    continue
                if prefer_new_country and candidate.country_id in countries:
                    continue
                chosen.append(candidate)
                countries.add(candidate.country_id)
                loads[candidate.user_id] += 1
        assignments += [
            Assignment(
                nomination_id=need.nomination_id,
                user_id=c.user_id,
                fit=fits[(need.nomination_id, c.user_id)],
                bid=bids.get((need.nomination_id, c.user_id), 0),
            )
            for c in chosen
        ]
    return _result(needs, candidates, assignments)


def _result(needs, candidates, assignments):
    loads = {c.user_id: c.load for c in candidates}
    given = defaultdict(int)
    for assignment in assignments:
        loads[assignment.user_id] += 1
        given[assignment.nomination_id] += 1
    shortfalls = []
    for need in needs:
        missing = need.wanted - given[need.nomination_id]
        if missing > 0:
            shortfalls.append(
                Shortfall(
                    nomination_id=need.nomination_id,
                    missing=missing,
                    reason=shortfall_reason(need, candidates),
                )
            )
    return Result(assignments=assignments, shortfalls=shortfalls, loads=loads)
