"""The Swedish interface is complete, and the page switches to it."""

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.unit

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES" / "django.po"


def test_every_swedish_message_is_translated_and_not_fuzzy():
    catalogue = polib.pofile(str(CATALOGUE))

    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []


def test_the_compiled_swedish_catalogue_matches_its_source():
    catalogue = polib.pofile(str(CATALOGUE))
    with translation.override("sv"):
        stale = [
            entry.msgid
            for entry in catalogue.translated_entries()
            if not entry.msgid_plural and translation.gettext(entry.msgid) != entry.msgstr
        ]
    assert stale == []


@pytest.mark.django_db
def test_the_language_switcher_turns_the_pages_swedish(client, nominator):
    client.force_login(nominator)

    client.post(reverse("set_language"), {"language": "sv", "next": "/"})
    response = client.get(reverse("workflow:inbox"))

    assert "Mina uppgifter" in response.content.decode()
    assert '<html lang="sv">' in response.content.decode()
