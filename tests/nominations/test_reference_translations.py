"""Countries, themes, calls, rubrics and surveys read in the reader's language, English where
a translation is missing; outcomes in the history are worded when read, not when written."""

import importlib
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from nominations.forms import NominationForm
from nominations.models import Country, Nomination, NominationEvent, SelectionDecision
from notifications.models import Preference
from reviewers.models import RubricCriterion
from workflow.exports import export_build, export_request
from workflow.flows import NominationFlow
from workflow.services import reviewers_go_on, selection_decide, selection_finalise

from ..factories import NominationFactory, QuestionFactory, UserFactory
from ..workflow.helpers import open_task
from ..workflow.test_reviewer_pages import accepted

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

SWEDISH_CATALOGUE = settings.BASE_DIR / "locale" / "sv" / "LC_MESSAGES" / "django.mo"


def swedish(msgid):
    """The catalogue's Swedish for ``msgid``, which must be translated."""
    if not SWEDISH_CATALOGUE.exists():
        pytest.skip("locale/sv/LC_MESSAGES/django.mo is not compiled yet")
    with translation.override("sv"):
        text = gettext(msgid)
    assert text != msgid, f"not translated to Swedish: {msgid!r}"
    return text


@pytest.fixture
def translated(call, countries, theme):
    """Sweden, the theme, a criterion and a choice question translated; France not."""
    sweden = countries["SE"]
    sweden.name_sv, sweden.name_fr, sweden.name_lv = "Sverige", "Suède", "Zviedrija"
    sweden.save()
    theme.name_sv, theme.name_fr, theme.name_lv = (
        "Rumslig segregation",
        "Ségrégation spatiale",
        "Telpiskā segregācija",
    )
    theme.save()
    criterion = call.criteria.get(title_en="Innovation")
    criterion.title_sv, criterion.title_lv = "Nyskapande", "Inovācija"
    criterion.save()
    question = QuestionFactory(
        call=call,
        kind="single_choice",
        text_en="At what scale does the practice run today?",
        text_sv="I vilken skala bedrivs praktiken i dag?",
        text_lv="Kādā mērogā prakse darbojas šobrīd?",
        choices_en="Neighbourhood\nMunicipality",
        choices_sv="Bostadsområde\nKommun",
        choices_lv="Apkaime\nPašvaldība",
    )
    return question


def page(client, user, url, language):
    client.force_login(user)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


# --- pages ------------------------------------------------------------------------------


SWEDISH = ("sv", "Sverige", "Rumslig segregation", "I vilken skala bedrivs praktiken i dag?")
LATVIAN = ("lv", "Zviedrija", "Telpiskā segregācija", "Kādā mērogā prakse darbojas šobrīd?")
ENGLISH = ("en", "Sweden", "Spatial segregation", "At what scale does the practice run today?")


@pytest.mark.parametrize(
    ("language", "country", "theme_name", "question", "choice"),
    [(*SWEDISH, "Kommun"), (*LATVIAN, "Pašvaldība"), (*ENGLISH, "Municipality")],
)
def test_the_nomination_form_names_countries_themes_and_questions_in_the_readers_language(
    client, call, nominator, translated, language, country, theme_name, question, choice
):
    html = page(client, nominator, reverse("nominations:create", args=[call.pk]), language)

    assert f">{country}</option>" in html
    assert theme_name in html
    assert question in html
    # The choice is labelled in the reader's language and submitted as the English line.
    assert 'value="Municipality"' in html
    assert choice in html


def test_a_missing_translation_shows_the_english_text(client, call, nominator, translated):
    html = page(client, nominator, reverse("nominations:create", args=[call.pk]), "fr")

    assert ">Suède</option>" in html  # translated into French
    assert ">France</option>" in html  # France has no French name: the English one shows
    assert "At what scale does the practice run today?" in html  # the question has none either
    assert "Municipality" in html


def test_a_nomination_reads_its_country_themes_and_answers_in_the_readers_language(
    client, call, nominator, countries, theme, translated
):
    nomination = NominationFactory(
        call=call,
        nominator=nominator,
        country=countries["SE"],
        themes=[theme],
        survey_answers={str(translated.pk): "Municipality"},
    )

    html = page(client, nominator, reverse("nominations:detail", args=[nomination.pk]), "sv")

    assert "<dd>Sverige</dd>" in html
    assert "<dd>Rumslig segregation</dd>" in html
    assert "<dt>I vilken skala bedrivs praktiken i dag?</dt><dd>Kommun</dd>" in html


