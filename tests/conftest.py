import pytest
from django.core.cache import cache
from django.utils import translation

from tests.factories import (
    CallFactory,
    CountryFactory,
    CriterionFactory,
    NominationFactory,
    ReviewerFactory,
    ThemeFactory,
    UserFactory,
)

#: Fixtures that reach the database, directly or through the fixtures they use.
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}
KINDS = ("unit", "integration", "e2e", "production")
#: Modules whose tests take seconds each: a real browser, a real Celery worker, threads
#: racing over many rounds, hundreds of generated examples. ``make test-fast`` skips them.
SLOW_MODULES = (
    "tests/e2e/",
    "tests/production/",
    "tests/notifications/test_delivery_integration.py",
    "tests/notifications/test_sending_integration.py",
    "tests/notifications/test_worker_connections.py",
    "tests/notifications/test_reminder_month.py",
    "tests/nominations/test_public_text_concurrency.py",
    "tests/reviewers/test_matching_oracle.py",
    "tests/workflow/test_capacity_concurrency.py",
    "tests/workflow/test_concurrency.py",
    "tests/workflow/test_flow_model.py",
)


def pytest_collection_modifyitems(config, items):
    """Every test is of one kind, and a ``unit`` test never touches the database.

    A test that declares no kind gets ``integration`` when it uses the database and
    ``unit`` otherwise, so ``-m unit`` selects exactly the tests that need no server.
    """
    for item in items:
        uses_database = item.get_closest_marker("django_db") is not None or bool(
            DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        )
        if uses_database and item.get_closest_marker("unit"):
            raise pytest.UsageError(f"{item.nodeid} is marked unit but uses the database")
        if not any(item.get_closest_marker(kind) for kind in KINDS):
            item.add_marker(pytest.mark.integration if uses_database else pytest.mark.unit)
        if item.nodeid.startswith(SLOW_MODULES):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with no sign-in attempts counted and no second-factor code used."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english_to_start():
    """Each test starts in English, whatever language a page left active in the thread.

    Reference data is written and looked up in the active language (modeltranslation):
    a Swedish page in one test must not make the next test's "Innovation" Swedish.
    """
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def countries(db):
    return {code: CountryFactory(code=code) for code in ["ES", "FR", "LV", "SE"]}


@pytest.fixture
def theme(db):
    return ThemeFactory(name="Spatial segregation")


@pytest.fixture
def call(db, theme):
    call = CallFactory()
    call.themes.add(theme)
    for title in ["Innovation", "Impact and evidence", "Transferability"]:
        CriterionFactory(call=call, title=title)
    return call


@pytest.fixture
def coordinator(countries):
    """The national coordinator for Sweden."""
    user = UserFactory(username="coordinator-se")
    countries["SE"].coordinators.add(user)
    return user


@pytest.fixture
def lead(call):
    user = UserFactory(username="lead")
    call.leads.add(user)
    return user


@pytest.fixture
def reviewers(countries, theme):
    """Three reviewers from France, Latvia and Spain, expert in the call's theme."""
    return [
        ReviewerFactory(
            username=f"reviewer-{code.lower()}",
            reviewer_profile__country=countries[code],
            reviewer_profile__expertise=[theme],
        )
        for code in ["FR", "LV", "ES"]
    ]


@pytest.fixture
def nominator(db):
    return UserFactory(username="nominator")


@pytest.fixture
def draft(call, nominator, countries, theme):
    """A complete Swedish draft in the open call."""
    return NominationFactory(
        call=call, nominator=nominator, country=countries["SE"], themes=[theme]
    )
