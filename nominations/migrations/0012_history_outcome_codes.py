"""A selection outcome in the history is stored as its code, and worded when read.

Until now the label was stored, in the language of the lead who acted (usually English):
each such label, in any interface language, becomes its code again. An outcome matching
no label is left as it was.
"""

from django.conf import settings
from django.db import migrations
from django.utils import translation

#: The labels as SelectionDecision.Outcome spelled them; their translations come from the
#: catalogues.
LABELS = {
    "transnational": "Selected for the transnational showcase",
    "national": "Selected for the national showcase",
    "not_selected": "Not selected",
}
ACTIONS = ["decided", "decision_proposed", "decision_returned"]


def labels_to_codes():
    """Every wording of each outcome (English first, then each interface language) → code."""
    codes = {label: code for code, label in LABELS.items()}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for code, label in LABELS.items():
                codes.setdefault(translation.gettext(label), code)
    return codes


def outcome_labels_to_codes(apps, schema_editor):
    event_model = apps.get_model("nominations", "NominationEvent")
    for label, code in labels_to_codes().items():
        event_model.objects.filter(action__in=ACTIONS, outcome=label).update(outcome=code)


def outcome_codes_to_labels(apps, schema_editor):
    event_model = apps.get_model("nominations", "NominationEvent")
    for code, label in LABELS.items():
        event_model.objects.filter(action__in=ACTIONS, outcome=code).update(outcome=label)


class Migration(migrations.Migration):
    dependencies = [
        ("nominations", "0011_reference_data_into_english"),
    ]

    operations = [
        migrations.RunPython(outcome_labels_to_codes, outcome_codes_to_labels, elidable=False),
    ]
