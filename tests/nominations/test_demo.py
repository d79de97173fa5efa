"""The demo's staff accounts sign in with the published demo key of an authenticator app."""

from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.urls import reverse

from tests.factories import totp_code
from tests.signin import signed_in_user_id
from workflow import demo

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def printed():
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_the_demo_prints_the_authenticator_key_of_its_staff(printed):
    assert demo.DEMO_TOTP_SECRET in printed
    assert demo.demo_totp_url() in printed


def test_only_the_demos_staff_have_an_authenticator_app(printed):
    with_app = set(
        Authenticator.objects.filter(type=Authenticator.Type.TOTP).values_list(
            "user__username", flat=True
        )
    )

    assert with_app == {"admin", "lead", *(spec[0] for spec in demo.COORDINATORS.values())}


def test_a_demo_coordinator_signs_in_with_the_demo_key_and_reaches_the_inbox(client, printed):
    client.post(
        reverse("account_login"),
        {"login": "coordinator.se@nomflow.test", "password": demo.DEMO_PASSWORD},
    )
    client.post(reverse("mfa_authenticate"), {"code": totp_code(demo.DEMO_TOTP_SECRET)})

    assert signed_in_user_id(client) is not None
    assert client.get(reverse("workflow:inbox")).status_code == 200