def test_the_export_is_in_the_exporters_language(client, call, countries, coordinator, translated):
    NominationFactory(
        call=call,
        country=countries["SE"],
        stage=Nomination.Stage.SCREENING,
        survey_answers={str(translated.pk): "Neighbourhood"},
    )
    client.force_login(coordinator)

    with translation.override("lv"):  # the language of the request, which the task keeps
        export, _created = export_request(call=call, user=coordinator)
    export_build(export_id=export.pk)
    response = client.get(reverse("nominations:export_download", args=[export.pk]))

    content = b"".join(response.streaming_content)
    headers, row = load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)
    cells = dict(zip(headers, row, strict=True))
    assert "Zviedrija" in row
    assert cells["Kādā mērogā prakse darbojas šobrīd?"] == "Apkaime"
    assert any("Inovācija" in header for header in headers)


def test_the_upload_help_follows_the_readers_language(call):
    expected = swedish("PDF, image or document, up to %(size)s.")
    with translation.override("sv"):
        expected %= {"size": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}
        swedish_help = str(NominationForm(call=call).fields["attachment"].help_text)
    with translation.override("en"):
        english_help = str(NominationForm(call=call).fields["attachment"].help_text)

    assert swedish_help == expected
    assert english_help == "PDF, image or document, up to 10.0\xa0MB."


# --- the admin --------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="site-admin", is_staff=True, is_superuser=True))
    return client


def test_the_admin_edits_every_language_side_by_side_and_lists_the_missing_ones(
    admin_client, countries
):
    sweden = countries["SE"]
    sweden.name_sv = "Sverige"
    sweden.save()

    html = admin_client.get(reverse("admin:nominations_country_change", args=[sweden.pk])).content
    html = html.decode()

    for code in ["en", "sv", "fr", "es", "lv"]:
        assert f'name="name_{code}"' in html
    assert 'value="Sverige"' in html
    assert "Missing translations" in html
    assert "fr, es, lv" in html

    listing = admin_client.get(reverse("admin:nominations_country_changelist")).content.decode()
    assert "fr, es, lv" in listing


def test_a_translation_saved_in_the_admin_is_read_in_that_language(admin_client, countries):
    france = countries["FR"]
    url = reverse("admin:nominations_country_change", args=[france.pk])

    response = admin_client.post(
        url,
        {
            "name_en": "France",
            "name_sv": "Frankrike",
            "name_fr": "France",
            "name_es": "Francia",
            "name_lv": "Francija",
            "code": "FR",
            "is_partner": "on",
        },
    )

    assert response.status_code == 302
    france = Country.objects.get(pk=france.pk)
    with translation.override("es"):
        assert france.name == "Francia"
    html = admin_client.get(url).content.decode()
    assert 'class="readonly">none</div>' in html


def test_the_calls_note_covers_its_rubric_and_survey(admin_client, call):
    for language in ["sv", "fr", "es", "lv"]:
        setattr(call, f"title_{language}", f"Call ({language})")
    call.save()
    RubricCriterion.objects.filter(call=call).update(
        title_sv="x", title_fr="x", title_es="x", title_lv="x"
    )
    criterion = call.criteria.first()
    criterion.title_lv = None
    criterion.save()

    html = admin_client.get(reverse("admin:nominations_call_change", args=[call.pk])).content
    html = html.decode()

    assert 'name="title_lv"' in html and 'name="criteria-0-title_lv"' in html
    assert 'class="readonly">lv</div>' in html


# --- emails -----------------------------------------------------------------------------


def test_an_email_names_the_call_as_translated_in_the_admin_in_the_recipients_language(
    call, countries, lead, nominator, django_capture_on_commit_callbacks
):
    call.title_fr = "Bonnes pratiques 2027"
    call.closes_at = timezone.now() - timedelta(days=1)  # a selection is final once closed
    call.save()
    Preference.objects.update_or_create(user=nominator, defaults={"language": "fr"})
    decided = NominationFactory(
        call=call, nominator=nominator, country=countries["SE"], stage=Nomination.Stage.DECIDED
    )
    SelectionDecision.objects.create(
        nomination=decided, outcome="national", rationale="Yes", decided_by=lead
    )

    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        selection_finalise(call=call, by=lead)

    (email,) = mail.outbox
    assert "Bonnes pratiques 2027" in email.body
    assert call.title_en not in email.body


