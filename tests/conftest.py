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
