"""Demo data: a call, its people and nominations at every stage (the values in ``data``).

Used by ``python manage.py load_demo``. Nominations are moved through their
process by the same services the pages use (never by setting ``stage``), so
each one has a real workflow process, open tasks and a history.
"""

from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from nominations.models import Call, Country, Nomination, SelectionDecision, SurveyQuestion, Theme
from nominations.services import PUBLIC_FIELDS, nomination_create, practice_draft, practice_save
from reviewers.models import (
    ConflictOfInterest,
    Review,
    ReviewerProfile,
    RubricCriterion,
    Unavailability,
)
from workflow.flows import NominationFlow
from workflow.services import (
    ScreeningDecision,
    nomination_screen,
    nomination_submit,
    review_submit,
    selection_decide,
)
from workflow.steps import open_task, open_tasks

from .data import (
    ADMIN,
    COORDINATORS,
    COUNTRIES,
    CRITERIA,
    CRITERION_COMMENTS,
    DEMO_CALL_DESCRIPTION,
    DEMO_CALL_TITLE,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    DOMAIN,
    LEAD,
    NOMINATORS,
    PRACTICES,
    QUESTIONS,
    REVIEW_SCORES,
    REVIEWERS,
    THEMES,
)
from .translations import in_every_language


def email_of(local_part):
    return f"{local_part}@{DOMAIN}"


# --- reference data --------------------------------------------------------------------


def countries_ensure():
    """The partner countries, by ISO code."""
    countries = {}
    for code, name in COUNTRIES:
        countries[code], _ = Country.objects.update_or_create(
            code=code, defaults={**in_every_language("name", name), "is_partner": True}
        )
    return countries


def themes_ensure():
    """The themes, by name."""
    themes = {}
    for name, is_priority, description in THEMES:
        themes[name], _ = Theme.objects.update_or_create(
            name_en=name,
            defaults={
                **in_every_language("name", name),
                **in_every_language("description", description),
                "is_priority": is_priority,
            },
        )
    return themes


def user_ensure(*, local_part, first_name, last_name, is_superuser=False):
    """A user who can log in at once: password set and a verified primary email."""
    email = email_of(local_part)
    user, _ = get_user_model().objects.update_or_create(
        username=local_part,
        defaults={
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "is_superuser": is_superuser,
            "is_staff": is_superuser,
            "is_active": True,
        },
    )
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def reviewer_ensure(
    *, local_part, first_name, last_name, country, organisation, languages, expertise
):
    user = user_ensure(local_part=local_part, first_name=first_name, last_name=last_name)
    profile, _ = ReviewerProfile.objects.update_or_create(
        user=user,
        defaults={
            "country": country,
            "organisation": organisation,
            "languages": languages,
            "capacity": 4,
            "is_active": True,
        },
    )
    profile.expertise.set(expertise)
    return user


def people_ensure(*, countries, themes):
    """Every demo account; returns them by role."""
    people = {
        "admin": user_ensure(
            local_part=ADMIN[0], first_name=ADMIN[1], last_name=ADMIN[2], is_superuser=True
        ),
        "lead": user_ensure(local_part=LEAD[0], first_name=LEAD[1], last_name=LEAD[2]),
        "coordinators": {},
        "reviewers": [],
        "nominators": [],
    }
    for code, (local_part, first, last) in COORDINATORS.items():
        user = user_ensure(local_part=local_part, first_name=first, last_name=last)
        countries[code].coordinators.add(user)
        people["coordinators"][code] = user
    for local_part, first, last, code, organisation, languages, expertise in REVIEWERS:
        people["reviewers"].append(
            reviewer_ensure(
                local_part=local_part,
                first_name=first,
                last_name=last,
                country=countries[code],
                organisation=organisation,
                languages=languages,
                expertise=[themes[name] for name in expertise],
            )
        )
    for local_part, first, last in NOMINATORS:
        people["nominators"].append(
            user_ensure(local_part=local_part, first_name=first, last_name=last)
        )
    staff_authenticators_ensure()
    return people


