"""The rubric's current text becomes its English text (see nominations 0011)."""

import importlib

from django.db import migrations

FIELDS = {"RubricCriterion": ["title", "description"]}

_copy = importlib.import_module("nominations.migrations.0011_reference_data_into_english")


def copy_into_english(apps, schema_editor):
    _copy.copy_into_english(apps, schema_editor, app_label="reviewers", fields=FIELDS)


def copy_back_from_english(apps, schema_editor):
    _copy.copy_back_from_english(apps, schema_editor, app_label="reviewers", fields=FIELDS)


class Migration(migrations.Migration):
    dependencies = [
        ("reviewers", "0003_rubric_translations"),
        ("nominations", "0011_reference_data_into_english"),
    ]

    operations = [
        migrations.RunPython(copy_into_english, copy_back_from_english, elidable=False),
    ]
