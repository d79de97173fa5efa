"""The web process's gunicorn settings file: the hook that freezes a worker's start-up heap."""

import gc
import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "config" / "gunicorn.conf.py"


def gunicorn_settings():
    spec = importlib.util.spec_from_file_location("gunicorn_settings", SETTINGS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_worker_freezes_what_it_loaded_at_start_in_a_hook_gunicorn_calls():
    from gunicorn.config import Config

    settings = gunicorn_settings()
    # A misspelt hook would be a plain function gunicorn never calls.
    assert "post_worker_init" in Config().settings
    assert callable(settings.post_worker_init)
    gc.unfreeze()
    try:
        settings.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
