from urllib.parse import urlparse

from django.conf import settings
from django.db import migrations


def name_the_site(apps, schema_editor):
    """Account emails name the site; Django's default row says example.com."""
    site_model = apps.get_model("sites", "Site")
    site_model.objects.update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": urlparse(settings.SITE_URL).netloc, "name": "Nomflow"},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("nominations", "0001_initial"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [migrations.RunPython(name_the_site, migrations.RunPython.noop)]
