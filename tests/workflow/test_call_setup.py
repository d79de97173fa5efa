"""Setting up a call from the guided page: who may, what it checks, what a copy carries,
the preview, and the changes refused because running nominations depend on them."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from nominations.models import Call, Nomination, SurveyQuestion
from nominations.services import nomination_create
from reviewers.models import CriterionScore, Review, RubricCriterion
from workflow.forms_calls import CallForm
from workflow.services import nomination_submit
from workflow.services.calls import (
    CallRefused,
    call_copy_draft,
    call_draft,
    call_save,
)

from ..factories import (
    CallFactory,
    CriterionFactory,
    NominationFactory,
    QuestionFactory,
    ReviewerFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
PAGES = ["call_new", "call_edit", "call_copy", "call_preview"]
#: Fields that belong to one round, never copied: the test's own list, not the service's.
ROUND_STATE = {"id", "selection_finalised_at", "selection_finalised_by"}
NEW_DATES = {"opens_at", "closes_at"}


def url(page, call):
    return (
        reverse(f"workflow:{page}")
        if page == "call_new"
        else reverse(f"workflow:{page}", kwargs={"call_pk": call.pk})
    )


# --- people ---------------------------------------------------------------------------


@pytest.fixture
def other_lead(db):
    """The lead of another call."""
    user = UserFactory(username="other-lead")
    CallFactory().leads.add(user)
    return user


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", is_staff=True)


@pytest.fixture
def people(nominator, coordinator, lead, other_lead, admin_user, countries):
    return {
        "anonymous": None,
        "nominator": nominator,
        "reviewer": ReviewerFactory(username="reviewer", reviewer_profile__country=countries["FR"]),
        "coordinator": coordinator,
        "lead": lead,
        "other_lead": other_lead,
        "admin": admin_user,
    }


#: The answer each person gets on each page of ``call`` (the call ``lead`` leads).
EXPECTED = {
    "anonymous": dict.fromkeys(PAGES, 302),
    # A page about one call is 404 to whoever may not lead it; the new call's page, 403.
    "nominator": {"call_new": 403, "call_edit": 404, "call_copy": 404, "call_preview": 404},
    "reviewer": {"call_new": 403, "call_edit": 404, "call_copy": 404, "call_preview": 404},
    "coordinator": {"call_new": 403, "call_edit": 404, "call_copy": 404, "call_preview": 404},
    "lead": dict.fromkeys(PAGES, 200),
    "other_lead": {"call_new": 200, "call_edit": 404, "call_copy": 404, "call_preview": 404},
    "admin": dict.fromkeys(PAGES, 200),
}


@pytest.mark.parametrize("role", EXPECTED)
def test_each_role_gets_exactly_the_setup_pages_it_may(client, people, call, role):
    if people[role] is not None:
        client.force_login(people[role])
    answers = {page: client.get(url(page, call)).status_code for page in PAGES}
    assert answers == EXPECTED[role]
    if role == "anonymous":
        response = client.get(url("call_edit", call))
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("role", ["nominator", "coordinator", "other_lead"])
def test_a_post_to_another_call_changes_nothing(client, people, call, role):
    client.force_login(people[role])
    response = client.post(url("call_edit", call), {"title_en": "Taken over"})
    assert response.status_code == 404
    call.refresh_from_db()
    assert call.title_en != "Taken over"


@pytest.mark.parametrize("role", ["nominator", "reviewer", "coordinator"])
def test_only_leads_and_admins_may_create_a_call_through_the_service(people, role):
    with pytest.raises(PermissionDenied):
        call_save(by=people[role], **_blank_values())
    assert Call.objects.filter(title_en="A new call").count() == 0


# --- the page as a form ---------------------------------------------------------------


def _blank_values(**fields):
    now = timezone.now()
    return {
        "fields": {
            "title_en": "A new call",
            "languages": ["en"],
            "opens_at": now - datetime.timedelta(days=1),
            "closes_at": now + datetime.timedelta(days=60),
            **fields,
        },
        "themes": [],
        "leads": [],
        "selection_escalation_people": [],
        "criteria": [{"id": None, "title_en": "Innovation", "weight": Decimal(1)}],
        "questions": [],
    }


def as_posted(setup):
    """The POST a browser sends for the setup page as it was rendered (nothing changed)."""
    data = {}

    def put(bound):
        value = bound.value()
        if value is None or value is False:
            return
        if value is True:
            value = "on"
        elif isinstance(value, datetime.datetime):
            value = value.strftime("%Y-%m-%dT%H:%M")
        elif isinstance(value, list | tuple):
            value = [str(item) for item in value]
        else:
            value = str(value)
        data[bound.html_name] = value

    for bound in setup.form:
        put(bound)
    for formset in (setup.criteria, setup.questions):
        for bound in formset.management_form:
            put(bound)
        for form in formset.forms:
            for bound in form:
                put(bound)
    return data


def test_a_lead_creates_a_call_and_a_nomination_is_submitted_to_it(
    client, lead, nominator, coordinator, countries, theme
):
    client.force_login(lead)
    data = as_posted(client.get(reverse("workflow:call_new")).context["setup"])
    now = timezone.localtime(timezone.now(), datetime.UTC)
    data.update(
        {
            "title_en": "Neighbourhoods 2027",
            "title_sv": "Grannskap 2027",
            "description_en": "Practices against segregation.",
            "languages": ["en", "sv"],
            "themes": [str(theme.pk)],
            "time_zone": "UTC",
            "opens_at": (now - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
            "criteria-0-title_en": "Innovation",
            "criteria-0-weight": "2",
            "questions-0-text_en": "Is it still running?",
            "questions-0-kind": "yes_no",
            "questions-0-required": "on",
            "save": "1",
        }
    )
    response = client.post(reverse("workflow:call_new"), data)
    assert response.status_code == 302, response.context["form"].errors
    call = Call.objects.get(title_en="Neighbourhoods 2027")
    assert response["Location"] == reverse("workflow:call_edit", kwargs={"call_pk": call.pk})
    assert list(call.leads.all()) == [lead]
    assert call.title_sv == "Grannskap 2027"
    assert call.time_zone == "UTC"
    assert [(c.title_en, c.weight, c.position) for c in call.criteria.all()] == [
        ("Innovation", Decimal(2), 0)
    ]
    question = call.questions.get()
    assert (question.text_en, question.kind, question.required) == (
        "Is it still running?",
        "yes_no",
        True,
    )
    # A nominator uses the new call through the existing services.
    nomination, _created = nomination_create(
        call=call,
        nominator=nominator,
        fields={
            name: getattr(NominationFactory.build(), name)
            for name in (
                "title",
                "kind",
                "organisation",
                "organisation_sector",
                "language",
                "summary",
                "problem",
                "target_group",
                "results",
                "year_started",
                "transferability",
                "contact_name",
                "contact_email",
            )
        }
        | {"country": countries["SE"], "consent_to_publish": True},
        themes=[theme],
        survey_answers={str(question.pk): True},
    )
    nomination_submit(nomination=nomination, by=nominator)
    nomination.refresh_from_db()
    assert nomination.stage == Nomination.Stage.SCREENING


def test_bad_input_is_explained_and_every_typed_row_kept(client, lead):
    client.force_login(lead)
    data = as_posted(client.get(reverse("workflow:call_new")).context["setup"])
    data.update(
        {
            "title_en": "Half-filled",
            "opens_at": "2031-05-01T09:00",
            "closes_at": "2031-04-01T09:00",
            "reminder_days": "3, 3",
            "criteria-0-title_en": "Impact",
            "criteria-0-weight": "0",
            "questions-0-text_en": "Which city?",
            "questions-0-kind": "single_choice",
            "questions-0-choices_en": "Riga",
            "save": "1",
        }
    )
    response = client.post(reverse("workflow:call_new"), data)
    assert response.status_code == 200
    setup = response.context["setup"]
    assert setup.form.errors["closes_at"] == ["The call must close after it opens."]
    assert setup.form.errors["reminder_days"] == ["Each reminder day may appear only once."]
    assert setup.criteria.forms[0].errors["weight"] == ["A weight must be more than 0."]
    assert setup.questions.forms[0].errors["choices_en"] == [
        "A choice question needs at least two choices."
    ]
    content = response.content.decode()
    for typed in ("Half-filled", "2031-05-01T09:00", "Impact", "Which city?", "Riga"):
        assert typed in content
    assert Call.objects.filter(title_en="Half-filled").count() == 0


def test_a_call_needs_a_criterion_and_distinct_positive_reminders(client, lead):
    client.force_login(lead)
    data = as_posted(client.get(reverse("workflow:call_new")).context["setup"])
    data.update({"title_en": "No rubric", "reminder_days": "0", "save": "1"})
    response = client.post(reverse("workflow:call_new"), data)
    setup = response.context["setup"]
    assert setup.criteria.non_form_errors() == ["A call needs at least one rubric criterion."]
    assert setup.form.errors["reminder_days"] == ["Reminder days must be 1 or more."]


def test_two_leads_rule_needs_a_second_lead_and_unknown_addresses_are_named(client, lead):
    client.force_login(lead)
    data = as_posted(client.get(reverse("workflow:call_new")).context["setup"])
    data.update(
        {
            "title_en": "Four eyes",
            "require_two_leads": "on",
            "escalation_emails": "nobody@example.org",
            "save": "1",
        }
    )
    response = client.post(reverse("workflow:call_new"), data)
    errors = response.context["form"].errors
    assert errors["require_two_leads"] == [
        "Two leads decide each selection: please name at least two leads."
    ]
    assert errors["escalation_emails"] == ["No account has the address nobody@example.org."]


def test_add_a_row_keeps_what_was_typed_and_shows_no_errors_yet(client, lead):
    client.force_login(lead)
    data = as_posted(client.get(reverse("workflow:call_new")).context["setup"])
    data.update({"title_en": "Growing", "criteria-0-title_en": "Reach", "more_criteria": "1"})
    response = client.post(reverse("workflow:call_new"), data)
    setup = response.context["setup"]
    assert [form["title_en"].value() for form in setup.criteria.forms] == ["Reach", None]
    assert setup.form["title_en"].value() == "Growing"
    assert not setup.form.is_bound
    assert Call.objects.filter(title_en="Growing").count() == 0


def test_rows_are_reordered_and_removed_by_their_order_and_remove_fields(client, lead, call):
    client.force_login(lead)
    data = as_posted(client.get(url("call_edit", call)).context["setup"])
    # Innovation, Impact and evidence, Transferability: the last one first, the first removed.
    data["criteria-2-position"] = "0"
    data["criteria-0-DELETE"] = "on"
    data["save"] = "1"
    response = client.post(url("call_edit", call), data)
    assert response.status_code == 302
    assert [c.title_en for c in call.criteria.order_by("position")] == [
        "Transferability",
        "Impact and evidence",
    ]


def test_every_field_of_the_call_is_on_the_page():
    """A setting added to Call later shows on the page (under "Other settings" at least)."""
    form = CallForm()
    on_page = set(form.fields) - {"lead_emails", "escalation_emails"}
    on_page |= {"leads", "selection_escalation_people"}
    originals = {"title", "description"}
    settings_of_call = {
        f.name
        for f in Call._meta.get_fields()
        if not (f.auto_created and not f.concrete) and f.name not in ROUND_STATE | originals
    }
    assert on_page == settings_of_call
    shown = {
        bound.name
        for _id, _title, fields in (*form.sections_before(), *form.sections_after())
        for bound in fields
    } | {bound.name for _code, _name, fields in form.text_groups() for bound in fields}
    assert shown == set(form.fields)


# --- copying an earlier call -----------------------------------------------------------


@pytest.fixture
def earlier_call(db, countries):
    """A call of 2025 with every setting away from its default."""
    people = [UserFactory(username=f"person-{n}") for n in range(3)]
    call = CallFactory(
        title_en="Social innovation 2025",
        title_sv="Social innovation 2025",
        title_fr="Innovation sociale 2025",
        title_es="Innovación social 2025",
        title_lv="Sociālā inovācija 2025",
        description_en="About segregation.",
        description_sv="Om segregation.",
        description_fr="Sur la ségrégation.",
        description_es="Sobre la segregación.",
        description_lv="Par segregāciju.",
        languages=["en", "sv", "lv"],
        opens_at=datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC),
        closes_at=datetime.datetime(2025, 5, 31, 17, 0, tzinfo=datetime.UTC),
        time_zone="Europe/Riga",
        screening_days=10,
        revision_days=11,
        review_days=12,
        selection_days=13,
        reviewers_per_nomination=3,
        reminder_days=[9, 4, 2],
        min_selected_per_country=2,
        min_selected_per_theme=1,
        require_two_leads=True,
        assign_in_bulk=True,
        bidding_enabled=True,
        escalation_grace_days=5,
        retention_days=400,
    )
    call.themes.set([ThemeFactory(name="Segregation"), ThemeFactory(name="Housing")])
    call.leads.set(people[:2])
    call.selection_escalation_people.set(people[2:])
    for n, weight in enumerate(["1.50", "2.00", "0.75"]):
        CriterionFactory(
            call=call,
            position=n,
            weight=Decimal(weight),
            **{f"title_{code}": f"Criterion {n} {code}" for code in LANGUAGE_CODES},
            **{f"description_{code}": f"Look for {n} {code}" for code in LANGUAGE_CODES},
        )
    QuestionFactory(
        call=call,
        position=0,
        kind="single_choice",
        required=True,
        **{f"text_{code}": f"Which? {code}" for code in LANGUAGE_CODES},
        **{f"help_text_{code}": f"Pick one {code}" for code in LANGUAGE_CODES},
        **{f"choices_{code}": f"A {code}\nB {code}" for code in LANGUAGE_CODES},
    )
    QuestionFactory(call=call, position=1, kind="number", text_en="How many?")
    return call


def _rows(queryset):
    """Each row's own values, without its id, call and position (the order says that)."""
    leave_out = {"id", "call", "position"}
    names = [f.attname for f in queryset.model._meta.concrete_fields if f.name not in leave_out]
    return [
        {name: getattr(row, name) for name in names} for row in queryset.order_by("position", "pk")
    ]


