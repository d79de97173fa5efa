"""A signed-in person's language: the one chosen, otherwise the one last signed in with.

The first visit follows the browser (Django's LocaleMiddleware reads Accept-Language and
the language cookie). A person who picks a language with the switcher has it saved in
their notification preferences, which also choose their emails' language, and in their
session; each later sign-in puts the saved language back in the session, so it wins over
whatever browser they sign in from. Until they choose, each sign-in records the language
they arrived with, and their emails follow the latest.
"""

from django.conf import settings
from django.utils import translation
from django.views.i18n import set_language

from .models import Preference

SESSION_KEY = "nomflow.language"


def _is_interface_language(code):
    return code in dict(settings.LANGUAGES)


def language_choose(request):
    """Django's set_language, remembering the choice for a signed-in person."""
    response = set_language(request)
    code = request.POST.get("language", "")
    if request.method == "POST" and _is_interface_language(code) and request.user.is_authenticated:
        Preference.objects.update_or_create(user=request.user, defaults={"language": code})
        request.session[SESSION_KEY] = code
    return response


def language_remember_at_sign_in(*, request, user):
    """Called when a person signs in: their chosen language, or the one they arrived with.

    The language they arrive with is remembered on every sign-in (not only the first):
    until they choose one, it is their emails' language.
    """
    preference, _created = Preference.objects.get_or_create(user=user)
    arrived_with = getattr(request, "LANGUAGE_CODE", "")
    if _is_interface_language(arrived_with) and preference.signed_in_language != arrived_with:
        preference.signed_in_language = arrived_with
        preference.save(update_fields=["signed_in_language"])
    if _is_interface_language(preference.language):
        request.session[SESSION_KEY] = preference.language


class PersonLanguageMiddleware:
    """After authentication: a signed-in person's saved language wins over the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        code = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if code and _is_interface_language(code) and request.user.is_authenticated:
            translation.activate(code)
            request.LANGUAGE_CODE = code
        return self.get_response(request)
