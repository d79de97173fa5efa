"""The selection board at scale: exact figures from the database, pages, order and filters.

Every figure is checked against an independent computation from the raw score rows
(Python fractions), on whichever database the suite runs (PostgreSQL and SQLite).
"""

import random
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from django.urls import reverse
from django.utils import timezone

from nominations.models import Nomination, SelectionDecision
from reviewers.models import CriterionScore, Review
from reviewers.selectors import selection_board, shown
from reviewers.services import score_summaries_rebuild
from workflow.flows import NominationFlow
from workflow.views.selection import BOARD_PAGE_SIZE, UNDECIDED_SHOWN

from ..factories import (
    CallFactory,
    CriterionFactory,
    NominationFactory,
    ReviewerFactory,
    ThemeFactory,
)
from .helpers import open_task
from .test_reviewer_pages import accepted
from .test_selection_board import reviewed

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def independent_ranking(call):
    """[(nomination id, exact weighted score or None)] from the raw rows, best first.

    The rule, written out again: a criterion's mean is the mean of the scores given to
    it in submitted reviews; the weighted score is Σ weight * mean / Σ weight over the
    criteria with a mean; ties go to the earlier submission, then the lower id.
    """
    criteria = list(call.criteria.all())
    given = {}
    for nomination_id, criterion_id, score in CriterionScore.objects.filter(
        review__nomination__call=call, review__status="submitted", score__isnull=False
    ).values_list("review__nomination", "criterion", "score"):
        given.setdefault((nomination_id, criterion_id), []).append(score)
    ranking = []
    for nomination in Nomination.objects.filter(call=call, stage__in=["selection", "decided"]):
        weighted_sum = total_weight = Fraction(0)
        for criterion in criteria:
            scores = given.get((nomination.pk, criterion.pk))
            if scores:
                weighted_sum += Fraction(criterion.weight) * Fraction(sum(scores), len(scores))
                total_weight += Fraction(criterion.weight)
        weighted = weighted_sum / total_weight if total_weight else None
        ranking.append((nomination, weighted))
    ranking.sort(
        key=lambda item: (item[1] is None, -(item[1] or 0), item[0].submitted_at, item[0].pk)
    )
    return [(nomination.pk, weighted) for nomination, weighted in ranking]


def half_up(value):
    """Two decimals, halves up, by decimal arithmetic (not the board's own ``shown``)."""
    with localcontext() as context:
        context.prec = 50
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def weigh(call, *weights):
    for criterion, weight in zip(call.criteria.all(), weights, strict=True):
        criterion.weight = Decimal(weight)
        criterion.save()


def test_a_third_and_an_exact_half_are_rounded_once_and_half_up(call, countries):
    weigh(call, 1, 2, 1)
    # Means 3, 3 and 3.5: (3 + 6 + 3.5) / 4 = 3.125 exactly, shown 3.13 (not 3.12).
    half = reviewed(call, countries["SE"], [[3, 3, 4], [3, 3, 3]], title="Half")
    # Means 8/3, 3 and 3: (8/3 + 6 + 3) / 4 = 35/12 = 2.91666…; rounding 8/3 to 2.67
    # first gives 2.9175, shown 2.92 either way: the exact figure is what ranks.
    third = reviewed(call, countries["FR"], [[3, 3, 3], [3, 3, 3], [2, 3, 3]], title="Third")
    # Means 8/3, 8/3, 8/3: exactly 2.6666…, shown 2.67.
    thirds = reviewed(call, countries["LV"], [[3, 3, 3], [3, 3, 3], [2, 2, 2]], title="Thirds")

    _criteria, rows = selection_board(call=call, nominations=Nomination.objects.filter(call=call))

    assert [(row.nomination, row.weighted, row.weighted_shown) for row in rows] == [
        (half, Fraction(25, 8), Decimal("3.13")),
        (third, Fraction(35, 12), Decimal("2.92")),
        (thirds, Fraction(8, 3), Decimal("2.67")),
    ]
    assert [mean for mean, _spread, _differ in rows[1].means_and_spreads] == [
        Decimal("2.67"),
        Decimal("3.00"),
        Decimal("3.00"),
    ]


