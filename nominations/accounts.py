"""How people are named, and how an erased account is recognised."""

from django.utils.translation import gettext

#: Erased accounts keep their row under this address. ``.invalid`` is reserved (RFC 2606):
#: no real address ends with it, so the address alone says the account is erased.
ERASED_EMAIL_DOMAIN = "erased.invalid"


def erased_email(pk):
    return f"erased-{pk}@{ERASED_EMAIL_DOMAIN}"


def is_erased(user):
    return bool(user.email) and user.email.endswith(f"@{ERASED_EMAIL_DOMAIN}")


def user_display(user):
    """How account pages and emails name a person."""
    if is_erased(user):
        return gettext("(erased person)")
    return user.get_full_name() or user.email


def reviewer_display(user):
    """How the board, task pages and exports name a reviewer."""
    if is_erased(user):
        return gettext("Reviewer (erased)")
    return user.get_full_name() or user.email
