"""Signing in: every way in is rate-limited, staff roles need a second factor, idle staff
sessions end, and a person can end their other sessions."""

import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from config.signin import LAST_ACTIVITY_SESSION_KEY, staff_sign_in_state
from tests.factories import CallFactory, CountryFactory, ReviewerFactory, UserFactory, totp_code
from tests.signin import PASSWORD, reauthenticate, sign_in, signed_in_user_id
from workflow.selectors import user_roles

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
WRONG = "not-the-password"


def person(role, **kwargs):
    """A user holding ``role``: coordinator, lead, admin, reviewer or nominator."""
    if role == "reviewer":
        return ReviewerFactory(username=role, **kwargs)
    user = UserFactory(username=role, is_staff=role == "admin", **kwargs)
    if role == "coordinator":
        CountryFactory(code="SE").coordinators.add(user)
    elif role == "lead":
        CallFactory().leads.add(user)
    return user


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- rate limits ------------------------------------------------------------------------


def test_the_admin_sign_in_page_hands_over_to_allauths(client):
    person("admin")

    page = client.get("/admin/login/?next=/admin/")
    posted = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})

    assert page.status_code == 302
    assert page["Location"] == f"{reverse('account_login')}?next=/admin/"
    assert posted.status_code == 302
    assert posted["Location"].startswith(reverse("account_login"))
    assert signed_in_user_id(client) is None


def test_the_admin_asks_anyone_signed_out_to_sign_in_with_allauth(client):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == f"{reverse('account_login')}?next=/admin/"
    assert response.status_code == 200


def test_signed_in_without_admin_rights_the_admin_sign_in_page_refuses(client):
    client.force_login(person("nominator"))

    assert client.get("/admin/login/?next=/admin/").status_code == 403


def sign_in_form_url(client, entry):
    """Where the sign-in form posts when a person starts at ``entry``."""
    response = client.get(entry, follow=True)
    return response.redirect_chain[-1][0] if response.redirect_chain else entry


def attempt(client, url, user, password, address):
    # The admin's old form read "username", allauth's reads "login": send both.
    return client.post(
        url,
        {"login": user.email, "username": user.username, "password": password},
        REMOTE_ADDR=address,
    )


@pytest.mark.parametrize("entry", ["/admin/login/?next=/admin/", "/accounts/login/"])
def test_forty_wrong_passwords_lock_that_address_out_even_with_the_right_one(client, entry):
    admin = person("admin", mfa=False)
    url = sign_in_form_url(client, entry)

    refused = [attempt(client, url, admin, WRONG, ATTACKER) for _ in range(40)]
    right = attempt(client, url, admin, PASSWORD, ATTACKER)

    assert [r.status_code for r in refused[:5]] == [200] * 5  # the form, with its error
    assert signed_in_user_id(client) is None
    assert right.status_code in {200, 429}
    assert "Too many failed login attempts" in right.content.decode() or (right.status_code == 429)


@pytest.mark.parametrize("entry", ["/admin/login/?next=/admin/", "/accounts/login/"])
def test_a_stranger_locked_out_does_not_keep_the_owner_out(client, entry):
    admin = person("admin", mfa=False)
    url = sign_in_form_url(client, entry)
    for _ in range(40):
        attempt(client, url, admin, WRONG, ATTACKER)
    owner = Client()

    response = attempt(owner, sign_in_form_url(owner, entry), admin, PASSWORD, OWNER)

    assert response.status_code == 302
    assert signed_in_user_id(owner) == admin.pk


def test_five_wrong_passwords_for_one_account_lock_only_that_account_from_that_address(client):
    admin, nominator = person("admin", mfa=False), person("nominator", mfa=False)
    url = reverse("account_login")
    for _ in range(5):
        attempt(client, url, admin, WRONG, ATTACKER)

    locked = attempt(client, url, admin, PASSWORD, ATTACKER)
    other_account = attempt(Client(), url, nominator, PASSWORD, ATTACKER)

    assert "Too many failed login attempts" in locked.content.decode()
    assert other_account.status_code == 302


