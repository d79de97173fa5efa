"""Browser fixtures: Playwright driving the Debian Chromium against pytest-django's live server.

`playwright install` cannot download browsers here, so the system Chromium is used;
without it (or without the playwright package) the browser tests skip.
On failure the page is kept as a full-page screenshot and its HTML in
tests/e2e/artifacts/ (gitignored), named after the test.
"""

import os
import re
from pathlib import Path

import pytest

from tests.factories import QuestionFactory, ReviewerFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
#: A common phone held upright; below 60rem the header's menu folds behind a "Menu" button.
PHONE_VIEWPORT = {"width": 390, "height": 844}
ARTIFACTS_DIR = Path(__file__).parent / "artifacts"
DOC_IMAGES_DIR = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (``item.rep_setup``, ``rep_call``) for fixtures."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def browser():
    from .playwright_api import sync_api

    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}; install the Debian chromium package")
    # Playwright's sync API keeps an asyncio loop running in this thread, which
    # makes Django refuse ORM calls (factories, the test database flush) here.
    # The ORM is still used synchronously, so the guard is switched off — for
    # this module only, so that the rest of the suite runs without the loop.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture(autouse=True)
def site_url_is_the_live_server(live_server, settings):
    """Emails link to SITE_URL: in the browser tests, the live server they run against."""
    settings.SITE_URL = live_server.url


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    page = context.new_page()
    # Every page runs under the production Content-Security-Policy: a violation (an inline
    # script or style, a resource from elsewhere) fails the test that caused it.
    csp_violations = []
    page.on(
        "console",
        lambda message: (
            csp_violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    assert csp_violations == [], "the page broke the Content-Security-Policy"
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=ARTIFACTS_DIR / f"{name}.png", full_page=True)
        (ARTIFACTS_DIR / f"{name}.html").write_text(page.content(), encoding="utf-8")
    context.close()


def assert_no_sideways_scroll(page):
    """Nothing on the page is wider than the window, so it never scrolls sideways."""
    overflow = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert overflow["scroll"] <= overflow["inner"], (
        f"{page.url} scrolls sideways: {overflow['scroll']} px wide, the window {overflow['inner']}"
    )


def open_menu_if_folded(page):
    """Open the header's menu where a narrow screen folds it behind its "Menu" button.

    On a wide screen static/js/menu.js has opened it already, and nothing is clicked.
    Call it once the page whose menu is wanted has replaced the one before: while a
    navigation is still on its way, it would open the menu of the page being left.
    """
    from .playwright_api import expect

    page.wait_for_load_state("domcontentloaded")  # menu.js has run: the menu is as it stays
    menu = page.locator("details.site-menu")
    if menu.get_attribute("open") is None:
        menu.locator("> summary").click()
    expect(menu).to_have_attribute("open", "")


@pytest.fixture
def doc_screenshot():
    """Save a full-page screenshot into docs/img/ when NOMFLOW_DOC_SCREENSHOTS=1, else nothing."""
    enabled = os.environ.get("NOMFLOW_DOC_SCREENSHOTS") == "1"

    def take(page, name):
        if enabled:
            DOC_IMAGES_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=DOC_IMAGES_DIR / name, full_page=True)

    return take


@pytest.fixture
def call(call):
    """The shared open call, with a title worth showing in the docs' screenshots."""
    call.title = "Social innovation against segregation"
    call.save(update_fields=["title"])
    return call


@pytest.fixture
def still_running_question(call):
    """A required yes/no question in the call's survey."""
    return QuestionFactory(
        call=call, kind="yes_no", required=True, text="Is the practice still running?"
    )


@pytest.fixture
def peer_reviewers(countries, theme):
    """Two reviewers from France and Latvia: exactly the call's two per nomination."""
    return [
        ReviewerFactory(
            username=f"reviewer-{code.lower()}",
            first_name=first_name,
            last_name=last_name,
            reviewer_profile__country=countries[code],
            reviewer_profile__expertise=[theme],
        )
        for code, first_name, last_name in [("FR", "Camille", "Martin"), ("LV", "Ilze", "Ozola")]
    ]


#: axe-core's impacts that fail a test; "moderate" and "minor" ones are only printed.
AXE_FAILING_IMPACTS = {"serious", "critical"}


@pytest.fixture
def axe_check():
    """Run axe-core (WCAG 2.2 A and AA rules, and best practices) on the page as it is now.

    Fails on any serious or critical violation, naming the rule, the page and the elements.
    """
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    axe = axe_module.Axe()

    def check(page):
        results = axe.run(page).response
        failing = []
        for violation in results["violations"]:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
            line = f"{violation['impact']}: {violation['id']} on {page.url}: {targets[:5]}"
            if violation["impact"] in AXE_FAILING_IMPACTS:
                failing.append(line)
            else:
                print(f"axe {line}")
        assert failing == [], "axe-core found accessibility violations"

    return check
