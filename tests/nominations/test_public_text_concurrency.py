"""Two coordinators writing one practice's public text at the same moment.

Every write to the public text (create, save, publish, unpublish, translate) takes
the nomination's row lock first and then checks the version the coordinator's page
was drawn from: of two writes from the same page exactly one goes ahead, the other
is told that the text changed, and the history's "published" and "unpublished" always
match the practice's state. Real threads with their own connections on PostgreSQL,
released by a barrier, over many rounds; the pages themselves are tested at the end.
"""

from itertools import pairwise

import pytest
from django.urls import reverse

from nominations.models import (
    Nomination,
    NominationEvent,
    PublishedPractice,
    PublishedPracticeTranslation,
    SelectionDecision,
)
from nominations.services import (
    PUBLIC_FIELDS,
    PublicTextChanged,
    practice_draft,
    practice_save,
    practice_translation_save,
    practice_version,
)
from workflow.services import practice_public_save

from ..factories import NominationFactory, UserFactory
from ..workflow.test_concurrency import needs_postgres, run_together

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROUNDS = 30
CHANGED = (
    "Another coordinator changed this practice a moment ago; here is the text as it stands now."
)
PUBLICATION_EVENTS = [NominationEvent.Action.PUBLISHED, NominationEvent.Action.UNPUBLISHED]


@pytest.fixture
def second_coordinator(countries):
    person = UserFactory(username="coordinator-se-2")
    countries["SE"].coordinators.add(person)
    return person


def selected_practice(call, countries, theme, lead, n):
    nomination = NominationFactory(
        call=call, country=countries["SE"], themes=[theme], title=f"Practice {n}"
    )
    nomination.stage = Nomination.Stage.DECIDED
    nomination.save(update_fields=["stage"])
    SelectionDecision.objects.create(
        nomination=nomination,
        outcome=SelectionDecision.Outcome.TRANSNATIONAL,
        rationale="Inspiring.",
        decided_by=lead,
    )
    return nomination


def text_of(nomination, **changes):
    practice = practice_draft(nomination)
    return {**{name: getattr(practice, name) for name in PUBLIC_FIELDS}, **changes}


def page_version(nomination):
    return practice_version(PublishedPractice.objects.filter(nomination=nomination).first())


def publication_history(nomination):
    return list(
        nomination.events.filter(action__in=PUBLICATION_EVENTS)
        .order_by("pk")
        .values_list("action", flat=True)
    )


def history_disagrees(nomination):
    """What is wrong between the practice's state and its history, or ""."""
    practice = PublishedPractice.objects.filter(nomination=nomination).first()
    history = publication_history(nomination)
    published_by_history = bool(history) and history[-1] == NominationEvent.Action.PUBLISHED
    if practice is None:
        return "no practice" if history else ""
    if practice.is_published != published_by_history:
        return f"published={practice.is_published}, history says {history}"
    if any(a == b for a, b in pairwise(history)):
        return f"the same event twice in a row: {history}"
    return ""


def told_and_won(outcomes):
    """(how many went ahead, what the others were told), or a problem with an error."""
    errors = [o.error for o in outcomes if o.error is not None]
    unexpected = [e for e in errors if not isinstance(e, PublicTextChanged)]
    if unexpected:
        return None, repr(unexpected[0])
    return len(outcomes) - len(errors), [str(e) for e in errors]


def save_as(nomination, by, *, publish=None, version, **changes):
    return lambda: practice_public_save(
        nomination=nomination,
        by=by,
        fields=text_of(nomination, **changes),
        publish=publish,
        version=version,
    )


@needs_postgres
def test_a_first_publish_racing_a_save_makes_one_practice_and_tells_the_other(
    call, countries, theme, lead, coordinator, second_coordinator
):
    problems = []
    for n in range(ROUNDS):
        nomination = selected_practice(call, countries, theme, lead, n)
        version = page_version(nomination)

        outcomes = run_together(
            save_as(nomination, coordinator, publish=True, version=version),
            save_as(nomination, second_coordinator, version=version, title=f"Edited {n}"),
        )

        winners, told = told_and_won(outcomes)
        if winners is None:
            problems.append(f"round {n}: {told}")
            continue
        if (winners, told) != (1, [CHANGED]):
            problems.append(f"round {n}: {winners} went ahead, told {told}")
        if PublishedPractice.objects.filter(nomination=nomination).count() != 1:
            problems.append(f"round {n}: not one practice")
        if wrong := history_disagrees(nomination):
            problems.append(f"round {n}: {wrong}")

    assert problems == []