def test_a_copy_carries_every_field_of_the_call_computed_from_its_model(earlier_call):
    now = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)
    draft = call_copy_draft(call=earlier_call, now=now)
    copied = {**draft.fields}
    many = {f.name for f in Call._meta.many_to_many}
    for field in Call._meta.get_fields():
        if field.auto_created and not field.concrete:
            continue  # reverse relations: below
        if field.name in ROUND_STATE or field.name in {"title", "description"}:
            continue
        if field.name in many:
            assert set(getattr(draft, field.name)) == set(
                getattr(earlier_call, field.name).values_list("pk", flat=True)
            ), field.name
            assert getattr(draft, field.name), f"{field.name} is empty in the earlier call"
        elif field.name in NEW_DATES:
            assert copied[field.name] > now
        elif field.name.startswith("title_"):
            assert copied[field.name] == getattr(earlier_call, field.name).replace("2025", "2027")
        else:
            assert copied[field.name] == getattr(earlier_call, field.name), field.name
    reverse_relations = {
        f.name for f in Call._meta.get_fields() if f.auto_created and not f.concrete
    }
    # Every table pointing at calls is either copied or belongs to one round: a new one
    # makes this test fail until someone decides which.
    assert reverse_relations <= {
        "criteria",
        "questions",
        "nominations",
        "invitations",
        "invitationimportrow",
    }
    assert [{k: v for k, v in row.items() if k != "id"} for row in draft.criteria] == [
        {k: v for k, v in row.items() if k not in {"title", "description"}}
        for row in _rows(earlier_call.criteria.all())
    ]
    assert all(row["id"] is None for row in (*draft.criteria, *draft.questions))


