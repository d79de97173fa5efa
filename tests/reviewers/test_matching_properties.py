"""The matcher over random pools (hypothesis): no hard rule broken, full coverage, balance.

Each property is checked against code written here, not the matcher's own: the hard rules
are restated, and the most reviews a pool can give is an independent max flow.
"""

from collections import defaultdict, deque

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewers import matching
from reviewers.matching import Candidate, Need, greedy, solve

pytestmark = pytest.mark.unit

LANGUAGES = ("en", "sv", "fr", "lv", "es")
ORGANISATIONS = ("a", "b", "c", "")  # blank: no organisation, never a conflict
THEMES = range(6)
PROFILE = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw):
    """(needs, candidates): up to 12 reviewers in up to 4 countries, up to 8 nominations."""
    countries = draw(st.integers(1, 4))
    candidates = []
    for user_id in range(1, draw(st.integers(1, 12)) + 1):
        capacity = draw(st.integers(0, 4))
        candidates.append(
            Candidate(
                user_id=user_id,
                country_id=draw(st.integers(1, countries)),
                organisation=draw(st.sampled_from(ORGANISATIONS)),
                languages=frozenset(draw(st.sets(st.sampled_from(LANGUAGES), min_size=1))),
                expertise=draw(st.dictionaries(st.sampled_from(THEMES), st.integers(1, 3))),
                capacity=capacity,
                load=draw(st.integers(0, capacity)),
            )
        )
    user_ids = [c.user_id for c in candidates]
    needs = []
    for nomination_id in range(1, draw(st.integers(1, 8)) + 1):
        needs.append(
            Need(
                nomination_id=nomination_id,
                country_id=draw(st.integers(1, countries)),
                organisation=draw(st.sampled_from(ORGANISATIONS)),
                languages=frozenset(draw(st.sets(st.sampled_from(LANGUAGES), min_size=1))),
                themes={t: draw(st.integers(1, 2)) for t in draw(st.sets(st.sampled_from(THEMES)))},
                wanted=draw(st.integers(1, 3)),
                excluded=frozenset(draw(st.sets(st.sampled_from(user_ids)))),
                conflicted=frozenset(draw(st.sets(st.sampled_from(user_ids)))),
            )
        )
    away = draw(st.sets(st.sampled_from(user_ids)))
    nomination_ids = [n.nomination_id for n in needs]
    candidates = [
        Candidate(
            **{
                **c.__dict__,
                "unavailable_for": frozenset(draw(st.sets(st.sampled_from(nomination_ids))))
                if c.user_id in away
                else frozenset(),
            }
        )
        for c in candidates
    ]
    return needs, candidates


def allowed(need, candidate):
    """The hard rules, restated."""
    return (
        candidate.country_id != need.country_id
        and (not candidate.organisation or candidate.organisation != need.organisation)
        and candidate.user_id not in need.conflicted
        and candidate.user_id not in need.excluded
        and bool(need.languages & candidate.languages)
        and need.nomination_id not in candidate.unavailable_for
    )


def most_reviews_possible(needs, candidates):
    """Edmonds-Karp on source -> nomination -> reviewer -> sink, with the same capacities."""
    capacity = defaultdict(int)
    edges = defaultdict(set)

    def arc(tail, head, amount):
        capacity[(tail, head)] += amount
        edges[tail].add(head)
        edges[head].add(tail)

    for need in needs:
        arc("source", ("n", need.nomination_id), need.wanted)
        for candidate in candidates:
            if allowed(need, candidate):
                arc(("n", need.nomination_id), ("r", candidate.user_id), 1)
    for candidate in candidates:
        arc(("r", candidate.user_id), "sink", max(candidate.capacity - candidate.load, 0))
    flow = 0
    while True:
        parents = {"source": None}
        queue = deque(["source"])
        while queue and "sink" not in parents:
            node = queue.popleft()
            for nxt in edges[node]:
                if nxt not in parents and capacity[(node, nxt)] > 0:
                    parents[nxt] = node
                    queue.append(nxt)
        if "sink" not in parents:
            return flow
        node = "sink"
        while parents[node] is not None:
            capacity[(parents[node], node)] -= 1
            capacity[(node, parents[node])] += 1
            node = parents[node]
        flow += 1


