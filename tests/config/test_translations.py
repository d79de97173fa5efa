"""Every interface language is complete, compiled, and the pages switch to it."""

import re
from gettext import c2py
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template import engines
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.integration

TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]
TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
#: Names that stay as they are in every language.
UNTRANSLATED_WORDS = {"Nomflow", "JSON", "CSV", "Excel", "ZIP", "lt", "gt", "amp", "nbsp"}
#: "My tasks", in each language: the switcher must turn the header into it.
MY_TASKS = {
    "sv": "Mina uppgifter",
    "fr": "Mes tâches",
    "es": "Mis tareas",
    "lv": "Mani uzdevumi",
}


def catalogue(code):
    return polib.pofile(
        str(Path(settings.BASE_DIR) / "locale" / code / "LC_MESSAGES" / "django.po")
    )


def test_the_interface_speaks_the_partnerships_five_languages():
    assert [code for code, _name in settings.LANGUAGES] == ["en", "sv", "fr", "es", "lv"]


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated_and_not_fuzzy(code):
    entries = catalogue(code)

    assert [entry.msgid for entry in entries.untranslated_entries()] == []
    assert [entry.msgid for entry in entries.fuzzy_entries()] == []
    assert list(entries.obsolete_entries()) == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_plural_has_all_of_its_languages_forms(code):
    entries = catalogue(code)
    forms = int(re.search(r"nplurals=(\d+)", entries.metadata["Plural-Forms"]).group(1))

    assert forms == (3 if code == "lv" else 2)
    for entry in entries:
        if entry.msgid_plural:
            assert sorted(entry.msgstr_plural) == list(range(forms)), entry.msgid
            assert all(entry.msgstr_plural.values()), entry.msgid


@pytest.mark.parametrize("code", TRANSLATED)
def test_placeholders_survive_translation(code):
    placeholder = re.compile(r"%\(\w+\)[sdfr]|%[sd]")
    for entry in catalogue(code).translated_entries():
        wanted = sorted(placeholder.findall(entry.msgid_plural or entry.msgid))
        for text in entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]:
            found = sorted(placeholder.findall(text))
            if entry.msgid_plural:  # a language's singular may spell out the number
                assert set(found) <= set(wanted), (entry.msgid, text)
            else:
                assert found == wanted, (entry.msgid, text)


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalogue_matches_its_source(code):
    entries = catalogue(code)
    with translation.override(code):
        stale = [
            entry.msgid
            for entry in entries.translated_entries()
            if not entry.msgid_plural and translation.gettext(entry.msgid) != entry.msgstr
        ]
    assert stale == []


def test_latvian_plurals_follow_latvian_grammar():
    """1, 21, 31 take the first form, other non-zero counts the second, zero the third."""
    rule = catalogue("lv").metadata["Plural-Forms"].split("plural=", 1)[1].rstrip(";")
    form = c2py(rule)  # the formula gettext itself evaluates

    assert [form(n) for n in (1, 21, 31, 11, 2, 5, 12, 0)] == [0, 0, 0, 1, 1, 1, 1, 2]


def test_templates_hold_no_text_left_unmarked_for_translation():
    """Words between tags in a page template must pass through {% translate %} & co."""
    untranslated = []
    for path in sorted(TEMPLATES_DIR.rglob("*.html")):
        if "notifications/email" in str(path):
            continue  # one line each; checked through their rendered tests
        source = path.read_text()
        source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", source, flags=re.S)
        source = re.sub(
            r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}",
            " ",
            source,
            flags=re.S,
        )
        source = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", " ", source, flags=re.S)
        source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
        for text in re.findall(r">([^<>]+)<", source):
            words = set(re.findall(r"[A-Za-z]{2,}", text)) - UNTRANSLATED_WORDS
            if words:
                untranslated.append(f"{path.relative_to(TEMPLATES_DIR)}: {text.strip()[:60]}")
    assert untranslated == []


@pytest.mark.django_db
@pytest.mark.parametrize("code", TRANSLATED)
def test_the_language_switcher_turns_the_pages_into_each_language(client, nominator, code):
    client.force_login(nominator)

    client.post(reverse("set_language"), {"language": code, "next": "/"})
    response = client.get(reverse("workflow:inbox"))

    assert MY_TASKS[code] in response.content.decode()
    assert f'<html lang="{code}">' in response.content.decode()


def test_the_template_engine_is_django_s():
    # The unmarked-text check above reads Django templates; a second engine would escape it.
    assert [engine.name for engine in engines.all()] == ["django"]
