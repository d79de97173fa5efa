"""Signing in, for every role: one way in, limited guesses, a second factor for staff.

- The admin's sign-in page hands over to allauth's (``admin_login``), so allauth's rate
  limits (``ACCOUNT_RATE_LIMITS``) and second factor apply to every way in.
- ``AccountAdapter`` counts an account's failed sign-ins per address, so a stranger's
  guesses lock out the stranger and not the account's owner.
- ``StaffSignInMiddleware`` sends coordinators, leads and admins without a second factor
  to enrol, and signs them out after ``STAFF_SESSION_IDLE_SECONDS`` without a request.

docs/operations.md ("Sessions and sign-in") describes the rules for operators.
"""

import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.internal.ratelimit import truncate_ip  # pinned at 65.22.1, as the hook below
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model, logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.contrib.sites.models import Site
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from nominations.models import Call, Country
from notifications.models import Preference

from .site import on_site, site_domain

#: Where the time of a session's latest request is kept, in whole seconds since the epoch.
LAST_ACTIVITY_SESSION_KEY = "nomflow.last_activity"
#: The last activity is written at most this often, so that a session is saved about once a
#: minute rather than on every request; the idle timeout is exact to within this much.
ACTIVITY_RESOLUTION_SECONDS = 60
#: Authenticators that are a second factor by themselves (recovery codes are a fallback).
SECOND_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
#: What a staff member without a second factor may still open: the account pages (where
#: they enrol, sign out, manage email and password), static files, the language switch,
#: the health check and the public knowledge hub.
OPEN_BEFORE_ENROLMENT = ("/accounts/", "/static/", "/i18n/", "/health/", "/hub/")


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        """Account emails as Nomflow's own: links on ``SITE_URL``, in the person's language.

        allauth builds its links (``activate_url``, ``password_reset_url``…) from the
        request's host and names the ``Site`` row's domain; both are replaced by the one
        configured site. An address that belongs to someone with a language preference
        is written to in that language, not in the browser's of whoever asked.
        """
        context = {
            **context,
            "current_site": Site(domain=site_domain(), name="Nomflow"),
            **{
                name: on_site(value)
                for name, value in context.items()
                if name.endswith("_url") and isinstance(value, str)
            },
        }
        user = context.get("user") or (
            get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        )
        language = (
            Preference.objects.filter(user=user).values_list("language", flat=True).first()
            if user is not None and user.pk
            else None
        )
        with translation.override(language or translation.get_language()):
            return super().send_mail(template_prefix, email, context)

    def _get_login_attempts_cache_key(self, request, **credentials):
        """The account *and the address* whose failed sign-ins ``login_failed`` counts.

        allauth counts an account's failures from every address together, so five wrong
        passwords from anywhere would shut the owner out too. Per address, a stranger only
        shuts out themselves; the "ip" rate still limits each address across accounts.
        (Overrides allauth's private hook, pinned at 65.22.1; tests/config/test_signin.py
        fails if it stops being called.)
        """
        account = super()._get_login_attempts_cache_key(request, **credentials)
        # An IPv6 client owns a whole /64: counted as one address, as allauth's "ip" rate does.
        return f"{truncate_ip(self.get_client_ip(request))}:{account}"


def admin_login(request):
    """The admin's sign-in page: allauth's, with its rate limits and second factor."""
    if request.user.is_authenticated:
        # Signed in without admin rights; allauth would send them straight back here.
        raise PermissionDenied
    next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
    return redirect_to_login(next_url, login_url=reverse("account_login"))


def staff_sign_in_state(user):
    """(holds a staff role, has a second factor) for a signed-in ``user``, in one query.

    The staff roles are those of ``workflow.selectors.user_roles`` that act on other
    people's nominations: coordinator of a country, lead of a call, admin (staff or
    superuser).
    """
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            coordinates=Exists(Country.objects.filter(coordinators=OuterRef("pk"))),
            leads_a_call=Exists(Call.objects.filter(leads=OuterRef("pk"))),
            has_second_factor=Exists(
                Authenticator.objects.filter(user=OuterRef("pk"), type__in=SECOND_FACTORS)
            ),
        )
        .values_list("is_staff", "is_superuser", "coordinates", "leads_a_call", "has_second_factor")
        .first()
    )
    if row is None:
        return False, False
    *roles, has_second_factor = row
    return any(roles), has_second_factor


def session_activity_record(request, *, now):
    """Note ``now`` as the session's latest activity (at most once a minute)."""
    last = request.session.get(LAST_ACTIVITY_SESSION_KEY)
    if last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS:
        request.session[LAST_ACTIVITY_SESSION_KEY] = now


def session_idle_seconds(request, *, now):
    """Seconds since the session's latest noted activity; 0 when none is noted yet."""
    last = request.session.get(LAST_ACTIVITY_SESSION_KEY)
    return 0 if last is None else now - last


def _session_started(sender, request, user, **kwargs):
    # A new session counts as active from the moment of signing in (also for
    # Client.force_login in tests), so its first request need not save it again.
    if request is not None and hasattr(request, "session"):
        request.session[LAST_ACTIVITY_SESSION_KEY] = int(time.time())


def connect_signals():
    user_logged_in.connect(_session_started, dispatch_uid="nomflow.signin.session_started")


class StaffSignInMiddleware:
    """Staff roles: signed out when idle, and made to enrol a second factor first.

    Coordinators, leads and admins idle for more than ``STAFF_SESSION_IDLE_SECONDS`` are
    signed out and sent to the sign-in page. Those with no authenticator app (or security
    key) reach only the pages in ``OPEN_BEFORE_ENROLMENT``; anything else sends them to
    set one up. Nominators and reviewers keep the normal session and may enrol if they
    wish. Goes after the authentication and message middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            staff, has_second_factor = staff_sign_in_state(request.user)
            if staff and session_idle_seconds(request, now=now) > (
                settings.STAFF_SESSION_IDLE_SECONDS
            ):
                logout(request)
                minutes = settings.STAFF_SESSION_IDLE_SECONDS // 60
                messages.info(
                    request,
                    ngettext(
                        "You were signed out after %(minutes)d minute without activity.",
                        "You were signed out after %(minutes)d minutes without activity.",
                        minutes,
                    )
                    % {"minutes": minutes},
                )
                return redirect_to_login(request.get_full_path())
            session_activity_record(request, now=now)
            if (
                staff
                and not has_second_factor
                and not request.path_info.startswith(OPEN_BEFORE_ENROLMENT)
            ):
                messages.warning(
                    request,
                    _(
                        "Your role needs two-factor authentication. Set up an authenticator "
                        "app to continue."
                    ),
                )
                return redirect("mfa_activate_totp")
        return self.get_response(request)
