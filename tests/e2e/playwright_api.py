"""Playwright's sync API for the browser tests: a module that imports it skips without it."""

import pytest

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="playwright cannot be imported",
    exc_type=ImportError,  # a broken install as well as a missing one
)
expect = sync_api.expect
