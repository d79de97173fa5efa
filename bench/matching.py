"""Reviewer matching for a whole call: the matcher against the greedy baseline.

No database: the call is built in memory with a fixed seed, as the selectors
would read it. 1,000 nominations x 3 reviewers over 150 reviewers in four
countries; each solve is timed three times and the median kept.
"""

import cProfile
import io
import pstats
import random
import statistics
import time

from reviewers.matching import Candidate, Need, greedy, solve

COUNTRIES = ("ES", "FR", "LV", "SE")
LANGUAGE_OF = {"ES": "es", "FR": "fr", "LV": "lv", "SE": "sv"}
THEMES = 12
PRIORITY_THEMES = {0, 1}  # spatial segregation, social exclusion: weigh double


def build(*, nominations=1_000, reviewers=150, wanted=3, seed=2026):
    """(needs, candidates, bids) of a realistic call; the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not security
    organisations = [f"organisation {i}" for i in range(40)]
    candidates = []
    for user_id in range(1, reviewers + 1):
        country = rng.randrange(len(COUNTRIES))
        candidates.append(
            Candidate(
                user_id=user_id,
                country_id=country,
                organisation=rng.choice(organisations),
                languages=frozenset({"en", LANGUAGE_OF[COUNTRIES[country]]}),
                # Every theme at the middle level: the same draws as before levels.
                expertise=dict.fromkeys(rng.sample(range(THEMES), rng.randint(2, 4)), 2),
                capacity=rng.randint(20, 30),
            )
        )
    needs = []
    for nomination_id in range(1, nominations + 1):
        country = rng.randrange(len(COUNTRIES))
        language = LANGUAGE_OF[COUNTRIES[country]] if rng.random() < 0.3 else "en"
        # Most have an English summary; some do not, and need a reader of their language.
        readable = {language} if rng.random() < 0.1 else {language, "en"}
        themes = rng.sample(range(THEMES), rng.randint(1, 3))
        needs.append(
            Need(
                nomination_id=nomination_id,
                country_id=country,
                organisation=rng.choice(organisations),
                languages=frozenset(readable),
                themes={t: 2 if t in PRIORITY_THEMES else 1 for t in themes},
                wanted=wanted,
                conflicted=frozenset(
                    c.user_id for c in candidates if rng.random() < 0.02
                ),  # about 2 % of pairs
            )
        )
    # About 3 % of reviewers are away for about 10 % of the nominations' review periods.
    away = {c.user_id for c in candidates if rng.random() < 0.03}
    candidates = [
        Candidate(
            **{
                **c.__dict__,
                "unavailable_for": frozenset(n.nomination_id for n in needs if rng.random() < 0.1)
                if c.user_id in away
                else frozenset(),
            }
        )
        for c in candidates
    ]
    bids = {
        (n.nomination_id, c.user_id): rng.choice((1, 2))
        for n in needs
        for c in rng.sample(candidates, 2)
    }
    return needs, candidates, bids


def _timed(function, repeats=3):
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return result, seconds


def _figures(result, seconds, needs):
    wanted = sum(n.wanted for n in needs)
    assigned = len(result.assignments)
    return {
        "seconds": statistics.median(seconds),
        "seconds_all": seconds,
        "assigned": assigned,
        "wanted": wanted,
        "short_nominations": len(result.shortfalls),
        "total_fit": result.total_fit,
        "mean_fit": result.total_fit / assigned if assigned else 0,
        "zero_fit": sum(1 for a in result.assignments if a.fit == 0),
        "bids_met": sum(1 for a in result.assignments if a.bid),
        "max_load": result.max_load,
        "min_load": result.min_load,
        "load_spread": statistics.pstdev(result.loads.values()),
    }


def profile_solve(needs, candidates, bids):
    """Where the solve's time goes, by function (cumulative), as text."""
    profiler = cProfile.Profile()
    profiler.enable()
    solve(needs, candidates, bids=bids)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(
        r"matching\.py|max_flow|min_cost_flow", 12
    )
    return out.getvalue()


def run(*, verbose=False):
    needs, candidates, bids = build()
    ours, ours_seconds = _timed(lambda: solve(needs, candidates, bids=bids))
    slack, slack_seconds = _timed(lambda: solve(needs, candidates, bids=bids, load_slack=2))
    baseline, baseline_seconds = _timed(lambda: greedy(needs, candidates, bids=bids))
    return {
        "nominations": len(needs),
        "reviewers": len(candidates),
        "wanted_each": needs[0].wanted,
        "ours": _figures(ours, ours_seconds, needs),
        "slack": _figures(slack, slack_seconds, needs),
        "greedy": _figures(baseline, baseline_seconds, needs),
        "profile": profile_solve(needs, candidates, bids) if verbose else "",
    }
