"""Every unhandled error reaches the log with its traceback and the request's id."""

import io
import json
import logging

import pytest
from django.core import mail
from pythonjsonlogger.json import JsonFormatter

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db,
    pytest.mark.urls("tests.config.error_urls"),
]


@pytest.fixture
def console_log():
    """What the configured console handler writes, as text."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield handler, stream
    handler.setStream(previous)


def test_a_server_error_is_logged_with_its_traceback_and_request_id(client, console_log):
    _handler, stream = console_log
    client.raise_request_exception = False

    response = client.get("/boom/", HTTP_X_REQUEST_ID="req-4711")

    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-4711"
    log = stream.getvalue()
    assert log.count("Internal Server Error: /boom/") == 1
    assert "[request req-4711] Internal Server Error: /boom/" in log
    assert "Traceback (most recent call last)" in log
    assert "RuntimeError: the kind of bug a partner would report" in log


def test_without_a_request_id_one_is_made_and_returned(client):
    first = client.get("/hub/")["X-Request-ID"]
    second = client.get("/hub/")["X-Request-ID"]

    assert len(first) == 32 and first != second


def test_json_logs_are_one_object_a_line_with_the_traceback(client, console_log, settings):
    handler, stream = console_log
    previous = handler.formatter
    handler.setFormatter(
        JsonFormatter(
            **{
                key: value
                for key, value in settings.LOGGING["formatters"]["json"].items()
                if key != "()"
            }
        )
    )
    client.raise_request_exception = False
    try:
        client.get("/boom/", HTTP_X_REQUEST_ID="req-json")
    finally:
        handler.setFormatter(previous)

    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    error = next(record for record in records if record["logger"] == "django.request")
    assert (error["level"], error["request_id"]) == ("ERROR", "req-json")
    assert "RuntimeError: the kind of bug a partner would report" in error["exc_info"]


def test_admins_are_emailed_each_server_error(client, settings):
    settings.ADMINS = [("Ops", "ops@nomflow.test")]
    client.raise_request_exception = False

    client.get("/boom/")

    assert [message.to for message in mail.outbox] == [["ops@nomflow.test"]]
    assert "RuntimeError" in mail.outbox[0].body


def test_the_error_page_is_nomflows_own_and_needs_nothing_that_may_be_broken(client):
    client.raise_request_exception = False

    response = client.get("/boom/")

    page = response.content.decode()
    assert "Something went wrong" in page
    assert "/static/" not in page  # no stylesheet that a broken build could take down


def test_a_missing_page_says_so_in_the_sites_own_layout(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "site-header" in response.content.decode()
