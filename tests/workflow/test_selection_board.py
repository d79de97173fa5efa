"""The leads' selection board: ranking, disagreement, filters and who may open it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from nominations.models import Nomination, SelectionDecision, SelectionProposal
from nominations.selectors import target_warnings
from notifications.models import Message
from reviewers.models import CriterionScore, Review
from reviewers.selectors import selection_board
from reviewers.services import score_summaries_rebuild

from ..factories import NominationFactory, ReviewerFactory, ThemeFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def reviewed(call, country, scores_by_reviewer, *, stage="selection", **fields):
    """A nomination in selection with one submitted review per list of scores."""
    nomination = NominationFactory(call=call, country=country, stage=stage, **fields)
    criteria = list(call.criteria.all())
    for index, scores in enumerate(scores_by_reviewer):
        reviewer = ReviewerFactory(username=f"{nomination.title}-r{index}")
        review = Review.objects.create(nomination=nomination, reviewer=reviewer, status="submitted")
        for criterion, score in zip(criteria, scores, strict=True):
            CriterionScore.objects.create(review=review, criterion=criterion, score=score)
    # Scores written directly, not through review_submit: the board's summaries from them.
    score_summaries_rebuild(nominations=[nomination.pk])
    return nomination


def test_ranking_by_weighted_score_with_ties_and_missing_scores(call, countries):
    _innovation, impact, _transfer = call.criteria.all()
    impact.weight = Decimal(2)
    impact.save()
    se, fr = countries["SE"], countries["FR"]
    strong_impact = reviewed(call, se, [[2, 5, 2]], title="Strong impact")  # (2+10+2)/4 = 3.5
    even = reviewed(call, fr, [[4, 3, 4]], title="Even")  # (4+6+4)/4 = 3.5: a tie, later
    best = reviewed(call, se, [[5, 5, 5], [4, 4, 4]], title="Best")  # 4.5
    unscored = reviewed(call, fr, [], title="Unscored")
    partly = reviewed(call, se, [[3, None, None]], title="Partly")  # only innovation: 3.0

    _criteria, rows = selection_board(call=call, nominations=Nomination.objects.filter(call=call))

    assert [(row.nomination, row.weighted) for row in rows] == [
        (best, 4.5),
        (strong_impact, 3.5),
        (even, 3.5),
        (partly, 3.0),
        (unscored, None),
    ]
    assert rows[0].means == [4.5, 4.5, 4.5]
    assert rows[3].means == [3, None, None]


def test_reviewers_who_differ_by_two_points_are_flagged(call, countries):
    split = reviewed(call, countries["SE"], [[5, 3, 3], [3, 3, 4]], title="Split")
    close = reviewed(call, countries["FR"], [[4, 3, 3], [3, 4, 4]], title="Close")

    _criteria, rows = selection_board(call=call, nominations=Nomination.objects.filter(call=call))

    flags = {row.nomination: (row.disagreement, row.spreads) for row in rows}
    assert flags[split] == (True, [2, 0, 1])
    assert flags[close] == (False, [1, 1, 1])


def test_the_board_filters_and_shows_reviews_side_by_side(client, call, countries, lead, theme):
    energy = ThemeFactory(name="Energy")
    swedish = reviewed(call, countries["SE"], [[4, 4, 4]], title="Swedish", themes=[theme])
    reviewed(call, countries["LV"], [[3, 3, 3]], title="Latvian", themes=[energy], kind="method")
    decided = reviewed(call, countries["FR"], [[2, 2, 2]], title="French", stage="decided")
    SelectionDecision.objects.create(
        nomination=decided, outcome="not_selected", rationale="No", decided_by=lead
    )
    NominationFactory(call=call, country=countries["ES"], title="In review", stage="review")
    client.force_login(lead)
    url = reverse("workflow:board", args=[call.pk])

    def titles(**query):
        return [row.nomination.title for row, _task in client.get(url, query).context["rows"]]

    assert titles() == ["Swedish", "Latvian", "French"]
    assert titles(country=countries["LV"].pk) == ["Latvian"]
    assert titles(theme=energy.pk) == ["Latvian"]
    assert titles(kind="method") == ["Latvian"]
    assert titles(stage="decided") == ["French"]
    html = client.get(url).content.decode()
    reviewer = Review.objects.get(nomination=swedish).reviewer
    assert reviewer.get_full_name() in html  # the reviews side by side, for the leads
    assert "Not selected" in html


@pytest.mark.parametrize("role", ["nominator", "coordinator", "reviewer", "other_lead"])
def test_only_the_calls_leads_and_admins_open_the_board(client, request, call, countries, role):
    reviewed(call, countries["SE"], [[4, 4, 4]], title="Swedish")
    if role == "reviewer":
        person = Review.objects.get().reviewer
    elif role == "other_lead":
        person = UserFactory(username="lead-elsewhere")
    else:
        person = request.getfixturevalue(role)
    client.force_login(person)

    assert client.get(reverse("workflow:board", args=[call.pk])).status_code == 404


def test_the_board_costs_the_same_queries_for_few_or_many_nominations(
    client, call, countries, lead, django_assert_num_queries
):
    reviewed(call, countries["SE"], [[4, 4, 4]], title="One")
    client.force_login(lead)
    url = reverse("workflow:board", args=[call.pk])
    client.get(url)
    # The page's overhead, the call, the lead check, the filters' choices, the criteria,
    # one page of ranked nominations with their figures and count, their themes, reviews
    # and scores, their open selection tasks; for the balance, the countries and the
    # call's themes with their counts; the first undecided nominations with their count
    # and open tasks, named on top.
    with django_assert_num_queries(20) as one:
        client.get(url)
    for index in range(3):
        reviewed(call, countries["FR"], [[3, 3, 3], [4, 4, 4]], title=f"More {index}")
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(url)
    assert len(page.context["rows"]) == 4


def test_a_filtered_board_costs_what_an_unfiltered_one_does(
    client, call, countries, theme, lead, django_assert_num_queries
):
    reviewed(call, countries["SE"], [[4, 4, 4]], title="Swedish")
    reviewed(call, countries["FR"], [[3, 3, 3]], title="French")
    client.force_login(lead)
    url = reverse("workflow:board", args=[call.pk])
    client.get(url)
    with django_assert_num_queries(20):
        client.get(url)

    # A chosen country and theme are checked against the lists the page reads anyway.
    filters = {"country": countries["SE"].pk, "theme": theme.pk, "sort": "title"}
    with django_assert_num_queries(20):
        page = client.get(url, filters)

    assert [row.nomination.title for row, _task in page.context["rows"]] == ["Swedish"]


def test_the_balance_counts_selected_and_undecided_against_the_targets(
    client, call, countries, theme, lead
):
    call.min_selected_per_country = 1
    call.save()
    reviewed(call, countries["SE"], [[4, 4, 4]], title="Swedish", themes=[theme])
    french = reviewed(call, countries["FR"], [[4, 4, 4]], title="French", stage="decided")
    SelectionDecision.objects.create(
        nomination=french, outcome="national", rationale="Yes", decided_by=lead
    )
    latvian = reviewed(call, countries["LV"], [[2, 2, 2]], title="Latvian", stage="decided")
    SelectionDecision.objects.create(
        nomination=latvian, outcome="not_selected", rationale="No", decided_by=lead
    )
    client.force_login(lead)

    (by_country, _heading), _themes = client.get(reverse("workflow:board", args=[call.pk])).context[
        "balance_tables"
    ]

    lines = {
        line.name: (line.selected, line.undecided, line.met, line.out_of_reach)
        for line in by_country
    }
    assert lines[countries["FR"].name] == (1, 0, True, False)
    assert lines[countries["SE"].name] == (0, 1, False, False)
    assert lines[countries["LV"].name] == (0, 0, False, True)
    assert lines[countries["ES"].name] == (0, 0, False, True)


def test_the_selection_page_warns_when_not_selecting_would_break_a_target(
    client, call, countries, theme, lead
):
    call.min_selected_per_country = 1
    call.save()
    swedish = reviewed(call, countries["SE"], [[4, 4, 4]], title="Swedish", themes=[theme])
    other_swedish = reviewed(call, countries["SE"], [[3, 3, 3]], title="Other Swedish")

    # Two Swedish nominations undecided: not selecting one still leaves the other.
    assert target_warnings(nomination=swedish) == []
    SelectionDecision.objects.create(
        nomination=other_swedish, outcome="not_selected", rationale="No", decided_by=lead
    )
    Nomination.objects.filter(pk=other_swedish.pk).update(stage="decided")

    (warning,) = target_warnings(nomination=swedish)
    assert warning == (
        f"Not selecting it leaves {countries['SE'].name} below its target: "
        "0 selected of at least 1."
    )


# --- making the selection final --------------------------------------------------------


def test_the_selection_is_final_only_when_all_is_decided_and_then_nominators_are_told(
    client, call, countries, lead, django_capture_on_commit_callbacks
):
    undecided = reviewed(call, countries["SE"], [[4, 4, 4]], title="Swedish")
    decided = reviewed(call, countries["FR"], [[4, 4, 4]], title="French", stage="decided")
    SelectionDecision.objects.create(
        nomination=decided, outcome="national", rationale="Yes", decided_by=lead
    )
    NominationFactory(call=call, country=countries["LV"], title="Still a draft")
    call.closes_at = call.opens_at + timedelta(days=1)  # closed: no draft can be submitted
    call.save()
    client.force_login(lead)
    url = reverse("workflow:finalise", args=[call.pk])

    refused = client.post(url, {"confirm": "yes"}, follow=True)

    call.refresh_from_db()
    assert call.selection_finalised_at is None
    assert "1 nomination is not decided yet: “Swedish”." in refused.content.decode()

    SelectionDecision.objects.create(
        nomination=undecided, outcome="not_selected", rationale="No", decided_by=lead
    )
    Nomination.objects.filter(pk=undecided.pk).update(stage="decided")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"confirm": "yes"})
        client.post(url, {"confirm": "yes"})  # a second click changes nothing, tells nobody twice

    call.refresh_from_db()
    assert call.selection_finalised_by == lead
    told = Message.objects.filter(kind="selection_final")
    assert sorted(told.values_list("recipient", flat=True)) == sorted(
        [undecided.nominator_id, decided.nominator_id]
    )
    emails = {email.to[0]: email for email in mail.outbox}
    assert "Selected for the national showcase" in emails[decided.nominator.email].body
    assert "Not selected" in emails[undecided.nominator.email].body


def closed(call):
    call.opens_at = timezone.now() - timedelta(days=30)
    call.closes_at = timezone.now() - timedelta(days=1)
    call.save()
    return call


def test_while_the_call_is_open_nothing_offers_to_make_the_selection_final(
    client, call, countries, lead
):
    decided = reviewed(call, countries["SE"], [[4, 4, 4]], title="SE", stage="decided")
    SelectionDecision.objects.create(
        nomination=decided, outcome="national", rationale="Yes", decided_by=lead
    )
    client.force_login(lead)
    url = reverse("workflow:finalise", args=[call.pk])

    board = client.get(reverse("workflow:board", args=[call.pk])).content.decode()
    page = client.get(url).content.decode()

    for html in (board, page):
        assert "This call is still open: new nominations may arrive until it closes." in html
    assert f'href="{url}"' not in board
    assert 'name="confirm"' not in page


def test_making_the_selection_final_asks_first_and_says_who_will_be_told(
    client, call, countries, lead
):
    closed(call)
    for code in ("SE", "FR"):
        decided = reviewed(call, countries[code], [[4, 4, 4]], title=code, stage="decided")
        SelectionDecision.objects.create(
            nomination=decided, outcome="national", rationale="Yes", decided_by=lead
        )
    client.force_login(lead)
    url = reverse("workflow:finalise", args=[call.pk])

    board = client.get(reverse("workflow:board", args=[call.pk])).content.decode()
    unconfirmed = client.post(url)
    page = client.get(url).content.decode()

    call.refresh_from_db()
    assert call.selection_finalised_at is None
    assert f'href="{url}"' in board
    assert unconfirmed.status_code == 200
    assert "This cannot be undone. 2 nominators will be emailed" in page
    assert 'name="confirm" value="yes"' in page


def test_a_refused_selection_names_the_undecided_nominations_with_links(
    client, call, countries, lead, two_in_selection
):
    first, _second = two_in_selection
    closed(call)
    in_review = NominationFactory(
        call=call, country=countries["LV"], title="Latvian in review", stage="review"
    )
    client.force_login(lead)

    confirm_page = client.get(reverse("workflow:finalise", args=[call.pk])).content.decode()
    board = client.get(reverse("workflow:board", args=[call.pk])).content.decode()

    decide_link = f'<a href="{reverse("workflow:task", args=[first.pk])}">'
    for page in (confirm_page, board):
        assert decide_link + f"{first.process.nominationprocess.nomination.title}</a>" in page
        assert in_review.title in page
    assert "3 nominations are not decided." in confirm_page
    assert 'name="confirm"' not in confirm_page


def test_once_final_the_board_offers_and_accepts_no_bulk_decision(
    client, call, lead, two_in_selection
):
    Nomination.objects.filter(call=call).update(stage="decided")
    call.selection_finalised_at = call.opens_at
    call.save()
    client.force_login(lead)
    board_url = reverse("workflow:board", args=[call.pk])

    page = client.get(board_url).content.decode()
    client.post(
        board_url,
        {"task": [two_in_selection[0].pk], "outcome": "national", "rationale": "Late."},
    )

    assert "Decide the ticked nominations together" not in page
    assert 'form="bulk-decision"' not in page
    assert not SelectionDecision.objects.exists()


@pytest.mark.parametrize("role", ["coordinator", "nominator", "other_lead"])
def test_only_the_calls_leads_make_the_selection_final(client, request, call, role):
    person = (
        UserFactory(username="lead-elsewhere")
        if role == "other_lead"
        else request.getfixturevalue(role)
    )
    client.force_login(person)

    assert client.post(reverse("workflow:finalise", args=[call.pk])).status_code == 404
    call.refresh_from_db()
    assert call.selection_finalised_at is None


# --- deciding in bulk ------------------------------------------------------------------


def test_the_board_decides_the_ticked_nominations_together(client, call, lead, two_in_selection):
    client.force_login(lead)
    first, second = two_in_selection

    client.post(
        reverse("workflow:board", args=[call.pk]),
        {"task": [first.pk], "outcome": "national", "rationale": "Both strong."},
    )

    assert list(SelectionDecision.objects.values_list("outcome", "rationale")) == [
        ("national", "Both strong.")
    ]
    page = client.get(reverse("workflow:board", args=[call.pk])).content.decode()
    # The task checkboxes, not any option that happens to share a value.
    assert f'name="task" value="{second.pk}"' in page
    assert f'name="task" value="{first.pk}"' not in page


def test_in_bulk_a_four_eyes_call_gets_proposals_not_decisions(
    client, call, lead, two_in_selection
):
    call.require_two_leads = True
    call.save()
    client.force_login(lead)

    client.post(
        reverse("workflow:board", args=[call.pk]),
        {"task": [t.pk for t in two_in_selection], "outcome": "national", "rationale": "Good."},
    )

    assert not SelectionDecision.objects.exists()
    assert SelectionProposal.objects.filter(proposed_by=lead).count() == 2