def two_country_rule_holds(needs, candidates, result):
    """Each nomination whose pool spans two countries got reviewers from two, if two or more."""
    by_id = {c.user_id: c for c in candidates}
    for need in needs:
        pool_countries = {c.country_id for c in candidates if allowed(need, c) and c.room}
        chosen = [by_id[a.user_id].country_id for a in result.for_nomination(need.nomination_id)]
        if len(chosen) >= 2 and len(pool_countries) >= 2 and len(set(chosen)) < 2:
            return False
    return True


@PROFILE
@given(problems())
def test_no_hard_rule_is_ever_broken(problem):
    needs, candidates = problem
    result = solve(needs, candidates)

    by_need = {n.nomination_id: n for n in needs}
    by_id = {c.user_id: c for c in candidates}
    pairs = [(a.nomination_id, a.user_id) for a in result.assignments]
    assert len(pairs) == len(set(pairs))
    for nomination_id, user_id in pairs:
        assert allowed(by_need[nomination_id], by_id[user_id])
    for need in needs:
        assert len(result.for_nomination(need.nomination_id)) <= need.wanted
    for candidate in candidates:
        given = sum(1 for a in result.assignments if a.user_id == candidate.user_id)
        assert candidate.load + given <= max(candidate.capacity, candidate.load)
        assert result.loads[candidate.user_id] == candidate.load + given


@PROFILE
@given(problems())
def test_every_review_the_pool_can_give_is_given(problem):
    needs, candidates = problem

    result = solve(needs, candidates)

    assert len(result.assignments) == most_reviews_possible(needs, candidates)
    missing = {s.nomination_id: s.missing for s in result.shortfalls}
    for need in needs:
        got = len(result.for_nomination(need.nomination_id))
        assert missing.get(need.nomination_id, 0) == need.wanted - got


@PROFILE
@given(problems())
def test_the_heaviest_load_is_never_worse_than_the_greedy_baselines(problem):
    needs, candidates = problem

    ours, baseline = solve(needs, candidates), greedy(needs, candidates)

    assert len(ours.assignments) >= len(baseline.assignments)
    if len(ours.assignments) == len(baseline.assignments) and two_country_rule_holds(
        needs, candidates, baseline
    ):
        assert ours.max_load <= baseline.max_load


@PROFILE
@given(problems())
def test_the_fit_is_never_worse_than_the_greedy_baselines(problem):
    needs, candidates = problem

    ours, baseline = solve(needs, candidates), greedy(needs, candidates)

    if len(ours.assignments) == len(baseline.assignments) and two_country_rule_holds(
        needs, candidates, baseline
    ):
        assert ours.total_fit >= baseline.total_fit


@PROFILE
@given(problems())
def test_the_same_problem_gets_the_same_answer(problem):
    needs, candidates = problem

    first, second = solve(needs, candidates), solve(needs, candidates)

    assert [(a.nomination_id, a.user_id) for a in first.assignments] == [
        (a.nomination_id, a.user_id) for a in second.assignments
    ]


# --- examples ----------------------------------------------------------------------------


def reviewer(user_id, country, *, expertise=(), capacity=4, load=0, organisation="", **extra):
    """``expertise``: {theme: level}, or themes the reviewer is expert in (level 3)."""
    if not isinstance(expertise, dict):
        expertise = dict.fromkeys(expertise, matching.MAX_LEVEL)
    return Candidate(
        user_id=user_id,
        country_id=country,
        organisation=organisation or f"org{user_id}",
        languages=frozenset({"en"}),
        expertise=expertise,
        capacity=capacity,
        load=load,
        **extra,
    )


def nomination(nomination_id=1, *, country=9, wanted=2, themes=None, **extra):
    return Need(
        nomination_id=nomination_id,
        country_id=country,
        organisation="nominating org",
        languages=frozenset({"en"}),
        themes=themes if themes is not None else {1: 1},
        wanted=wanted,
        **extra,
    )


def chosen(result, nomination_id=1):
    return {a.user_id for a in result.for_nomination(nomination_id)}