def staff_authenticators_ensure():
    """The demo's coordinators, lead and admin get an authenticator app with the demo key."""
    staff = [ADMIN[0], LEAD[0], *(local_part for local_part, _, _ in COORDINATORS.values())]
    # Only the demo's own accounts: a real "admin" must never get the published key.
    demo_staff = get_user_model().objects.filter(username__in=staff, email__endswith=f"@{DOMAIN}")
    for user in demo_staff:
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)


def demo_totp_url():
    """The demo key as an otpauth:// link, which authenticator apps (and QR makers) read."""
    return f"otpauth://totp/Nomflow%20demo?secret={DEMO_TOTP_SECRET}&issuer=Nomflow"


# --- the call --------------------------------------------------------------------------


def demo_call():
    return Call.objects.filter(title_en=DEMO_CALL_TITLE).first()


def call_create(*, themes, lead):
    now = timezone.now()
    call = Call.objects.create(
        **in_every_language("title", DEMO_CALL_TITLE),
        **in_every_language("description", DEMO_CALL_DESCRIPTION),
        languages=["en", "es", "fr", "lv", "sv"],
        opens_at=now - timedelta(days=30),
        closes_at=now + timedelta(days=90),
        reviewers_per_nomination=2,
        bidding_enabled=True,
    )
    call.themes.set(themes)
    call.leads.add(lead)
    return call


def rubric_create(*, call):
    """The call's criteria, in order."""
    return [
        RubricCriterion.objects.create(
            call=call,
            **in_every_language("title", title),
            **in_every_language("description", description),
            weight=weight,
            position=position,
        )
        for position, (title, description, weight) in enumerate(CRITERIA, start=1)
    ]


def survey_create(*, call):
    """The call's questions, by their key in QUESTIONS."""
    questions = {}
    for position, spec in enumerate(QUESTIONS, start=1):
        questions[spec["key"]] = SurveyQuestion.objects.create(
            call=call,
            **in_every_language("text", spec["text"]),
            **in_every_language("help_text", spec["help_text"]),
            kind=spec["kind"],
            required=spec["required"],
            **in_every_language("choices", "\n".join(spec.get("choices", []))),
            position=position,
        )
    return questions


def survey_answers(*, questions, answers):
    """Answers keyed as the nomination stores them: by str(question.pk)."""
    return {str(questions[key].pk): value for key, value in answers.items()}


# --- moving nominations through the process --------------------------------------------


def practice_create(*, call, nominator, key, countries, themes, questions, country_code):
    practice = PRACTICES[key]
    nomination, _ = nomination_create(
        call=call,
        nominator=nominator,
        fields={**practice["fields"], "country": countries[country_code]},
        themes=[themes[name] for name in practice["themes"]],
        survey_answers=survey_answers(questions=questions, answers=practice["answers"]),
    )
    return nomination


def practice_screen(*, nomination, decision, message=""):
    """The nomination's country's coordinator decides on its screening task."""
    coordinator = nomination.country.coordinators.order_by("pk").first()
    task = open_task(nomination, NominationFlow.screen)
    return nomination_screen(task_id=task.pk, by=coordinator, decision=decision, message=message)


def practice_reviews_submit(*, nomination, criteria, key):
    """Every assigned reviewer submits a complete review."""
    tasks = open_tasks(nomination, NominationFlow.review)
    for task, (marks, comment) in zip(tasks, REVIEW_SCORES[key], strict=True):
        scores = {
            criterion.pk: (mark, CRITERION_COMMENTS[i])
            for i, (criterion, mark) in enumerate(zip(criteria, marks, strict=True))
        }
        review_submit(task_id=task.pk, by=task.owner, scores=scores, comment=comment)