def test_a_copy_moves_the_dates_on_by_whole_years_into_the_future(earlier_call):
    now = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)
    draft = call_copy_draft(call=earlier_call, now=now)
    # 1 March 2025 11:00 in Riga is in the past a year on, so two years on.
    assert draft.fields["opens_at"] == datetime.datetime(2027, 3, 1, 9, 0, tzinfo=datetime.UTC)
    assert draft.fields["closes_at"] == datetime.datetime(2027, 5, 31, 17, 0, tzinfo=datetime.UTC)
    assert draft.fields["title_en"] == "Social innovation 2027"
    earlier_call.title_en = "Social innovation"
    assert call_copy_draft(call=earlier_call, now=now).fields["title_en"] == (
        "Social innovation 2027"
    )


def test_copying_through_the_page_saves_nothing_until_the_lead_creates_the_call(
    client, earlier_call
):
    lead = earlier_call.leads.first()
    client.force_login(lead)
    before = Call.objects.count()
    response = client.get(url("call_copy", earlier_call))
    assert response.status_code == 200
    assert Call.objects.count() == before
    assert response.context["action"] == reverse("workflow:call_new")
    data = as_posted(response.context["setup"])
    data["save"] = "1"
    response = client.post(reverse("workflow:call_new"), data)
    assert response.status_code == 302, response.context["form"].errors
    new = Call.objects.exclude(pk=earlier_call.pk).latest("pk")
    for field in Call._meta.concrete_fields:
        if field.name in ROUND_STATE | NEW_DATES or field.name.startswith("title"):
            continue
        assert getattr(new, field.attname) == getattr(earlier_call, field.attname), field.name
    assert new.title_lv == "Sociālā inovācija 2027"
    assert new.opens_at > timezone.now()
    assert new.closes_at - new.opens_at == earlier_call.closes_at - earlier_call.opens_at
    for name in ("themes", "selection_escalation_people"):
        assert set(getattr(new, name).all()) == set(getattr(earlier_call, name).all())
    assert set(new.leads.all()) == set(earlier_call.leads.all())
    assert _rows(new.criteria.all()) == _rows(earlier_call.criteria.all())
    assert _rows(new.questions.all()) == _rows(earlier_call.questions.all())


