"""Reference data in every interface language (django-modeltranslation).

Each field named here gets a column per language in ``settings.LANGUAGES`` (``name_en``,
``name_sv``, …); reading ``obj.name`` gives the active language's text, or the English
one where that is missing. Nominations themselves are written in one language and are
not translated.
"""

from django.conf import settings
from django.utils import translation
from modeltranslation.translator import TranslationOptions, register

from .models import Call, Country, SurveyQuestion, Theme


def texts_by_language(obj, field):
    """``obj.field`` as each interface language reads it: ``{"en": …, "sv": …, …}``.

    For text stored now and read later by someone whose language is not yet known
    (an email rendered in its recipient's language).
    """
    texts = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts[code] = getattr(obj, field)
    return texts


@register(Country)
class CountryTranslationOptions(TranslationOptions):
    fields = ("name",)
    required_languages = ("en",)


@register(Theme)
class ThemeTranslationOptions(TranslationOptions):
    fields = ("name", "description")
    required_languages = {"en": ("name",)}
    # A theme's name is unique in every language; a translation left empty is stored as
    # NULL (never two equal empty strings) and shows the English name instead.
    empty_values = {"name": None}


@register(Call)
class CallTranslationOptions(TranslationOptions):
    fields = ("title", "description")
    required_languages = {"en": ("title",)}


@register(SurveyQuestion)
class SurveyQuestionTranslationOptions(TranslationOptions):
    # ``choices`` is one choice per line: each language lists the same choices in the
    # same order, and an answer is stored as the English line (SurveyQuestion.choice_pairs).
    fields = ("text", "help_text", "choices")
    required_languages = {"en": ("text",)}