def practice_decide(*, nomination, lead, outcome, rationale):
    task = open_task(nomination, NominationFlow.select)
    return selection_decide(task_id=task.pk, by=lead, outcome=outcome, rationale=rationale)


def nominations_create(*, call, people, countries, themes, questions, criteria):
    """Six nominations, one at each stage a demo visitor should see."""
    lina, pablo = people["nominators"]
    common = {"call": call, "countries": countries, "themes": themes, "questions": questions}

    # Draft: started, not yet complete.
    practice_create(nominator=lina, key="se_schoolyards_draft", country_code="SE", **common)

    # Submitted, waiting for national screening.
    waiting = practice_create(nominator=pablo, key="lv_energy", country_code="LV", **common)
    nomination_submit(nomination=waiting, by=pablo)

    # Sent back for changes.
    changes = practice_create(nominator=lina, key="es_digital", country_code="ES", **common)
    nomination_submit(nomination=changes, by=lina)
    practice_screen(
        nomination=changes,
        decision=ScreeningDecision.REQUEST_CHANGES,
        message=(
            "Thank you, this is a promising tool. Before it goes to peer review, please add "
            "the number of people helped per year since 2021 (not only 2024), explain how "
            "volunteers are trained and protected when they handle personal data, and say "
            "whether the app's code is published and under which licence."
        ),
    )

    # In peer review: accepted; reviewers were chosen by the flow.
    in_review = practice_create(nominator=pablo, key="fr_housing", country_code="FR", **common)
    nomination_submit(nomination=in_review, by=pablo)
    practice_screen(nomination=in_review, decision=ScreeningDecision.ACCEPT)

    # In selection: both reviews are in.
    in_selection = practice_create(
        nominator=pablo, key="lv_social_enterprise", country_code="LV", **common
    )
    nomination_submit(nomination=in_selection, by=pablo)
    practice_screen(nomination=in_selection, decision=ScreeningDecision.ACCEPT)
    practice_reviews_submit(nomination=in_selection, criteria=criteria, key="lv_social_enterprise")

    # Decided: selected for the transnational showcase.
    decided = practice_create(nominator=lina, key="se_mentoring", country_code="SE", **common)
    nomination_submit(nomination=decided, by=lina)
    practice_screen(
        nomination=decided,
        decision=ScreeningDecision.ACCEPT,
        message="Complete and well documented; forwarded to peer review.",
    )
    practice_reviews_submit(nomination=decided, criteria=criteria, key="se_mentoring")
    practice_decide(
        nomination=decided,
        lead=people["lead"],
        outcome=SelectionDecision.Outcome.TRANSNATIONAL,
        rationale=(
            "Both reviewers rated the evidence and relevance very highly, and the programme "
            "has run for eight years with an independent evaluation. Its matching guide is "
            "ready to be shared, which makes it a strong example for the transnational "
            "showcase. We would like to invite you to present it at the partners' meeting."
        ),
    )
    # Its nominator consented: Sweden's coordinator publishes it in the knowledge hub.
    if decided.consent_to_publish:
        practice = practice_draft(decided)
        practice_save(
            nomination=decided,
            by=people["coordinators"]["SE"],
            fields={name: getattr(practice, name) for name in PUBLIC_FIELDS},
            publish=True,
        )


@transaction.atomic
def reviewer_constraints_create(*, people):
    """A declared conflict and a period away, so the matcher has rules to respect."""
    by_username = {user.username: user for user in people["reviewers"]}
    ConflictOfInterest.objects.get_or_create(
        reviewer=by_username["reviewer.fr2"],
        nomination=None,
        organisation="Fundación Barrio Abierto",
        defaults={"reason": "Former employer"},
    )
    today = timezone.localdate()
    Unavailability.objects.get_or_create(
        profile=by_username["reviewer.se2"].reviewer_profile,
        starts_on=today,
        ends_on=today + timedelta(days=14),
        defaults={"note": "Fieldwork"},
    )


