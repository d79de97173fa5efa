"""A lead sets up next year's call in a real browser: from an earlier call, through the
guided page, to the preview in Swedish.

With NOMFLOW_DOC_SCREENSHOTS=1 it saves the screenshots docs/operations.md shows
(docs/img/call-setup-*.png), each of one part of the page so that they stay small.
"""

import datetime
import os
import re

import pytest
from django.utils import timezone

from nominations.models import Call
from tests.factories import CallFactory, CriterionFactory, QuestionFactory, UserFactory

from .conftest import DOC_IMAGES_DIR
from .playwright_api import expect
from .test_nomination_journey import STAFF_PASSWORD, main_menu, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def doc_image(page, name, locator=None):
    """The window's view as docs/img/<name> (from ``locator`` down, if given), when
    NOMFLOW_DOC_SCREENSHOTS=1; a view rather than the whole page keeps the image small."""
    if os.environ.get("NOMFLOW_DOC_SCREENSHOTS") != "1":
        return
    if locator is not None:
        locator.evaluate("element => element.scrollIntoView({block: 'start'})")
    else:
        page.evaluate("() => window.scrollTo(0, 0)")
    DOC_IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=DOC_IMAGES_DIR / name, animations="disabled")


@pytest.fixture
def earlier_call(theme):
    """Last year's call, led by Marta, with its rubric and one survey question."""
    lead = UserFactory(username="marta", first_name="Marta", last_name="Ozola")
    now = timezone.now()
    call = CallFactory(
        title_en=f"Social innovation against segregation {now.year - 1}",
        title_fr=f"Innovation sociale contre la ségrégation {now.year - 1}",
        description_en="Practices that bring neighbourhoods together.",
        opens_at=now - datetime.timedelta(days=400),
        closes_at=now - datetime.timedelta(days=300),
        time_zone="Europe/Riga",
    )
    call.themes.add(theme)
    call.leads.add(lead)
    for position, (title, weight) in enumerate(
        [("Innovation", "1.00"), ("Impact and evidence", "2.00"), ("Transferability", "1.50")]
    ):
        CriterionFactory(call=call, title_en=title, weight=weight, position=position)
    QuestionFactory(
        call=call,
        text_en="Is the practice still running?",
        text_sv="Pågår verksamheten fortfarande?",
        kind="yes_no",
        required=True,
    )
    return call


def test_a_lead_starts_next_years_call_from_last_years_and_previews_it(page, earlier_call):
    lead = earlier_call.leads.get()
    year = timezone.now().year
    page.goto("/")
    sign_in(page, lead.email, STAFF_PASSWORD)

    main_menu(page).get_by_role("link", name="Set up a call").click()
    expect(page.get_by_role("heading", name="Start from an earlier call")).to_be_visible()
    page.get_by_role("link", name="Start from this call").click()

    texts = page.locator("#section-texts")
    english_title = page.get_by_label("Title (English)")
    # The opening moves on by whole years into the future, and the title's year with it.
    expect(english_title).to_have_value(
        re.compile(rf"Social innovation against segregation {year}|{year + 1}")
    )
    new_title = english_title.input_value()
    doc_image(page, "call-setup-copy.png")

    page.get_by_label("Title (Swedish)").fill(
        new_title.replace(
            "Social innovation against segregation", "Social innovation mot segregation"
        )
    )
    rubric = page.locator("#section-rubric")
    expect(rubric.get_by_label("Criterion (English)").nth(1)).to_have_value("Impact and evidence")
    doc_image(page, "call-setup-rubric.png", rubric)
    expect(texts).to_be_visible()

    page.get_by_role("button", name="Create the call").click()
    expect(page.get_by_text("The call is created, and you are one of its leads.")).to_be_visible()
    call = Call.objects.get(title_en=new_title)
    assert set(call.leads.all()) == {lead}
    assert [c.title_en for c in call.criteria.order_by("position")] == [
        "Innovation",
        "Impact and evidence",
        "Transferability",
    ]
    assert call.opens_at > timezone.now()

    page.get_by_role("link", name="Preview as a nominator sees it").click()
    expect(page.locator(".preview-banner")).to_contain_text("nominators cannot see this call")
    page.get_by_role("navigation", name="Preview language").get_by_role(
        "link", name="svenska"
    ).click()
    expect(page.get_by_role("heading", name=call.title_sv)).to_be_visible()
    expect(page.get_by_text("Pågår verksamheten fortfarande?")).to_be_visible()
    expect(page.locator("#section-survey select")).to_be_disabled()
    doc_image(page, "call-setup-preview.png")