def test_one_address_guessing_across_many_accounts_is_stopped_after_ten_a_minute(client):
    """Password spraying: one wrong guess for each of many accounts, from one address."""
    url = reverse("account_login")
    people = [UserFactory(username=f"person-{n}", mfa=False) for n in range(11)]
    for someone in people[:10]:
        assert attempt(client, url, someone, WRONG, ATTACKER).status_code == 200

    eleventh = attempt(client, url, people[10], PASSWORD, ATTACKER)

    assert "Too many failed login attempts" in eleventh.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_ipv6_client_is_one_address_for_its_whole_slash_64(client):
    """Otherwise one network could guess an account's password from 2**64 addresses."""
    admin = person("admin", mfa=False)
    url = reverse("account_login")
    for host in range(1, 6):
        attempt(client, url, admin, WRONG, f"2001:db8:1:2::{host}")

    same_network = attempt(client, url, admin, PASSWORD, "2001:db8:1:2::99")
    other_network = attempt(Client(), url, admin, PASSWORD, "2001:db8:9:9::1")

    assert "Too many failed login attempts" in same_network.content.decode()
    assert other_network.status_code == 302


# --- a second factor for staff roles ------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "lead", "admin"])
def test_a_staff_role_without_a_second_factor_is_sent_to_set_one_up(client, role):
    client.force_login(person(role, mfa=False))

    response = client.get(reverse("workflow:inbox"))

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert messages_of(response) == [
        "Your role needs two-factor authentication. Set up an authenticator app to continue."
    ]


@pytest.mark.parametrize("role", ["coordinator", "lead", "admin"])
def test_after_enrolling_a_staff_role_reaches_the_inbox(client, role):
    user = person(role, mfa=False)
    sign_in(client, user)
    assert client.get(reverse("workflow:inbox"))["Location"] == reverse("mfa_activate_totp")
    # allauth asks for the password again before a second factor is added or removed.
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(
        reverse("account_reauthenticate")
    )
    reauthenticate(client)

    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    enrolled = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    inbox = client.get(reverse("workflow:inbox"))

    assert page.status_code == 200
    assert secret in page.content.decode()
    assert enrolled.status_code == 302
    assert list(
        Authenticator.objects.filter(user=user).values_list("type", flat=True).order_by("type")
    ) == [
        Authenticator.Type.RECOVERY_CODES,
        Authenticator.Type.TOTP,
    ]
    assert inbox.status_code == 200


@pytest.mark.parametrize("role", ["nominator", "reviewer"])
def test_nominators_and_reviewers_are_never_made_to_enrol(client, role):
    client.force_login(person(role, mfa=False))

    for url in [reverse("workflow:inbox"), reverse("nominations:list")]:
        assert client.get(url).status_code == 200


def test_before_enrolling_staff_still_reach_their_account_pages_and_the_hub(client):
    client.force_login(person("coordinator", mfa=False))

    for url in [
        reverse("mfa_index"),
        reverse("account_email"),
        reverse("usersessions_list"),
        reverse("hub:list"),
    ]:
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/")["Location"] == reverse("mfa_activate_totp")


def test_the_two_factor_pages_render_for_someone_enrolled(client):
    sign_in(client, person("coordinator"))
    reauthenticate(client)

    generated = client.post(reverse("mfa_generate_recovery_codes"))

    assert generated.status_code == 302
    for name in [
        "mfa_index",
        "mfa_deactivate_totp",
        "mfa_generate_recovery_codes",
        "mfa_view_recovery_codes",
        "usersessions_list",
    ]:
        assert client.get(reverse(name)).status_code == 200, name


def test_signing_in_asks_an_enrolled_person_for_their_code(client):
    coordinator = person("coordinator")

    after_password = client.post(
        reverse("account_login"), {"login": coordinator.email, "password": PASSWORD}
    )
    wrong_code = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    right_code = client.post(reverse("mfa_authenticate"), {"code": totp_code()})

    assert after_password["Location"] == reverse("mfa_authenticate")
    assert wrong_code.status_code == 200
    assert right_code.status_code == 302
    assert signed_in_user_id(client) == coordinator.pk


def test_a_security_key_alone_is_a_second_factor_for_staff(client):
    coordinator = person("coordinator", mfa=False)
    # The row as allauth stores a key; which key it is does not matter to the rule.
    Authenticator.objects.create(
        user=coordinator, type=Authenticator.Type.WEBAUTHN, data={"name": "Master key"}
    )
    client.force_login(coordinator)

    assert staff_sign_in_state(coordinator) == (True, True)
    assert client.get(reverse("workflow:inbox")).status_code == 200