def demo_load():
    """Load everything; returns the demo call. Call only when ``demo_call()`` is None."""
    countries = countries_ensure()
    themes = themes_ensure()
    people = people_ensure(countries=countries, themes=themes)
    reviewer_constraints_create(people=people)
    call = call_create(themes=list(themes.values()), lead=people["lead"])
    criteria = rubric_create(call=call)
    questions = survey_create(call=call)
    nominations_create(
        call=call,
        people=people,
        countries=countries,
        themes=themes,
        questions=questions,
        criteria=criteria,
    )
    return call


# --- what to show the person loading the demo --------------------------------------------


def _titles(nominations):
    return "; ".join(f"“{n.title.split(' – ')[0]}”" for n in nominations)


def demo_accounts():
    """Rows of (email, password, role, what to try), read from the database as it is now."""
    User = get_user_model()
    rows = []

    def add(local_part, role, hint):
        user = User.objects.filter(username=local_part).first()
        if user is not None:
            rows.append((user.email, DEMO_PASSWORD, role, hint))

    add(
        ADMIN[0],
        "Administrator (superuser)",
        "Open /admin/: add a fifth partner country, a theme or a survey question; "
        "see every nomination.",
    )
    call = demo_call()
    selection = Nomination.objects.filter(call=call, stage=Nomination.Stage.SELECTION)
    add(
        LEAD[0],
        "Call lead",
        f"Decide the selection of {_titles(selection) or 'nominations whose reviews are in'}; "
        "read the reviews' scores side by side.",
    )
    for code, (local_part, _first, _last) in COORDINATORS.items():
        waiting = Nomination.objects.filter(
            call=call, country__code=code, stage=Nomination.Stage.SCREENING
        )
        others = Nomination.objects.filter(call=call, country__code=code).exclude(
            stage__in=[Nomination.Stage.DRAFT, Nomination.Stage.SCREENING]
        )
        followed = "; ".join(f"{_titles([n])} ({n.get_stage_display().lower()})" for n in others)
        hint = (
            f"Screen {_titles(waiting)}: accept, ask for changes or reject."
            if waiting
            else f"Follow {followed or f'the {code} nominations'}; screen new ones as they arrive."
        )
        add(local_part, f"National coordinator ({code})", hint)
    for spec in REVIEWERS:
        local_part, code = spec[0], spec[3]
        reviews = Review.objects.filter(
            reviewer__username=local_part, status__in=Review.OPEN_STATUSES
        ).select_related("nomination")
        done = Review.objects.filter(
            reviewer__username=local_part, status=Review.Status.SUBMITTED
        ).select_related("nomination")
        if reviews:
            hint = (
                f"Score {_titles(r.nomination for r in reviews)}, "
                "or decline to see a replacement chosen."
            )
        elif done:
            hint = (
                "No open review: reread your submitted review of "
                f"{_titles(r.nomination for r in done)}."
            )
        else:
            hint = (
                "No review assigned yet: bid on nominations in screening under "
                "*Bids and conflicts*; you are in the pool for the next accepted nomination."
            )
        if reviews and done:
            hint += f" Already submitted: {_titles(r.nomination for r in done)}."
        away = Unavailability.objects.filter(
            profile__user__username=local_part, ends_on__gte=timezone.localdate()
        ).first()
        if away:
            hint += (
                f" Away until {away.ends_on:%Y-%m-%d} ({away.note.lower()}): not asked meanwhile."
            )
        add(local_part, f"Reviewer ({code})", hint)
    add(
        NOMINATORS[0][0],
        "Nominator",
        "Revise and resubmit the sent-back nomination; finish and submit the draft; "
        "read the decision and rationale of the selected one.",
    )
    add(
        NOMINATORS[1][0],
        "Nominator",
        "Follow three nominations in screening, peer review and selection; start a new one.",
    )
    return rows
