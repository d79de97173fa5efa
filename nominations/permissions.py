"""Named permission checks on calls and countries, for views, services and templates alike.

Each answers one question about one person; a view passes the answer to its template as a
flag rather than the template asking again. They read only this app's tables, so every
app may use them.
"""

from .models import Call, Country, Invitation


def leads_call(*, user, call):
    """Whether ``user`` is one of ``call``'s leads (an admin is not, unless named)."""
    # The link table alone: one row by its unique (call, user) index, no join.
    return (
        user.is_authenticated
        and Call.leads.through.objects.filter(call_id=call.pk, user_id=user.pk).exists()
    )


def may_lead_call(*, user, call):
    """Admins, and the call's own leads: the board, its decisions and closing the selection."""
    return user.is_authenticated and (user.is_staff or leads_call(user=user, call=call))


def is_coordinator(user):
    """Whether ``user`` coordinates the screening of at least one country."""
    return user.is_authenticated and user.coordinated_countries.exists()


def coordinates_country(*, user, country_id):
    """Whether ``user`` is one of the national coordinators of that country."""
    return (
        user.is_authenticated
        and country_id is not None
        # The link table alone: one row by its unique (country, user) index, no join.
        and Country.coordinators.through.objects.filter(
            country_id=country_id, user_id=user.pk
        ).exists()
    )


def may_coordinate_nomination(*, user, nomination):
    """Admins, and the coordinators of the nomination's country."""
    return user.is_authenticated and (
        user.is_staff or coordinates_country(user=user, country_id=nomination.country_id)
    )


def may_invite(*, user, role, country=None, call=None):
    """Whether ``user`` may invite someone to ``role`` (for ``country`` and/or ``call``).

    Admins invite anyone to anything; a country's coordinators invite reviewers for their
    country (for any call, or none); a call's leads invite reviewers for their call (from
    any country). Leads and coordinators are invited by admins only. Whether the country
    and call fit the role is the service's concern (``invitation_create``).
    """
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    if role != Invitation.Role.REVIEWER:
        return False
    return (country is not None and coordinates_country(user=user, country_id=country.pk)) or (
        call is not None and leads_call(user=user, call=call)
    )


def may_invite_anyone(user):
    """Whether ``user`` may invite at all: the page of invitations, the link in the menu."""
    return user.is_authenticated and (
        user.is_staff or user.coordinated_countries.exists() or user.led_calls.exists()
    )


def may_manage_invitation(*, user, invitation):
    """Who may see, resend or withdraw an invitation: whoever may give that invitation now."""
    return may_invite(
        user=user, role=invitation.role, country=invitation.country, call=invitation.call
    )


def may_create_call(user):
    """Admins, and whoever leads at least one call: they may set up a new call."""
    return user.is_authenticated and (
        user.is_staff or Call.leads.through.objects.filter(user_id=user.pk).exists()
    )