def test_two_countries_win_over_a_better_fit_from_one():
    pool = [reviewer(1, 1, expertise={1}), reviewer(2, 1, expertise={1}), reviewer(3, 2)]

    result = solve([nomination()], pool)

    assert len(chosen(result) & {1, 2}) == 1 and 3 in chosen(result)


def test_two_countries_give_way_when_the_second_has_no_room():
    pool = [reviewer(1, 1), reviewer(2, 1), reviewer(3, 2, capacity=1, load=1)]

    assert chosen(solve([nomination()], pool)) == {1, 2}


@pytest.mark.parametrize(
    ("pool", "need", "reason"),
    [
        ([reviewer(1, 9), reviewer(2, 9)], nomination(), "own_country"),
        ([reviewer(1, 1, organisation="nominating org")], nomination(wanted=1), "own_organisation"),
        ([reviewer(1, 1)], nomination(wanted=1, conflicted=frozenset({1})), "conflict"),
        ([reviewer(1, 1)], nomination(wanted=1, excluded=frozenset({1})), "already_asked"),
        (
            [reviewer(1, 1, unavailable_for=frozenset({1}))],
            nomination(wanted=1),
            "unavailable",
        ),
        ([reviewer(1, 1, capacity=2, load=2)], nomination(wanted=1), "capacity"),
    ],
    ids=["country", "organisation", "conflict", "asked", "away", "capacity"],
)
def test_a_shortfall_names_the_constraint_that_ran_out(pool, need, reason):
    (shortfall,) = solve([need], pool).shortfalls

    assert shortfall.reason == reason


def test_nobody_reading_the_language_is_named():
    swedish = Need(
        nomination_id=1,
        country_id=9,
        organisation="x",
        languages=frozenset({"sv"}),
        wanted=1,
    )

    (shortfall,) = solve([swedish], [reviewer(1, 1)]).shortfalls

    assert shortfall.reason == "language"


def test_a_bid_breaks_a_tie_between_equal_fits():
    pool = [reviewer(1, 1, expertise={1}), reviewer(2, 2, expertise={1})]

    result = solve([nomination(wanted=1)], pool, bids={(1, 2): 2})

    assert chosen(result) == {2}


def test_fit_comes_first_under_the_baselines_load_then_the_lightest_load():
    # Two nominations, each wanting one reviewer. The expert fits both; the generalist
    # neither. Balance alone would give the generalist one; fit gives the expert both,
    # which is no heavier than the one-at-a-time baseline.
    pool = [reviewer(1, 1, expertise={1, 2}), reviewer(2, 2)]
    needs = [nomination(1, wanted=1, themes={1: 1}), nomination(2, wanted=1, themes={2: 1})]

    result = solve(needs, pool)

    assert [a.user_id for a in result.assignments] == [1, 1]
    assert result.max_load == greedy(needs, pool).max_load == 2


def test_fit_counts_each_theme_at_the_reviewers_level():
    need = nomination(themes={1: 2, 2: 1})  # a priority theme weighs double

    assert [
        matching.fit(need, reviewer(1, 1, expertise=levels))
        for levels in ({1: 3, 2: 3}, {1: 2, 2: 2}, {1: 3}, {2: 1}, {3: 3}, {})
    ] == [100, 67, 67, 11, 0, 0]


def test_the_higher_level_in_the_nominations_theme_is_preferred():
    pool = [
        reviewer(1, 1, expertise={1: 1}),
        reviewer(2, 2, expertise={1: 3}),
        reviewer(3, 3, expertise={1: 2}),
    ]

    assert chosen(solve([nomination(wanted=1)], pool)) == {2}
    assert chosen(solve([nomination(wanted=2)], pool)) == {2, 3}
    assert chosen(greedy([nomination(wanted=1)], pool)) == {2}


def test_between_equal_fits_the_load_is_spread():
    pool = [reviewer(1, 1, expertise={1}), reviewer(2, 2, expertise={1})]
    needs = [nomination(n, wanted=1) for n in (1, 2)]

    result = solve(needs, pool)

    assert sorted(a.user_id for a in result.assignments) == [1, 2]
    assert result.max_load == 1


def test_existing_loads_count():
    pool = [reviewer(1, 1, capacity=3, load=3), reviewer(2, 2, capacity=3, load=0)]

    assert chosen(solve([nomination(wanted=2)], pool)) == {2}