def test_means_are_not_rounded_before_weighting_and_exact_ties_go_to_the_earlier(call, countries):
    weigh(call, 1, 1, 1)
    # Means 1, 11/3 and 8/3: exactly 22/9 = 2.444…, shown 2.44; weighting the means
    # rounded to 3.67 and 2.67 gave 2.4467, shown 2.45.
    later = reviewed(call, countries["SE"], [[1, 3, 2], [None, 3, 2], [None, 5, 4]], title="A")
    # The same means on other criteria: the same exact figure, so submitted earlier first.
    earlier = reviewed(call, countries["FR"], [[3, 2, 1], [3, 2, None], [5, 4, None]], title="B")
    Nomination.objects.filter(pk=later.pk).update(submitted_at=timezone.now())
    Nomination.objects.filter(pk=earlier.pk).update(submitted_at=timezone.now() - timedelta(days=1))
    better = reviewed(call, countries["LV"], [[3, 2, 3]], title="C")  # 8/3

    _criteria, rows = selection_board(call=call, nominations=Nomination.objects.filter(call=call))

    assert [(row.nomination, row.weighted, row.weighted_shown) for row in rows] == [
        (better, Fraction(8, 3), Decimal("2.67")),
        (earlier, Fraction(22, 9), Decimal("2.44")),
        (later, Fraction(22, 9), Decimal("2.44")),
    ]
    assert rows[2].means == [1, Fraction(11, 3), Fraction(8, 3)]
    assert rows[2].spreads == [0, 2, 2]


def test_generated_scores_agree_with_an_independent_computation(call, countries):
    weigh(call, "1.5", "2.25", "0.75")
    generator = random.Random(14)
    reviewers = [ReviewerFactory(username=f"generated-r{index}") for index in range(4)]
    for index in range(40):
        nomination = NominationFactory(
            call=call, country=countries["SE"], stage="selection", title=f"Generated {index}"
        )
        for reviewer in reviewers[: generator.randint(0, 4)]:
            review = Review.objects.create(
                nomination=nomination,
                reviewer=reviewer,
                status=generator.choice(["submitted", "submitted", "draft"]),
            )
            for criterion in call.criteria.all():
                score = generator.choice([None, 1, 2, 3, 4, 5, 5])
                CriterionScore.objects.create(review=review, criterion=criterion, score=score)
    score_summaries_rebuild(nominations=Nomination.objects.filter(call=call))

    _criteria, rows = selection_board(call=call, nominations=Nomination.objects.filter(call=call))

    expected = independent_ranking(call)
    assert [(row.nomination.pk, row.weighted) for row in rows] == expected
    assert [row.weighted_shown for row in rows] == [
        None if weighted is None else half_up(weighted) for _pk, weighted in expected
    ]
    assert any(weighted is None for _pk, weighted in expected)  # the data covers no score


def test_a_long_rubric_with_many_reviewers_and_heavy_weights_is_ranked_exactly(
    client, call, countries, lead
):
    """The exact key multiplies every criterion's count together: eight criteria, six
    reviewers and the largest weight go far past a 32-bit integer (about 6·10¹¹), and
    the board still ranks them exactly rather than failing."""
    for index in range(5):
        CriterionFactory(call=call, title=f"Further criterion {index}")
    weigh(call, *["99.99"] * 8)
    criteria = list(call.criteria.all())
    best = reviewed(call, countries["SE"], [[5] * 8] * 6, title="Best")
    other = reviewed(call, countries["FR"], [[5] * 7 + [4]] * 5 + [[4] * 8], title="Other")

    _criteria, rows = selection_board(call=call, nominations=Nomination.objects.filter(call=call))

    assert [(row.nomination.pk, row.weighted) for row in rows] == independent_ranking(call)
    assert [row.nomination for row in rows] == [best, other]
    assert rows[0].weighted == 5
    assert len(criteria) == 8
    client.force_login(lead)
    page = client.get(reverse("workflow:board", args=[call.pk]))
    assert board_titles(page) == ["Best", "Other"]