@needs_postgres
def test_an_unpublish_racing_a_save_leaves_the_state_its_history_says(
    call, countries, theme, lead, coordinator, second_coordinator
):
    problems = []
    for n in range(ROUNDS):
        nomination = selected_practice(call, countries, theme, lead, n)
        practice_save(
            nomination=nomination, by=coordinator, fields=text_of(nomination), publish=True
        )
        version = page_version(nomination)

        unpublish, save = run_together(
            save_as(nomination, coordinator, publish=False, version=version),
            save_as(nomination, second_coordinator, version=version, title=f"Edited {n}"),
        )

        winners, told = told_and_won([unpublish, save])
        if winners is None:
            problems.append(f"round {n}: {told}")
            continue
        if (winners, told) != (1, [CHANGED]):
            problems.append(f"round {n}: {winners} went ahead, told {told}")
        practice = PublishedPractice.objects.get(nomination=nomination)
        if practice.is_published != (unpublish.error is not None):
            problems.append(f"round {n}: published={practice.is_published}, {unpublish.error=}")
        if wrong := history_disagrees(nomination):
            problems.append(f"round {n}: {wrong}")

    assert problems == []


@needs_postgres
def test_two_publishes_write_one_published_event(
    call, countries, theme, lead, coordinator, second_coordinator
):
    problems = []
    for n in range(ROUNDS):
        nomination = selected_practice(call, countries, theme, lead, n)
        practice_save(
            nomination=nomination, by=coordinator, fields=text_of(nomination), publish=False
        )
        version = page_version(nomination)

        outcomes = run_together(
            save_as(nomination, coordinator, publish=True, version=version),
            save_as(nomination, second_coordinator, publish=True, version=version),
        )

        winners, told = told_and_won(outcomes)
        if winners is None:
            problems.append(f"round {n}: {told}")
            continue
        if (winners, told) != (1, [CHANGED]):
            problems.append(f"round {n}: {winners} went ahead, told {told}")
        if publication_history(nomination) != [NominationEvent.Action.PUBLISHED]:
            problems.append(f"round {n}: {publication_history(nomination)}")
        if wrong := history_disagrees(nomination):
            problems.append(f"round {n}: {wrong}")

    assert problems == []


# --- the pages -------------------------------------------------------------------------------


def test_a_page_drawn_before_another_coordinators_save_is_told_and_shows_the_text_now(
    client, call, countries, theme, lead, coordinator, second_coordinator
):
    nomination = selected_practice(call, countries, theme, lead, 1)
    practice_save(nomination=nomination, by=coordinator, fields=text_of(nomination), publish=True)
    client.force_login(coordinator)
    url = reverse("nominations:public", args=[nomination.pk])
    drawn = client.get(url)
    practice_public_save(
        nomination=nomination,
        by=second_coordinator,
        fields=text_of(nomination, title="Their title"),
        version=drawn.context["version"],
    )

    late = client.post(
        url,
        {
            **text_of(nomination, title="My title"),
            "version": drawn.context["version"],
            "action": "unpublish",
        },
    )

    assert f'name="version" value="{drawn.context["version"]}"' in drawn.content.decode()
    assert late.status_code == 200
    assert late.context["form"].non_field_errors() == [CHANGED]
    assert late.context["form"]["title"].value() == "Their title"
    assert late.context["version"] == page_version(nomination)
    practice = PublishedPractice.objects.get(nomination=nomination)
    assert (practice.title, practice.is_published) == ("Their title", True)
    assert publication_history(nomination) == [NominationEvent.Action.PUBLISHED]


def test_a_translation_page_drawn_before_another_coordinators_save_is_told(
    client, call, countries, theme, lead, coordinator, second_coordinator
):
    nomination = selected_practice(call, countries, theme, lead, 1)
    practice = practice_save(
        nomination=nomination, by=coordinator, fields=text_of(nomination), publish=True
    )
    client.force_login(coordinator)
    url = reverse("nominations:public_translation", args=[nomination.pk, "fr"])
    drawn = client.get(url)
    practice_translation_save(
        practice=practice,
        language="fr",
        by=second_coordinator,
        fields={
            "title": "Leur titre",
            "summary": "Leur texte.",
            "results": "",
            "transferability": "",
        },
        version=drawn.context["version"],
    )

    late = client.post(
        url, {"title": "Mon titre", "summary": "Mon texte.", "version": drawn.context["version"]}
    )

    assert drawn.context["version"] == ""
    assert late.status_code == 200
    assert late.context["form"].non_field_errors() == [
        "Another coordinator changed this translation a moment ago; "
        "here is the translation as it stands now."
    ]
    assert late.context["form"]["title"].value() == "Leur titre"
    assert PublishedPracticeTranslation.objects.get(practice=practice).title == "Leur titre"
