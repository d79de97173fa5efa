"""The reference data's current text becomes its English text.

The translation columns added in 0010 start empty; the text already there (the original
column) was written in English, the source language. This is what modeltranslation's
``update_translation_fields`` command does, kept here so every database gets it once.
One UPDATE per field (``SET name_en = name WHERE name_en IS NULL``) on SQLite and
PostgreSQL alike; nothing already translated is overwritten.
"""

from django.db import migrations
from django.db.models import F

FIELDS = {
    "Country": ["name"],
    "Theme": ["name", "description"],
    "Call": ["title", "description"],
    "SurveyQuestion": ["text", "help_text", "choices"],
}


def copy_into_english(apps, schema_editor, *, app_label="nominations", fields=FIELDS):
    for model_name, names in fields.items():
        model = apps.get_model(app_label, model_name)
        for name in names:
            model.objects.filter(**{f"{name}_en__isnull": True}).update(**{f"{name}_en": F(name)})


def copy_back_from_english(apps, schema_editor, *, app_label="nominations", fields=FIELDS):
    for model_name, names in fields.items():
        model = apps.get_model(app_label, model_name)
        for name in names:
            model.objects.filter(**{f"{name}_en__isnull": False}).update(**{name: F(f"{name}_en")})


class Migration(migrations.Migration):
    dependencies = [
        ("nominations", "0010_reference_data_translations"),
    ]

    operations = [
        migrations.RunPython(copy_into_english, copy_back_from_english, elidable=False),
    ]