def test_shown_rounds_halves_up_and_keeps_two_decimals():
    assert shown(Fraction(25, 8)) == Decimal("3.13")
    assert shown(Fraction(8, 3)) == Decimal("2.67")
    assert str(shown(Fraction(3))) == "3.00"
    assert shown(Fraction(1, 200)) == Decimal("0.01")
    assert shown(None) is None


# --- pages, order and filters ------------------------------------------------------------


def many(call, countries, count, *, codes=("ES", "FR", "LV", "SE"), themes=None):
    """``count`` more nominations in selection, each scored by one of three reviewers."""
    reviewers = [ReviewerFactory() for _index in range(3)]
    criteria = list(call.criteria.all())
    made = []
    start = Nomination.objects.filter(call=call).count()
    for index in range(start, start + count):
        nomination = NominationFactory(
            call=call,
            country=countries[codes[index % len(codes)]],
            stage="selection",
            title=f"Nomination {index:03d}",
            **({"themes": themes} if themes is not None else {}),
        )
        review = Review.objects.create(
            nomination=nomination, reviewer=reviewers[index % 3], status="submitted"
        )
        CriterionScore.objects.bulk_create(
            CriterionScore(review=review, criterion=criterion, score=1 + (index * 7 + n) % 5)
            for n, criterion in enumerate(criteria)
        )
        made.append(nomination)
    score_summaries_rebuild(nominations=[n.pk for n in made])
    return made


def board_titles(page):
    return [row.nomination.title for row, _task in page.context["rows"]]


def test_the_board_shows_a_page_at_a_time_and_pages_follow_the_ranking(
    client, call, countries, lead
):
    many(call, countries, BOARD_PAGE_SIZE + 7)
    client.force_login(lead)
    url = reverse("workflow:board", args=[call.pk])

    first, second = client.get(url), client.get(url, {"page": 2})
    beyond = client.get(url, {"page": 99})

    ranking = [pk for pk, _weighted in independent_ranking(call)]
    shown_pks = [row.nomination.pk for row, _task in first.context["rows"] + second.context["rows"]]
    assert shown_pks == ranking
    assert len(first.context["rows"]) == BOARD_PAGE_SIZE
    assert board_titles(beyond) == board_titles(second)  # past the end: the last page
    html = first.content.decode()
    assert f"{BOARD_PAGE_SIZE + 7} nominations" in html
    assert "Page 1 of 2" in html
    assert 'href="?page=2"' in html
    assert "<td>51</td>" in second.content.decode()  # ranks go on from page to page


def test_sort_and_filters_are_kept_across_pages(client, call, countries, lead):
    many(call, countries, BOARD_PAGE_SIZE + 5, codes=["SE"])
    many(call, countries, 6, codes=["FR"])
    client.force_login(lead)
    url = reverse("workflow:board", args=[call.pk])
    swedish = countries["SE"].pk

    first = client.get(url, {"sort": "title", "country": swedish})
    second = client.get(url, {"sort": "title", "country": swedish, "page": 2})

    expected = sorted(
        Nomination.objects.filter(call=call, country=swedish).values_list("title", flat=True)
    )
    assert board_titles(first) + board_titles(second) == expected
    assert f'href="?sort=title&amp;country={swedish}&amp;page=2"' in first.content.decode()
    assert f"{len(expected)} nominations" in first.content.decode()


def test_by_country_the_board_orders_countries_then_scores(client, call, countries, lead):
    many(call, countries, 12)
    client.force_login(lead)

    page = client.get(reverse("workflow:board", args=[call.pk]), {"sort": "country"})

    rows = [row for row, _task in page.context["rows"]]
    keys = [(row.nomination.country.name, -row.weighted) for row in rows]
    assert keys == sorted(keys)


