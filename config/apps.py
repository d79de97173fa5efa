from django.apps import AppConfig
from django.contrib.staticfiles.apps import StaticFilesConfig


class NomflowStaticFilesConfig(StaticFilesConfig):
    # viewflow ships a font stylesheet that names a file it does not contain;
    # the manifest storage of production's collectstatic would stop on it.
    # Nomflow's pages do not use viewflow's frontend assets.
    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "viewflow/fonts/roboto/node_modules/*"]


class SignInConfig(AppConfig):
    """Nomflow's sign-in rules (config/signin.py): connects their signal receivers."""

    name = "config"
    label = "nomflow_signin"

    def ready(self):
        from config.signin import connect_signals

        connect_signals()
