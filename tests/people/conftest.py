import pytest

from tests.factories import CallFactory, CountryFactory, UserFactory


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_staff=True)


@pytest.fixture
def sweden(db):
    return CountryFactory(code="SE")


@pytest.fixture
def latvia(db):
    return CountryFactory(code="LV")


@pytest.fixture
def coordinator(sweden):
    user = UserFactory(username="coordinator-se")
    sweden.coordinators.add(user)
    return user


@pytest.fixture
def other_coordinator(latvia):
    user = UserFactory(username="coordinator-lv")
    latvia.coordinators.add(user)
    return user


@pytest.fixture
def the_call(db):
    return CallFactory(title="Against segregation")


@pytest.fixture
def other_call(db):
    return CallFactory(title="Another call")


@pytest.fixture
def lead(the_call):
    user = UserFactory(username="lead")
    the_call.leads.add(user)
    return user


@pytest.fixture
def other_lead(other_call):
    user = UserFactory(username="other-lead")
    other_call.leads.add(user)
    return user
