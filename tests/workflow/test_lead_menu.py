"""The menu takes leads to their calls' selection boards and dashboards."""

import pytest
from django.urls import reverse

from ..factories import CallFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_lead_of_one_call_finds_its_board_and_dashboard_in_the_menu(client, call, lead):
    client.force_login(lead)

    page = client.get(reverse("workflow:home")).content.decode()

    assert f'href="{reverse("workflow:board", args=[call.pk])}"' in page
    assert f'href="{reverse("workflow:dashboard", args=[call.pk])}"' in page
    assert reverse("workflow:led_calls") not in page


def test_a_lead_of_several_calls_finds_them_on_one_page(client, call, lead):
    other = CallFactory(title="Second call")
    other.leads.add(lead)
    client.force_login(lead)

    menu = client.get(reverse("workflow:home")).content.decode()
    page = client.get(reverse("workflow:led_calls")).content.decode()

    assert f'href="{reverse("workflow:led_calls")}"' in menu
    for led in (call, other):
        assert led.title in page
        assert f'href="{reverse("workflow:board", args=[led.pk])}"' in page
        assert f'href="{reverse("workflow:dashboard", args=[led.pk])}"' in page


def test_people_who_lead_no_call_see_no_call_links(client, call, coordinator):
    client.force_login(coordinator)

    page = client.get(reverse("workflow:home")).content.decode()

    assert reverse("workflow:board", args=[call.pk]) not in page
    assert reverse("workflow:led_calls") not in page


#: The people pages in the menu, and who finds each one there.
PEOPLE_LINKS = {
    "people:invitations": {"coordinator", "lead", "admin"},
    "workflow:call_new": {"lead", "admin"},
    "reviewers:country": {"coordinator", "admin"},
    "reviewers:profile": {"reviewer"},
}


@pytest.mark.parametrize("role", ["nominator", "reviewer", "coordinator", "lead", "admin"])
def test_the_menu_links_each_role_to_exactly_its_people_pages(
    client, call, nominator, coordinator, lead, reviewers, role
):
    people = {
        "nominator": nominator,
        "reviewer": reviewers[0],
        "coordinator": coordinator,
        "lead": lead,
        "admin": UserFactory(username="admin", is_staff=True),
    }
    client.force_login(people[role])

    page = client.get(reverse("workflow:home")).content.decode()

    shown = {name for name in PEOPLE_LINKS if f'href="{reverse(name)}"' in page}
    assert shown == {name for name, roles in PEOPLE_LINKS.items() if role in roles}
