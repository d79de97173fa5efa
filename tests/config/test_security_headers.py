"""Every response carries a strict Content-Security-Policy and a Permissions-Policy."""

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.mark.parametrize("url", ["/hub/", "/accounts/login/", "/privacy/"])
def test_pages_forbid_inline_script_and_foreign_resources(client, url):
    response = client.get(url)

    directives = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_pages_switch_off_browser_features_nobody_uses(client):
    policy = client.get("/hub/")["Permissions-Policy"]

    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy
