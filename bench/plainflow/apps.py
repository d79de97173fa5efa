from django.apps import AppConfig


class PlainFlowConfig(AppConfig):
    """Plain django-viewflow, for comparison only: installed by bench/settings.py alone."""

    name = "bench.plainflow"
    label = "plainflow"
    default_auto_field = "django.db.models.BigAutoField"
