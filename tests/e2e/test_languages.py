"""The public landing page in each of the five languages, as a browser set to it gets it."""

import pytest
from django.utils import translation

from tests.factories import CallFactory

from .playwright_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

#: The call's title in each language, as an admin sets it side by side.
CALL_TITLES = {
    "en": "Social innovation against segregation",
    "sv": "Social innovation mot segregation",
    "fr": "L’innovation sociale contre la ségrégation",
    "es": "Innovación social contra la segregación",
    "lv": "Sociālās inovācijas pret segregāciju",
}


@pytest.mark.parametrize("code", ["en", "sv", "fr", "es", "lv"])
def test_a_browser_set_to_a_language_gets_the_whole_page_in_it(
    browser, live_server, code, doc_screenshot
):
    CallFactory(**{f"title_{language}": title for language, title in CALL_TITLES.items()})
    with translation.override(code):
        heading = translation.gettext(
            "Nomflow: good practices of social innovation, found across Europe"
        )
        sign_up = translation.gettext("Sign up")
        hub = translation.gettext("Knowledge hub")
    context = browser.new_context(
        base_url=live_server.url, locale=code, viewport={"width": 1100, "height": 800}
    )
    page = context.new_page()
    try:
        page.goto("/")

        expect(page.locator("html")).to_have_attribute("lang", code)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.get_by_role("link", name=sign_up, exact=True).first).to_be_visible()
        expect(page.get_by_text(CALL_TITLES[code], exact=True)).to_be_visible()
        if code != "en":
            assert heading != "Nomflow: good practices of social innovation, found across Europe"
            assert hub != "Knowledge hub"
        doc_screenshot(page, f"language-{code}.png")
    finally:
        context.close()