# --- preview --------------------------------------------------------------------------


@pytest.fixture
def future_call(db, lead, theme):
    call = CallFactory(
        title_en="The call of next year",
        title_sv="Nästa års utlysning",
        opens_at=timezone.now() + datetime.timedelta(days=40),
        closes_at=timezone.now() + datetime.timedelta(days=100),
    )
    call.themes.add(theme)
    call.leads.add(lead)
    CriterionFactory(call=call, title_en="Innovation")
    QuestionFactory(call=call, text_en="Is it still running?", text_sv="Pågår den fortfarande?")
    return call


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_the_preview_shows_the_call_and_its_form_read_only_in_each_language(
    client, lead, future_call, language
):
    client.force_login(lead)
    response = client.get(url("call_preview", future_call), {"lang": language})
    assert response.status_code == 200
    content = response.content.decode()
    swedish = language == "sv"
    assert ("Nästa års utlysning" in content) is swedish
    assert ("The call of next year" in content) is not swedish
    assert ("Pågår den fortfarande?" in content) is swedish
    assert f'lang="{language}"' in content
    assert 'class="notice preview-banner"' in content
    assert '<fieldset class="group" id="section-survey" disabled>' in content


def test_a_call_that_has_not_opened_is_neither_listed_nor_open_to_nominations(
    client, nominator, future_call
):
    client.force_login(nominator)
    listed = client.get(reverse("nominations:calls")).context["calls"]
    assert future_call not in list(listed)
    response = client.get(reverse("nominations:create", kwargs={"call_pk": future_call.pk}))
    assert response.status_code == 302
    assert client.get(url("call_preview", future_call)).status_code == 404


