"""Factories for the domain; each builds a valid object with the fewest arguments."""

import time
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth import get_user_model
from django.utils import timezone

from nominations.models import Call, Country, Nomination, SurveyQuestion, Theme
from reviewers.models import ReviewerProfile, RubricCriterion

#: Every factory user's authenticator app secret (base32).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret=TOTP_SECRET, *, periods_ahead=0):
    """The code an authenticator app with ``secret`` shows now (or that many periods on)."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + periods_ahead
    return format_hotp_value(hotp_value(secret, counter))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("secret-password-1")

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )

    @factory.post_generation
    def mfa(self, create, extracted, **kwargs):
        """An authenticator app with ``TOTP_SECRET`` (``mfa=False``: none).

        Coordinators, leads and admins must have one to act (config.signin), and roles are
        often given after the user is made, so every user has one unless a test says not;
        ``totp_code()`` is the code the app would show.
        """
        if create and extracted is not False and not self.authenticator_set.exists():
            TOTP.activate(self, TOTP_SECRET)


class CountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Country
        django_get_or_create = ("code",)

    code = factory.Iterator(["ES", "FR", "LV", "SE"])
    name = factory.LazyAttribute(
        lambda c: {"ES": "Spain", "FR": "France", "LV": "Latvia", "SE": "Sweden"}.get(
            c.code, c.code
        )
    )


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme

    name = factory.Sequence(lambda n: f"Theme {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Found by its English name whatever language a page left active: a lookup by
        # ``name`` means the active language's column (modeltranslation).
        theme, _ = cls._get_manager(model_class).get_or_create(
            name_en=kwargs["name"], defaults=kwargs
        )
        return theme


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    title = factory.Sequence(lambda n: f"Call {n}")
    languages = factory.LazyFunction(lambda: ["en", "es", "fr", "lv", "sv"])
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=60))
    reviewers_per_nomination = 2


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RubricCriterion

    call = factory.SubFactory(CallFactory)
    title = factory.Sequence(lambda n: f"Criterion {n}")
    position = factory.Sequence(int)


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyQuestion

    call = factory.SubFactory(CallFactory)
    text = factory.Sequence(lambda n: f"Question {n}?")
    kind = SurveyQuestion.Kind.SHORT_TEXT


class NominationFactory(factory.django.DjangoModelFactory):
    """A complete draft, ready to be submitted."""

    class Meta:
        model = Nomination
        skip_postgeneration_save = True

    call = factory.SubFactory(CallFactory)
    nominator = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Practice {n}")
    kind = Nomination.Kind.PROGRAMME
    country = factory.SubFactory(CountryFactory, code="SE")
    organisation = "Malmö Neighbourhood Trust"
    organisation_sector = Nomination.Sector.CIVIL_SOCIETY
    language = "en"
    summary = "Mentors from the neighbourhood help young people into work."
    problem = "Spatial segregation keeps young people out of the labour market."
    target_group = "Young people aged 16 to 25"
    results = "300 mentees, 60 % in work or study after a year."
    year_started = 2012
    transferability = "Runs in three cities already."
    contact_name = "Anna Svensson"
    contact_email = "anna@example.org"
    consent_to_publish = True

    @factory.post_generation
    def themes(self, create, extracted, **kwargs):
        if create:
            self.themes.set(
                extracted if extracted is not None else [ThemeFactory(name="Spatial segregation")]
            )


class ReviewerFactory(UserFactory):
    """A user with a reviewer profile; pass ``reviewer_profile__country__code``."""

    @factory.post_generation
    def reviewer_profile(self, create, extracted, **kwargs):
        if not create:
            return
        country = kwargs.pop("country", None) or CountryFactory(
            code=kwargs.pop("country_code", "FR")
        )
        expertise = kwargs.pop("expertise", [])
        profile = ReviewerProfile.objects.create(
            user=self,
            country=country,
            organisation=kwargs.pop("organisation", f"Organisation of {self.username}"),
            languages=kwargs.pop("languages", ["en"]),
            capacity=kwargs.pop("capacity", 4),
        )
        profile.expertise.set(expertise)