# --- the history ------------------------------------------------------------------------


def test_a_decision_recorded_in_english_reads_in_swedish_in_the_history(
    client, call, draft, nominator, coordinator, lead
):
    accepted(draft, coordinator)
    reviewers_go_on(
        task_id=open_task(draft, NominationFlow.find_reviewers).pk, by=coordinator, note="None."
    )
    with translation.override("en"):
        selection_decide(
            task_id=open_task(draft, NominationFlow.select).pk,
            by=lead,
            outcome=SelectionDecision.Outcome.TRANSNATIONAL,
            rationale="Inspiring.",
        )

    event = draft.events.get(action=NominationEvent.Action.DECIDED)
    assert event.outcome == "transnational"
    html = page(client, nominator, reverse("nominations:detail", args=[draft.pk]), "sv")
    row = html[html.index('class="event-decided"') :]
    row = row[: row.index("</tr>")]
    assert swedish("Selected for the transnational showcase") in row
    assert "Selected for the transnational showcase" not in row


# --- the data migrations ----------------------------------------------------------------


def state_apps(app_label, migration_name):
    """The models as they were at ``migration_name`` (the tables as they are now)."""
    loader = MigrationLoader(connection)
    return loader.project_state((app_label, migration_name)).apps


def test_the_migration_makes_existing_text_the_english_text():
    module = importlib.import_module("nominations.migrations.0011_reference_data_into_english")
    apps = state_apps("nominations", "0010_reference_data_translations")
    old_country = apps.get_model("nominations", "Country")
    old_theme = apps.get_model("nominations", "Theme")
    spain = old_country.objects.create(code="ES", name="Spain")
    housing = old_theme.objects.create(
        name="Affordable housing", description="Homes people can keep.", name_sv="Bostäder"
    )
    already = old_country.objects.create(code="FR", name="France", name_en="France (edited)")

    module.copy_into_english(apps, None)

    spain.refresh_from_db()
    housing.refresh_from_db()
    already.refresh_from_db()
    assert (spain.name_en, spain.name_sv) == ("Spain", None)
    assert (housing.name_en, housing.description_en, housing.name_sv) == (
        "Affordable housing",
        "Homes people can keep.",
        "Bostäder",
    )
    assert already.name_en == "France (edited)"  # translated already: left alone


def test_the_rubric_migration_makes_existing_criteria_english(call):
    module = importlib.import_module("reviewers.migrations.0004_rubric_into_english")
    apps = state_apps("reviewers", "0003_rubric_translations")
    old_criterion = apps.get_model("reviewers", "RubricCriterion")
    criterion = old_criterion.objects.create(
        call_id=call.pk, title="Longevity", description="Has it lasted?"
    )

    module.copy_into_english(apps, None)

    criterion.refresh_from_db()
    assert (criterion.title_en, criterion.description_en) == ("Longevity", "Has it lasted?")


def test_the_migration_turns_recorded_outcome_labels_back_into_codes(draft):
    module = importlib.import_module("nominations.migrations.0012_history_outcome_codes")
    apps = state_apps("nominations", "0011_reference_data_into_english")
    old_event = apps.get_model("nominations", "NominationEvent")

    def recorded(action, outcome):
        return old_event.objects.create(
            nomination_id=draft.pk, action=action, actor_role="lead", outcome=outcome
        )

    english = recorded("decided", "Selected for the transnational showcase")
    in_swedish = recorded("decision_proposed", swedish("Selected for the national showcase"))
    returned = recorded("decision_returned", "Not selected")
    reviewers = recorded("reviewers_assigned", "Not selected")  # not a selection step
    unknown = recorded("decided", "Something else")

    module.outcome_labels_to_codes(apps, None)

    outcomes = [
        old_event.objects.get(pk=event.pk).outcome
        for event in (english, in_swedish, returned, reviewers, unknown)
    ]
    assert outcomes == [
        "transnational",
        "national",
        "not_selected",
        "Not selected",
        "Something else",
    ]