# --- changes running nominations depend on --------------------------------------------


@pytest.fixture
def running(call, draft, reviewers):
    """``call`` with a nomination that has a review scored on every criterion, an answer
    to its question, and ``draft``'s theme."""
    question = QuestionFactory(call=call, text_en="Which city?")
    draft.survey_answers = {str(question.pk): "Malmö"}
    draft.save(update_fields=["survey_answers"])
    review = Review.objects.create(
        nomination=draft, reviewer=reviewers[0], status=Review.Status.SUBMITTED
    )
    for criterion in call.criteria.all():
        CriterionScore.objects.create(review=review, criterion=criterion, score=4)
    Review.objects.create(nomination=draft, reviewer=reviewers[1])
    return question


def _values(call):
    draft = call_draft(call=call)
    return {
        "fields": draft.fields,
        "themes": draft.themes,
        "leads": draft.leads,
        "selection_escalation_people": draft.selection_escalation_people,
        "criteria": draft.criteria,
        "questions": draft.questions,
    }


def _refusal(call, lead, **changes):
    values = _values(call)
    values.update(changes)
    with pytest.raises(CallRefused) as refused:
        call_save(call=call, by=lead, **values)
    return refused.value.reasons


def test_a_scored_criterion_cannot_be_removed_but_can_be_renamed(call, lead, running):
    values = _values(call)
    impact = RubricCriterion.objects.get(call=call, title_en="Impact and evidence")
    kept = [row for row in values["criteria"] if row["id"] != impact.pk]
    assert _refusal(call, lead, criteria=kept) == [
        "Criterion “Impact and evidence” has 1 score and cannot be removed; rename it "
        "instead or add a new one."
    ]
    assert RubricCriterion.objects.filter(pk=impact.pk).exists()
    for row in values["criteria"]:
        if row["id"] == impact.pk:
            row["title_en"] = "Impact"
    call_save(call=call, by=lead, **values)
    impact.refresh_from_db()
    assert impact.title_en == "Impact"