def test_a_security_key_is_added_as_a_second_factor_for_this_host(client):
    sign_in(client, person("coordinator"))
    reauthenticate(client)

    page = client.get(reverse("mfa_add_webauthn"))
    options = page.context["js_data"]["creation_options"]["publicKey"]
    keys = client.get(reverse("mfa_list_webauthn"))

    assert page.status_code == 200
    assert keys.status_code == 200
    # Bound to the host the page came from ("testserver" here, "localhost" in the browser
    # tests), and not a passkey: the key follows the password, it does not replace it.
    assert options["rp"]["id"] == "testserver"
    assert options["authenticatorSelection"]["residentKey"] == "discouraged"
    # Only the origins browsers allow for WebAuthn (https, http://localhost) are accepted.
    assert mfa_settings.WEBAUTHN_ALLOW_INSECURE_ORIGIN is False
    assert mfa_settings.PASSKEY_LOGIN_ENABLED is False


def test_signing_in_offers_a_security_key_beside_the_code(client):
    coordinator = person("coordinator")

    client.post(reverse("account_login"), {"login": coordinator.email, "password": PASSWORD})
    page = client.get(reverse("mfa_authenticate"))

    assert page.status_code == 200
    assert 'id="mfa_webauthn_authenticate"' in page.content.decode()
    assert "request_options" in page.context["js_data"]


@pytest.mark.parametrize("role", ["coordinator", "lead", "admin", "reviewer", "nominator"])
def test_the_staff_roles_are_the_navigations_coordinator_lead_and_admin(role):
    user = person(role)

    staff, has_second_factor = staff_sign_in_state(user)

    assert staff == bool(user_roles(user) & {"coordinator", "lead", "admin"})
    assert has_second_factor is True


# --- sessions ---------------------------------------------------------------------------


def idle_for(client, seconds):
    session = client.session
    session[LAST_ACTIVITY_SESSION_KEY] = int(time.time()) - seconds
    session.save()


@pytest.mark.parametrize("role", ["coordinator", "lead", "admin"])
def test_staff_idle_longer_than_the_timeout_are_signed_out(client, settings, role):
    settings.STAFF_SESSION_IDLE_SECONDS = 30 * 60
    client.force_login(person(role))
    idle_for(client, 30 * 60 + 1)
    inbox = reverse("workflow:inbox")

    response = client.get(inbox)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={inbox}"
    assert signed_in_user_id(client) is None
    assert messages_of(response) == ["You were signed out after 30 minutes without activity."]


def test_each_request_starts_the_staff_idle_time_again(client, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 30 * 60
    client.force_login(person("coordinator"))
    idle_for(client, 29 * 60)

    first = client.get(reverse("workflow:inbox"))
    idle_for_since_first = int(time.time()) - client.session[LAST_ACTIVITY_SESSION_KEY]

    assert first.status_code == 200
    assert idle_for_since_first < 60


def test_a_nominator_idle_as_long_stays_signed_in(client, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 30 * 60
    nominator = person("nominator")
    client.force_login(nominator)
    idle_for(client, 3 * 60 * 60)

    assert client.get(reverse("workflow:inbox")).status_code == 200
    assert signed_in_user_id(client) == nominator.pk


def test_a_remembered_sign_in_keeps_its_cookie_two_weeks_and_another_until_the_browser_closes():
    nominator = person("nominator", mfa=False)
    remembered, forgotten = Client(), Client()

    kept = remembered.post(
        reverse("account_login"),
        {"login": nominator.email, "password": PASSWORD, "remember": "on"},
    )
    passing = forgotten.post(
        reverse("account_login"), {"login": nominator.email, "password": PASSWORD}
    )

    assert kept.cookies["sessionid"]["max-age"] == 14 * 24 * 60 * 60
    assert passing.cookies["sessionid"]["max-age"] == ""  # a browser-session cookie


def test_signing_out_other_sessions_ends_the_other_browsers_session():
    nominator = person("nominator")
    laptop, phone = Client(), Client()
    sign_in(laptop, nominator, HTTP_USER_AGENT="Laptop")
    sign_in(phone, nominator, HTTP_USER_AGENT="Phone")
    assert client_reaches_inbox(phone)

    page = laptop.get(reverse("usersessions_list"))
    ended = laptop.post(reverse("usersessions_list"))

    assert "Laptop" in page.content.decode() and "Phone" in page.content.decode()
    assert ended.status_code == 302
    assert not client_reaches_inbox(phone)
    assert client_reaches_inbox(laptop)


def client_reaches_inbox(client):
    return client.get(reverse("workflow:inbox")).status_code == 200


def test_the_header_links_to_two_factor_and_sessions(client):
    client.force_login(person("nominator"))

    page = client.get(reverse("workflow:inbox")).content.decode()

    assert f'href="{reverse("mfa_index")}"' in page
    assert f'href="{reverse("usersessions_list")}"' in page
