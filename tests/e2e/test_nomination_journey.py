"""A nomination's whole journey in a real browser, as each person clicks through it.

It runs on a desktop screen and on a phone, where the header's menu is folded behind
its "Menu" button; on both, no page of the journey scrolls sideways.
"""

import re

import pytest
from django.core import mail

from tests.factories import totp_code

from .conftest import (
    PHONE_VIEWPORT,
    VIEWPORT,
    assert_no_sideways_scroll,
    open_menu_if_folded,
)
from .playwright_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STAFF_PASSWORD = "secret-password-1"  # every UserFactory user's password
NOMINATOR_EMAIL = "anna.svensson@example.org"
NOMINATOR_PASSWORD = "Mentors-in-Malmo-2012"
CONFIRMATION_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")
# allauth's labels end in a colon ("Password:"), next to "Password (again):".
PASSWORD = re.compile(r"^Password:?$")
RATIONALE = "An inspiring practice that other cities can copy."
SCREENS = {"desktop": VIEWPORT, "phone": PHONE_VIEWPORT}


def main_menu(page):
    """The header's menu, opened first where the screen folds it."""
    open_menu_if_folded(page)
    return page.get_by_role("navigation", name="Main")


def sign_in(page, email, password):
    if not page.url.endswith("/accounts/login/"):
        main_menu(page).get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(email)
    assert_no_sideways_scroll(page)
    page.get_by_label(PASSWORD).fill(password)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.wait_for_url(lambda url: not url.endswith("/accounts/login/"))
    open_menu_if_folded(page)
    signed_in = page.get_by_role("button", name="Sign out")
    code = page.locator("input[name=code]")
    expect(signed_in.or_(code)).to_be_visible()
    assert_no_sideways_scroll(page)
    if code.is_visible():  # the factories give everyone an authenticator app
        code.fill(unused_totp_code(email))
        page.get_by_role("button", name="Sign In", exact=True).click()
        page.wait_for_url(lambda url: not url.endswith("/accounts/2fa/authenticate/"))
        open_menu_if_folded(page)
    expect(signed_in).to_be_visible()
    assert_no_sideways_scroll(page)


_used_codes = set()


@pytest.fixture(autouse=True)
def forget_used_codes():
    """Each run of the journey has new people, who have used no code yet."""
    _used_codes.clear()


def unused_totp_code(email):
    """The app's code now, or the next one if this person used it already (it works once)."""
    for periods_ahead in (0, 1):
        code = totp_code(periods_ahead=periods_ahead)
        if (email, code) not in _used_codes:
            _used_codes.add((email, code))
            return code
    raise AssertionError("signed in three times in 30 seconds")


def sign_out(page):
    main_menu(page).get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")  # where signing out leads
    expect(main_menu(page).get_by_role("link", name="Sign in")).to_be_visible()
    assert_no_sideways_scroll(page)


def open_my_task(page, title):
    main_menu(page).get_by_role("link", name="My tasks").click()
    task = page.get_by_role("link", name=title, exact=True)
    expect(task).to_be_visible()
    assert_no_sideways_scroll(page)
    task.click()