def test_an_answered_question_cannot_be_removed_nor_change_its_kind(call, lead, running):
    assert _refusal(call, lead, questions=[]) == [
        "Question “Which city?” has 1 answer and cannot be removed; reword it instead or "
        "add a new one."
    ]
    changed = [{**row, "kind": SurveyQuestion.Kind.NUMBER} for row in _values(call)["questions"]]
    assert _refusal(call, lead, questions=changed) == [
        "Question “Which city?” has 1 answer, so its kind cannot change; add a new question "
        "instead."
    ]


def test_a_theme_nominations_chose_stays(call, lead, running, theme):
    other = ThemeFactory(name="Housing")
    assert _refusal(call, lead, themes=[other.pk]) == [
        "Theme “Spatial segregation” is chosen by 1 nomination and cannot be removed from the call."
    ]
    call_save(call=call, by=lead, **{**_values(call), "themes": [theme.pk, other.pk]})
    assert set(call.themes.all()) == {theme, other}


def test_reviewers_per_nomination_cannot_go_below_the_reviewers_already_held(call, lead, running):
    values = _values(call)
    fields = {**values["fields"], "reviewers_per_nomination": 1}
    assert _refusal(call, lead, fields=fields) == [
        "Reviewers per nomination cannot go below 2: 1 nomination already has that many reviewers."
    ]
    call_save(call=call, by=lead, **{**values, "fields": {**fields, "reviewers_per_nomination": 3}})
    call.refresh_from_db()
    assert call.reviewers_per_nomination == 3


def test_the_opening_cannot_move_into_the_future_once_there_are_nominations(call, lead, running):
    values = _values(call)
    later = timezone.now() + datetime.timedelta(days=1)
    fields = {**values["fields"], "opens_at": later}
    assert _refusal(call, lead, fields=fields) == [
        "The call already has 1 nomination, so its opening cannot move into the future."
    ]
    earlier = call.opens_at - datetime.timedelta(days=1)
    call_save(call=call, by=lead, **{**values, "fields": {**values["fields"], "opens_at": earlier}})
    call.refresh_from_db()
    assert call.opens_at == earlier


def test_a_refused_change_on_the_page_names_its_reason_and_keeps_the_form(
    client, call, lead, running
):
    client.force_login(lead)
    data = as_posted(client.get(url("call_edit", call)).context["setup"])
    data.update({"criteria-0-DELETE": "on", "title_en": "Renamed too", "save": "1"})
    response = client.post(url("call_edit", call), data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Criterion “Innovation” has 1 score and cannot be removed; rename it instead or "
        "add a new one."
    ]
    assert response.context["form"]["title_en"].value() == "Renamed too"
    call.refresh_from_db()
    assert call.title_en != "Renamed too"


