"""Signing in through the pages, as a person does: password, then the authenticator code."""

from django.urls import reverse

from tests.factories import totp_code

PASSWORD = "secret-password-1"  # every UserFactory user's password


def sign_in(client, user, *, password=PASSWORD, **extra):
    """Post the sign-in form (and the second-factor code, if ``user`` has an authenticator).

    Returns the last response. ``extra`` goes into the request, e.g. ``REMOTE_ADDR``.
    """
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": password}, **extra
    )
    if response.status_code == 302 and response["Location"] == reverse("mfa_authenticate"):
        # A code is accepted once; a second sign-in in the same 30 seconds uses the next one
        # (MFA_TOTP_TOLERANCE accepts it).
        for periods_ahead in (0, 1):
            response = client.post(
                reverse("mfa_authenticate"),
                {"code": totp_code(periods_ahead=periods_ahead)},
                **extra,
            )
            if response.status_code == 302:
                break
    return response


def signed_in_user_id(client):
    """The id of the user ``client``'s session belongs to, or None."""
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id is not None else None


def reauthenticate(client, *, password=PASSWORD):
    """Confirm the password again, as allauth asks before changing the second factor."""
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302
    return response