def test_the_theme_filter_counts_each_nomination_once(client, call, countries, lead, theme):
    energy = ThemeFactory(name="Energy")
    both = reviewed(
        call, countries["SE"], [[5, 5, 5], [3, 3, 3]], title="Both", themes=[theme, energy]
    )
    reviewed(call, countries["FR"], [[2, 2, 2]], title="Other", themes=[theme])
    client.force_login(lead)

    page = client.get(reverse("workflow:board", args=[call.pk]), {"theme": energy.pk})

    ((row, _task),) = page.context["rows"]
    assert (row.nomination, row.weighted, row.means) == (both, 4, [4, 4, 4])
    assert page.context["page"].paginator.count == 1


def test_the_board_costs_the_same_queries_for_5_or_60_nominations(
    client, call, countries, lead, django_assert_max_num_queries
):
    many(call, countries, 5)
    client.force_login(lead)
    url = reverse("workflow:board", args=[call.pk])
    client.get(url)
    with django_assert_max_num_queries(20) as few:
        client.get(url, {"sort": "country"})
    many(call, countries, 55)

    with django_assert_max_num_queries(len(few.captured_queries)) as more:
        page = client.get(url, {"sort": "country"})

    assert len(more.captured_queries) == len(few.captured_queries)
    assert len(page.context["rows"]) == BOARD_PAGE_SIZE


def test_the_undecided_list_names_the_first_few_and_offers_all(client, call, countries, lead):
    for index in range(UNDECIDED_SHOWN + 2):
        NominationFactory(call=call, country=countries["LV"], stage="review", title=f"U{index:02d}")
    client.force_login(lead)
    url = reverse("workflow:board", args=[call.pk])

    page = client.get(url)
    everything = client.get(url, {"undecided": "all"})

    assert len(page.context["undecided"]) == UNDECIDED_SHOWN
    assert page.context["undecided_count"] == UNDECIDED_SHOWN + 2
    assert f"Show all {UNDECIDED_SHOWN + 2} nominations not decided" in page.content.decode()
    assert len(everything.context["undecided"]) == UNDECIDED_SHOWN + 2
    assert "Show all" not in everything.content.decode()


# --- deciding in bulk across pages -------------------------------------------------------


def test_a_ticked_row_from_another_page_is_checked_and_decided(
    client, call, countries, lead, two_in_selection
):
    first, second = two_in_selection
    client.force_login(lead)
    url = reverse("workflow:board", args=[call.pk])

    # Posted from the French-only page with a Swedish nomination's task among the ticks.
    answer = client.post(
        f"{url}?country={countries['FR'].pk}",
        {"task": [first.pk, second.pk], "outcome": "national", "rationale": "Strong."},
    )

    assert answer["Location"] == f"{url}?country={countries['FR'].pk}"
    assert SelectionDecision.objects.filter(outcome="national").count() == 2


def test_a_task_of_another_call_or_not_a_selection_is_ignored(
    client, call, countries, lead, two_in_selection, coordinator
):
    other_call = CallFactory()
    other = accepted(NominationFactory(call=other_call, country=countries["SE"]), coordinator)
    elsewhere = open_task(other, NominationFlow.find_reviewers)
    client.force_login(lead)

    page = client.post(
        reverse("workflow:board", args=[call.pk]),
        {"task": [elsewhere.pk, "x"], "outcome": "national", "rationale": "Sneaky."},
        follow=True,
    )

    assert not SelectionDecision.objects.exists()
    assert "Tick nominations and give an outcome and a rationale." in page.content.decode()


def test_the_bulk_form_posts_back_to_the_same_page(client, call, countries, lead, two_in_selection):
    client.force_login(lead)
    url = reverse("workflow:board", args=[call.pk])

    html = client.get(url, {"sort": "title", "stage": "selection"}).content.decode()

    assert 'id="bulk-decision" action="?sort=title&amp;stage=selection"' in html