def test_a_row_of_another_call_is_refused(call, lead, other_lead):
    foreign = CriterionFactory(call=CallFactory())
    values = _values(call)
    values["criteria"].append({**values["criteria"][0], "id": foreign.pk})
    with pytest.raises(CallRefused):
        call_save(call=call, by=lead, **values)
    assert foreign.call_id != call.pk


# --- bounded reads --------------------------------------------------------------------


def _call_with_rows(lead, count):
    call = CallFactory()
    call.leads.add(lead)
    call.themes.add(ThemeFactory(name="Housing"))
    for n in range(count):
        CriterionFactory(call=call, title_en=f"Criterion {n}")
        QuestionFactory(call=call, text_en=f"Question {n}?")
    return call


def test_the_edit_page_reads_as_much_for_ten_rows_as_for_five(
    client, lead, django_assert_max_num_queries
):
    client.force_login(lead)
    five, ten = _call_with_rows(lead, 5), _call_with_rows(lead, 10)
    client.get(url("call_edit", five))  # the session and the menu's first reads settle

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as with_five:
        assert client.get(url("call_edit", five)).status_code == 200
    with CaptureQueriesContext(connection) as with_ten:
        assert client.get(url("call_edit", ten)).status_code == 200
    assert len(with_ten) == len(with_five)
    with django_assert_max_num_queries(20):
        client.get(url("call_edit", ten))


def test_the_new_call_page_offers_the_leads_own_calls_to_start_from(client, call, lead, other_lead):
    client.force_login(lead)
    offered = list(client.get(reverse("workflow:call_new")).context["earlier_calls"])
    assert offered == [call]
    client.force_login(other_lead)
    offered = list(client.get(reverse("workflow:call_new")).context["earlier_calls"])
    assert offered == list(other_lead.led_calls.all())


@pytest.mark.parametrize(
    ("role", "sees_link"),
    [("nominator", False), ("coordinator", False), ("lead", True), ("admin", True)],
)
def test_the_menu_links_to_a_new_call_for_leads_and_admins_only(client, people, role, sees_link):
    client.force_login(people[role])
    page = client.get(reverse("workflow:home")).content.decode()
    assert (f'href="{reverse("workflow:call_new")}"' in page) is sees_link


# --- at least one lead ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["lead", "admin_user"])
def test_removing_every_lead_is_refused_with_a_reason_and_keeps_what_was_typed(
    client, request, call, lead, who
):
    client.force_login(request.getfixturevalue(who))
    data = as_posted(client.get(url("call_edit", call)).context["setup"])
    data["lead_emails"] = ""
    data["title_en"] = "Renamed while removing the leads"
    data["save"] = "1"

    response = client.post(url("call_edit", call), data)

    assert response.status_code == 200
    content = response.content.decode()
    assert "A call always keeps at least one lead: please name one." in content
    assert 'value="Renamed while removing the leads"' in content
    call.refresh_from_db()
    assert list(call.leads.all()) == [lead]
    assert call.title_en != "Renamed while removing the leads"


def test_the_service_refuses_a_call_without_leads_for_admins_too(call, lead, admin_user):
    values = {**call_draft(call=call).__dict__, "leads": []}

    with pytest.raises(CallRefused) as refused:
        call_save(call=call, by=admin_user, **values)

    assert refused.value.reasons == ["A call always keeps at least one lead: please name one."]
    assert list(call.leads.all()) == [lead]


def test_another_lead_may_take_the_place_of_the_last_one(client, call, lead):
    successor = UserFactory(username="successor", email="successor@example.org")
    client.force_login(lead)
    data = as_posted(client.get(url("call_edit", call)).context["setup"])
    data["lead_emails"] = successor.email
    data["save"] = "1"

    response = client.post(url("call_edit", call), data)

    assert response.status_code == 302
    assert list(call.leads.all()) == [successor]
