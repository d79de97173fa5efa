# Load the Celery app with Django so that `delay_on_commit` uses its settings.
from .celery_app import app as celery_app

__all__ = ("celery_app",)
