"""Every main page on a 390 by 844 phone, for each role, in English and Swedish.

On each page nothing runs off the side (the page is never wider than the screen), the
header stays a single short row with its menu folded, and axe-core finds no serious or
critical accessibility problem.
"""

import pytest

from nominations.models import Nomination
from reviewers.models import Review
from tests.factories import totp_code
from workflow import demo

from .conftest import PHONE_VIEWPORT, assert_no_sideways_scroll, open_menu_if_folded
from .playwright_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

#: A folded header is one row: the brand, the "Menu" button and the bell.
MAX_HEADER_HEIGHT = 80


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE_VIEWPORT)
    return page


@pytest.fixture
def demo_call(db):
    """The demo's call: its people and nominations at every stage, each with a history."""
    return demo.demo_load()


def sign_in(page, local_part, axe_check=None):
    """Sign in as a demo account, with the demo's authenticator app when asked for a code.

    Works in any interface language: the fields are found by name, not by their labels.
    """
    page.context.clear_cookies(name="sessionid")  # signs out, keeps the language
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(demo.email_of(local_part))
    page.locator("input[name=password]").fill(demo.DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: not url.endswith("/accounts/login/"))
    code = page.locator("input[name=code]")
    if code.count():
        if axe_check is not None:
            assert_fits_the_phone(page, axe_check)  # the second factor's page too
        code.fill(totp_code(demo.DEMO_TOTP_SECRET))
        page.locator("main form button[type=submit]").click()
    expect(page.locator("form[action='/accounts/logout/']")).to_be_attached()


def choose_language(page, language):
    """Switch the interface language the way a person does, through the header's form."""
    page.goto("/hub/")
    open_menu_if_folded(page)
    page.get_by_label("Language").select_option(language)
    page.locator("form.language button").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def assert_fits_the_phone(page, axe_check):
    """Nothing wider than the screen, a folded one-row header, and no axe failure."""
    assert_no_sideways_scroll(page)
    expect(page.locator("details.site-menu")).not_to_have_attribute("open", "")
    header = page.locator("header.site-header").bounding_box()
    assert header["height"] <= MAX_HEADER_HEIGHT, f"{page.url}: header {header['height']} px"
    axe_check(page)


def visit(page, axe_check, url):
    response = page.goto(url)
    assert response.status == 200, url
    assert_fits_the_phone(page, axe_check)


@pytest.mark.parametrize("language", ["en", "sv"])
def test_every_main_page_fits_a_phone_and_passes_axe(
    phone, axe_check, doc_screenshot, demo_call, language
):
    page = phone
    decided = Nomination.objects.get(call=demo_call, stage=Nomination.Stage.DECIDED)
    in_review = Nomination.objects.filter(call=demo_call, stage=Nomination.Stage.REVIEW).first()
    reviewer = (
        Review.objects.filter(nomination=in_review, status__in=Review.OPEN_STATUSES)
        .select_related("reviewer")
        .first()
        .reviewer
    )
    choose_language(page, language)

    # Anyone: the sign-in page, the knowledge hub, a practice, the privacy statement.
    for url in [
        "/accounts/login/",
        "/hub/",
        f"/hub/practices/{decided.published_practice.pk}/",
        "/privacy/",
    ]:
        visit(page, axe_check, url)
        if url == "/hub/" and language == "en":
            doc_screenshot(page, "phone-hub.png")

    # A nominator: home, a new nomination's form, their nomination with its history.
    sign_in(page, "nominator", axe_check)
    visit(page, axe_check, "/")
    if language == "en":
        doc_screenshot(page, "phone-home.png")
    visit(page, axe_check, f"/nominations/calls/{demo_call.pk}/new/")
    visit(page, axe_check, f"/nominations/{decided.pk}/")
    expect(page.locator("table.history tbody tr").first).to_be_visible()

    # A reviewer: the inbox and the review form.
    sign_in(page, reviewer.username, axe_check)
    visit(page, axe_check, "/tasks/")
    page.locator("table.list a").first.click()
    expect(page.locator("fieldset.criterion").first).to_be_visible()
    assert_fits_the_phone(page, axe_check)

    # The call's lead (with a second factor): the board, the dashboard, a selection task.
    sign_in(page, demo.LEAD[0], axe_check)
    visit(page, axe_check, "/tasks/")
    page.locator("table.list a").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_fits_the_phone(page, axe_check)
    visit(page, axe_check, f"/calls/{demo_call.pk}/board/")
    visit(page, axe_check, f"/calls/{demo_call.pk}/dashboard/")
    visit(page, axe_check, f"/nominations/{decided.pk}/")

    # Sweden's coordinator: the nominations followed and a screening task.
    sign_in(page, demo.COORDINATORS["SE"][0], axe_check)
    visit(page, axe_check, "/nominations/overview/")

    # The administrator: the staff outbox.
    sign_in(page, demo.ADMIN[0], axe_check)
    visit(page, axe_check, "/notifications/outbox/")
    expect(page.locator("html")).to_have_attribute("lang", language)


def test_the_folded_menu_opens_from_the_keyboard_and_leads_everywhere(phone, demo_call):
    page = phone
    sign_in(page, "nominator")
    page.goto("/")
    menu = page.get_by_role("navigation", name="Main")
    expect(menu).to_be_hidden()

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.locator("details.site-menu > summary").focus()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    menu.get_by_role("link", name="My nominations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My nominations")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()


def test_on_a_wide_screen_the_menu_is_open_and_its_button_hidden(page, demo_call):
    sign_in(page, "nominator")
    page.goto("/")

    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator("details.site-menu > summary")).to_be_hidden()
