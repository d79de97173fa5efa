"""Reference data edited in every interface language, and which translations are missing.

The admin shows each translated field once per language, one under another
(modeltranslation's ``TranslationAdmin``). Its tabbed variant is not used: it loads
jQuery UI from a CDN, which the Content-Security-Policy (``script-src 'self'``) refuses.
Where a translation is missing readers see the English text; the admin lists which
languages are missing, on the change list and at the top of the change form.
"""

from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from modeltranslation.translator import translator
from modeltranslation.utils import build_localized_fieldname, get_translation_fields

SOURCE_LANGUAGE = "en"


def translated_search_fields(*names):
    """Search every language's column, whatever language the admin is read in."""
    return [field for name in names for field in get_translation_fields(name)]


def missing_translations(*objects):
    """Codes of the languages in which some English text of ``objects`` is not translated."""
    missing = []
    for code, _name in settings.LANGUAGES:
        if code == SOURCE_LANGUAGE:
            continue
        for obj in objects:
            fields = translator.get_options_for_model(type(obj)).fields
            if any(
                getattr(obj, build_localized_fieldname(name, SOURCE_LANGUAGE))
                and not getattr(obj, build_localized_fieldname(name, code))
                for name in fields
            ):
                missing.append(code)
                break
    return missing


class MissingTranslationsMixin:
    """A ``missing_translations`` column and read-only field: "fr, lv", or "none"."""

    def translated_objects(self, obj):
        """Everything whose translations the change form's note covers."""
        return [obj]

    @admin.display(description=_("Missing translations"))
    def missing_translations(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return ", ".join(missing_translations(*self.translated_objects(obj))) or _("none")

    @admin.display(description=_("Missing translations"))
    def missing_translations_column(self, obj):
        return ", ".join(missing_translations(obj)) or "—"