@pytest.mark.parametrize("screen", SCREENS)
def test_a_new_nominator_follows_a_nomination_from_sign_up_to_selection(
    screen,
    page,
    live_server,
    doc_screenshot,
    call,
    theme,
    still_running_question,
    coordinator,
    peer_reviewers,
    lead,
    axe_check,
):
    page.set_viewport_size(SCREENS[screen])
    # The docs show the desktop screen: the phone run takes no screenshots for them.
    screenshot = doc_screenshot if screen == "desktop" else lambda page, name: None

    # A new nominator signs up and confirms the address from the email.
    page.goto("/")
    assert_no_sideways_scroll(page)
    main_menu(page).get_by_role("link", name="Sign up").click()
    page.get_by_label("First name").fill("Anna")
    assert_no_sideways_scroll(page)
    page.get_by_label("Last name").fill("Svensson")
    page.get_by_label("Email").fill(NOMINATOR_EMAIL)
    page.get_by_label(PASSWORD).fill(NOMINATOR_PASSWORD)
    page.get_by_label("Password (again)").fill(NOMINATOR_PASSWORD)
    page.get_by_role("button", name="Sign Up", exact=True).click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    assert_no_sideways_scroll(page)

    assert [message.to for message in mail.outbox] == [[NOMINATOR_EMAIL]]
    link = CONFIRMATION_LINK.search(mail.outbox[0].body).group()
    # allauth builds the link from the request's host, so it points at the live server.
    assert link.startswith(f"{live_server.url}/")
    page.goto(link)
    assert_no_sideways_scroll(page)
    page.get_by_role("button", name="Confirm", exact=True).click()
    # Confirming in the browser that signed up signs the nominator in, greeted by name.
    expect(page.get_by_role("status")).to_contain_text(f"You have confirmed {NOMINATOR_EMAIL}.")
    expect(page.get_by_role("heading", name="Welcome, Anna Svensson")).to_be_visible()
    assert_no_sideways_scroll(page)

    # A first draft with a few fields.
    main_menu(page).get_by_role("link", name="Nominate a practice").click()
    nominate = page.locator("article.card", has_text=call.title).get_by_role(
        "link", name="Nominate a practice"
    )
    expect(nominate).to_be_visible()
    assert_no_sideways_scroll(page)
    nominate.click()
    page.get_by_label("Title of the practice", exact=True).fill("Neighbourhood mentors")
    assert_no_sideways_scroll(page)
    page.get_by_label("Kind of practice", exact=True).select_option(label="Programme")
    page.get_by_label("Country", exact=True).select_option(label="Sweden")
    page.get_by_label("Organisation", exact=True).fill("Malmö Neighbourhood Trust")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Your draft is saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Neighbourhood mentors")
    assert_no_sideways_scroll(page)

    # Back to the draft to complete it and submit.
    page.get_by_role("link", name="Edit and submit").click()
    expect(page.get_by_label("Organisation", exact=True)).to_have_value("Malmö Neighbourhood Trust")
    assert_no_sideways_scroll(page)
    page.get_by_label("Organisation's sector", exact=True).select_option(label="Civil society")
    page.get_by_label(theme.name, exact=True).check()
    page.get_by_label("Language it is written in", exact=True).select_option(label="English")
    page.get_by_label("Summary", exact=True).fill(
        "Mentors from the neighbourhood help young people into work."
    )
    page.get_by_label("Problem it addresses", exact=True).fill(
        "Spatial segregation keeps young people out of the labour market."
    )
    page.get_by_label("Target group", exact=True).fill("Young people aged 16 to 25")
    page.get_by_label("Results and evidence", exact=True).fill(
        "300 mentees, 60 % in work or study after a year."
    )
    page.get_by_label("Year started", exact=True).fill("2012")
    page.get_by_label("Transferability to other countries", exact=True).fill(
        "Runs in three cities already."
    )
    page.get_by_label("Contact person", exact=True).fill("Anna Svensson")
    page.get_by_label("Contact email", exact=True).fill(NOMINATOR_EMAIL)
    page.get_by_label("Consent to publish", exact=True).check()
    page.get_by_label(still_running_question.text, exact=True).select_option(label="Yes")
    page.get_by_role("button", name="Submit nomination").click()
    expect(page.get_by_role("status")).to_contain_text("Your nomination is submitted.")
    timeline = page.get_by_role("list", name="Status timeline")
    expect(timeline.locator('[aria-current="step"] .step-label')).to_have_text("National screening")
    nomination_url = page.url
    assert_no_sideways_scroll(page)
    axe_check(page)
    screenshot(page, "nomination-status.png")
    sign_out(page)

    # The national coordinator accepts it for peer review.
    sign_in(page, coordinator.email, STAFF_PASSWORD)
    open_my_task(page, "National screening")
    expect(page.get_by_role("heading", level=1)).to_have_text("Neighbourhood mentors")
    assert_no_sideways_scroll(page)
    page.get_by_label("Accept for transnational peer review").check()
    page.get_by_role("button", name="Record screening").click()
    expect(page.get_by_role("status")).to_contain_text("Screening recorded.")
    assert_no_sideways_scroll(page)
    sign_out(page)

    # Each of the two reviewers scores every criterion.
    criteria = [criterion.title for criterion in call.criteria.order_by("position")]
    for reviewer, score in zip(peer_reviewers, ["4", "5"], strict=True):
        sign_in(page, reviewer.email, STAFF_PASSWORD)
        open_my_task(page, "Peer review")
        expect(page.locator("fieldset.criterion").first).to_be_visible()
        assert_no_sideways_scroll(page)
        for title in criteria:
            page.get_by_role("group", name=title, exact=True).get_by_label(
                score, exact=True
            ).check()
        page.get_by_label("Overall comment", exact=True).fill(f"Scored {score} throughout.")
        if reviewer == peer_reviewers[0]:
            screenshot(page, "review-task.png")
            axe_check(page)
        page.get_by_role("button", name="Submit review").click()
        expect(page.get_by_role("status")).to_contain_text("Your review is submitted.")
        assert_no_sideways_scroll(page)
        sign_out(page)

    # The lead compares it with the call's others on the board, then decides from there.
    sign_in(page, lead.email, STAFF_PASSWORD)
    open_my_task(page, "Selection")
    to_board = page.get_by_role("link", name=re.compile("selection board"))
    expect(to_board).to_be_visible()
    assert_no_sideways_scroll(page)
    to_board.click()
    board = page.locator("table.board")
    expect(board.locator("tbody tr").first).to_contain_text("Neighbourhood mentors")
    expect(board.locator("tbody tr").first).to_contain_text("4.50")
    assert_no_sideways_scroll(page)
    screenshot(page, "selection-board.png")
    axe_check(page)
    board.get_by_role("link", name="Decide").click()
    scores = page.locator("table.scores-table")
    expect(scores.locator("tbody tr")).to_have_count(2)
    for reviewer in peer_reviewers:
        expect(scores).to_contain_text(
            f"{reviewer.get_full_name()} ({reviewer.reviewer_profile.country.code})"
        )
    expect(scores.locator("tfoot td strong")).to_have_text(["4.50", "4.50", "4.50"])
    assert_no_sideways_scroll(page)
    page.get_by_label("Selected for the transnational showcase").check()
    page.get_by_label("Rationale", exact=True).fill(RATIONALE)
    screenshot(page, "selection-task.png")
    axe_check(page)
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text("The decision is recorded")
    assert_no_sideways_scroll(page)
    main_menu(page).get_by_role("link", name="Nominations I follow").click()
    to_dashboard = page.get_by_role("link", name="Dashboard").first
    expect(to_dashboard).to_be_visible()
    assert_no_sideways_scroll(page)
    to_dashboard.click()
    expect(page.locator("canvas[data-chart='pipeline-chart']")).to_be_visible()
    assert_no_sideways_scroll(page)
    screenshot(page, "dashboard.png")
    axe_check(page)
    sign_out(page)

    # Sweden's coordinator publishes it in the knowledge hub, which anyone may read.
    sign_in(page, coordinator.email, STAFF_PASSWORD)
    page.goto(nomination_url)
    assert_no_sideways_scroll(page)
    page.get_by_role("link", name="Knowledge hub: public text and publication").click()
    publish = page.get_by_role("button", name="Save and publish")
    expect(publish).to_be_visible()
    assert_no_sideways_scroll(page)
    publish.click()
    expect(page.get_by_role("status")).to_contain_text("The public text is saved.")
    assert_no_sideways_scroll(page)
    sign_out(page)
    main_menu(page).get_by_role("link", name="Knowledge hub").click()
    page.get_by_label("Words").fill("mentors")
    assert_no_sideways_scroll(page)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("article.practice")).to_have_count(1)
    assert_no_sideways_scroll(page)
    screenshot(page, "knowledge-hub.png")
    axe_check(page)
    page.get_by_role("link", name="Neighbourhood mentors").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Neighbourhood mentors")
    assert_no_sideways_scroll(page)
    hub_page = page.content()
    for reviewer in peer_reviewers:
        assert reviewer.get_full_name() not in hub_page

    # The nominator reads the outcome, and nothing says who reviewed.
    sign_in(page, NOMINATOR_EMAIL, NOMINATOR_PASSWORD)
    main_menu(page).get_by_role("link", name="My nominations").click()
    mine = page.get_by_role("link", name="Neighbourhood mentors")
    expect(mine).to_be_visible()
    assert_no_sideways_scroll(page)
    mine.click()
    outcome = page.locator("section.outcome")
    expect(outcome).to_be_visible()
    assert_no_sideways_scroll(page)
    assert page.url == nomination_url
    expect(outcome.get_by_role("strong")).to_have_text("Selected for the transnational showcase")
    expect(outcome).to_contain_text(RATIONALE)
    steps = page.get_by_role("list", name="Status timeline").get_by_role("listitem")
    expect(steps).to_have_count(5)
    for step in steps.all():
        expect(step).to_have_class(re.compile(r"\bstep-done\b"))
    html = page.content()
    for reviewer in peer_reviewers:
        assert reviewer.email not in html
        assert reviewer.get_full_name() not in html
