from django.contrib.staticfiles.apps import StaticFilesConfig


class NomflowStaticFilesConfig(StaticFilesConfig):
    # viewflow ships a font stylesheet that names a file it does not contain;
    # the manifest storage of production's collectstatic would stop on it.
    # Nomflow's pages do not use viewflow's frontend assets.
    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "viewflow/fonts/roboto/node_modules/*"]
