"""Named permission checks on calls and countries, for views, services and templates alike.

Each answers one question about one person; a view passes the answer to its template as a
flag rather than the template asking again. They read only this app's tables, so every
app may use them.
"""

from .models import Call, Country


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


def may_create_call(user):
    """Admins, and whoever leads at least one call: they may set up a new call."""
    return user.is_authenticated and (
        user.is_staff or Call.leads.through.objects.filter(user_id=user.pk).exists()
    )
