"""Who may open and do what, proven URL by URL: every role is denied what is not theirs.

One ``world`` holds nominations of the call at every stage, one from another
country and one in another call, with a person in every role. A page a person
may not see answers 404 (never 403), so nobody learns that a nomination exists.
"""

import re
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from nominations.models import Nomination
from nominations.services import nomination_attach
from reviewers.models import Review
from workflow.flows import NominationFlow
from workflow.services import (
    ScreeningDecision,
    nomination_screen,
    nomination_submit,
    review_decline,
    review_submit,
    selection_decide,
)
from workflow.services.people_import import invitation_import_check

from ..factories import CallFactory, CriterionFactory, NominationFactory, UserFactory
from .helpers import full_scores, open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

#: Pages that show one nomination to whoever may see it.
NOMINATION_PAGES = ["detail", "flow_chart", "attachment"]
#: The nominations of the main call by the main nominator, one per stage.
OWN_STAGES = ["draft", "screening", "changes", "review", "selection", "decided"]


# --- building the world ----------------------------------------------------------------


def nominate(*, call, nominator, country, theme, title):
    """A complete draft with one attachment, added while it is still editable."""
    nomination = NominationFactory(
        call=call, nominator=nominator, country=country, themes=[theme], title=title
    )
    nomination_attach(
        nomination=nomination,
        by=nominator,
        upload=SimpleUploadedFile("evidence.pdf", b"%PDF-1.4 evidence", "application/pdf"),
        content_type="application/pdf",
    )
    return nomination


def submit(nomination):
    nomination_submit(nomination=nomination, by=nomination.nominator)


def screen(nomination, coordinator, decision, message="Please add evidence."):
    nomination_screen(
        task_id=open_task(nomination, NominationFlow.screen).pk,
        by=coordinator,
        decision=decision,
        message=message,
    )


def submit_reviews(nomination):
    for task in open_tasks(nomination, NominationFlow.review):
        review_submit(
            task_id=task.pk, by=task.owner, scores=full_scores(nomination.call), comment="Solid"
        )


def decide(nomination, lead):
    selection_decide(
        task_id=open_task(nomination, NominationFlow.select).pk,
        by=lead,
        outcome="national",
        rationale="Strong local results.",
    )


def refreshed(nominations):
    return {key: Nomination.objects.get(pk=n.pk) for key, n in nominations.items()}


@pytest.fixture
def world(call, countries, theme, nominator, coordinator, reviewers, lead):
    """Every role, and nominations at every stage of the call, of another country and call."""
    se, fr = countries["SE"], countries["FR"]
    other_nominator = UserFactory(username="other-nominator")
    coordinator_fr = UserFactory(username="coordinator-fr")
    fr.coordinators.add(coordinator_fr)
    other_call = CallFactory(title="Other call")
    other_call.themes.add(theme)
    CriterionFactory(call=other_call, title="Relevance")
    other_lead = UserFactory(username="other-lead")
    other_call.leads.add(other_lead)
    admin = UserFactory(username="admin", is_staff=True)
    # Plain names, so that a name shown on a page is found in its HTML as typed.
    for reviewer in reviewers:
        code = reviewer.reviewer_profile.country.code
        reviewer.first_name, reviewer.last_name = f"Reviewer{code}", f"Surname{code}"
        reviewer.save(update_fields=["first_name", "last_name"])

    def own(stage):
        return nominate(
            call=call, nominator=nominator, country=se, theme=theme, title=f"Practice {stage}"
        )

    n = {stage: own(stage) for stage in OWN_STAGES}
    for stage in OWN_STAGES[1:]:
        submit(n[stage])
    screen(n["changes"], coordinator, ScreeningDecision.REQUEST_CHANGES)
    for stage in ["selection", "decided", "review"]:
        screen(n[stage], coordinator, ScreeningDecision.ACCEPT)
    submit_reviews(n["selection"])
    submit_reviews(n["decided"])
    decide(n["decided"], lead)

    n["foreign"] = nominate(
        call=call, nominator=other_nominator, country=fr, theme=theme, title="Practice foreign"
    )
    submit(n["foreign"])
    n["other_call"] = nominate(
        call=other_call, nominator=other_nominator, country=se, theme=theme, title="Practice other"
    )
    submit(n["other_call"])
    screen(n["other_call"], coordinator, ScreeningDecision.ACCEPT)
    submit_reviews(n["other_call"])

    a_task, b_task = open_tasks(n["review"], NominationFlow.review)
    assigned = {a_task.owner, b_task.owner}
    (unassigned,) = [r for r in reviewers if r not in assigned]
    users = {
        user.username: user
        for user in [
            nominator,
            other_nominator,
            coordinator,
            coordinator_fr,
            *reviewers,
            lead,
            other_lead,
            admin,
        ]
    }
    return SimpleNamespace(
        nominations=refreshed(n),
        users=users,
        nominator=nominator,
        other_nominator=other_nominator,
        coordinator=coordinator,
        coordinator_fr=coordinator_fr,
        lead=lead,
        other_lead=other_lead,
        admin=admin,
        # Reviewers A and B review n["review"]; C does not.
        reviewer_a=a_task.owner,
        reviewer_b=b_task.owner,
        reviewer_c=unassigned,
        review_task_a=a_task,
        review_task_b=b_task,
        tasks={
            "screen": open_task(n["screening"], NominationFlow.screen),
            "screen_foreign": open_task(n["foreign"], NominationFlow.screen),
            "revise": open_task(n["changes"], NominationFlow.revise),
            "review": a_task,
            "select": open_task(n["selection"], NominationFlow.select),
            "select_other_call": open_task(n["other_call"], NominationFlow.select),
        },
    )


# --- reading pages ---------------------------------------------------------------------


def nomination_url(page, nomination):
    if page == "attachment":
        attachment = nomination.attachments.get()
        return reverse("nominations:attachment", args=[nomination.pk, attachment.pk])
    return reverse(f"nominations:{page}", args=[nomination.pk])


def task_url(task):
    return reverse("workflow:task", args=[task.pk])


def get_as(client, user, url, **kwargs):
    client.force_login(user)
    response = client.get(url, **kwargs)
    if response.streaming:
        # Reading a file download to the end closes it. (Calling close() by hand would
        # also send request_finished, which closes the test's database connection.)
        response.getvalue()
    return response


def statuses(client, user, page, world, keys):
    """The status code ``user`` gets for ``page`` of each named nomination."""
    return {
        key: get_as(client, user, nomination_url(page, world.nominations[key])).status_code
        for key in keys
    }


def task_links(response):
    return set(re.findall(r'href="(/tasks/\d+/)"', response.content.decode()))


def nomination_links(response):
    return set(re.findall(r'href="(/nominations/\d+/)"', response.content.decode()))


def history_actions(response):
    return re.findall(r'<tr class="event-(\w+)">', response.content.decode())


# --- anonymous -------------------------------------------------------------------------

# The home page is public: signed out, it is the landing page (tests/workflow/test_landing.py).
ANONYMOUS_PAGES = {
    "inbox": lambda w: reverse("workflow:inbox"),
    "my nominations": lambda w: reverse("nominations:list"),
    "nominations I follow": lambda w: reverse("nominations:overview"),
    "open calls": lambda w: reverse("nominations:calls"),
    "new nomination": lambda w: reverse(
        "nominations:create", args=[w.nominations["draft"].call_id]
    ),
    "detail": lambda w: nomination_url("detail", w.nominations["screening"]),
    "edit": lambda w: reverse("nominations:edit", args=[w.nominations["draft"].pk]),
    "flow chart": lambda w: nomination_url("flow_chart", w.nominations["screening"]),
    "attachment": lambda w: nomination_url("attachment", w.nominations["screening"]),
    "screening task": lambda w: task_url(w.tasks["screen"]),
    "changes task": lambda w: task_url(w.tasks["revise"]),
    "review task": lambda w: task_url(w.tasks["review"]),
    "selection task": lambda w: task_url(w.tasks["select"]),
}


@pytest.mark.parametrize("page", ANONYMOUS_PAGES)
def test_anonymous_visitor_is_sent_to_sign_in_from_every_page(client, world, page):
    url = ANONYMOUS_PAGES[page](world)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


def test_anonymous_visitor_cannot_post_a_screening_decision(client, world):
    task = world.tasks["screen"]

    response = client.post(task_url(task), {"decision": "accept", "message": ""})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert open_task(world.nominations["screening"], NominationFlow.screen) == task


# --- nominator -------------------------------------------------------------------------


@pytest.mark.parametrize("page", NOMINATION_PAGES)
def test_nominator_sees_own_nomination_at_every_stage(client, world, page):
    assert statuses(client, world.nominator, page, world, OWN_STAGES) == dict.fromkeys(
        OWN_STAGES, 200
    )


@pytest.mark.parametrize("page", [*NOMINATION_PAGES, "edit"])
def test_nominator_never_sees_another_nominators_nomination(client, world, page):
    assert statuses(client, world.other_nominator, page, world, OWN_STAGES) == dict.fromkeys(
        OWN_STAGES, 404
    )


def test_nominator_edits_own_nomination_only_while_it_is_editable(client, world):
    codes = statuses(client, world.nominator, "edit", world, OWN_STAGES)

    assert codes == {
        "draft": 200,
        "screening": 302,
        "changes": 200,
        "review": 302,
        "selection": 302,
        "decided": 302,
    }


def test_nomination_under_review_is_not_changed_by_posting_its_edit_form(client, world):
    nomination = world.nominations["review"]
    client.force_login(world.nominator)

    response = client.post(
        reverse("nominations:edit", args=[nomination.pk]), {"title": "Rewritten", "save": "1"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("nominations:detail", args=[nomination.pk])
    nomination.refresh_from_db()
    assert nomination.title == "Practice review"


@pytest.mark.parametrize("stage", ["draft", "changes"])
def test_only_the_nominator_may_open_the_edit_page(client, world, stage):
    url = reverse("nominations:edit", args=[world.nominations[stage].pk])
    others = {name: user for name, user in world.users.items() if user != world.nominator}

    codes = {name: get_as(client, user, url).status_code for name, user in others.items()}

    assert codes == dict.fromkeys(others, 404)


def test_nominator_history_names_roles_never_reviewers(client, world):
    nomination = world.nominations["review"]
    review_decline(
        task_id=world.review_task_a.pk, by=world.reviewer_a, reason="Conflict with my employer"
    )
    submit_reviews(nomination)
    decide(nomination, world.lead)
    client.force_login(world.nominator)

    response = client.get(nomination_url("detail", nomination))

    page = response.content.decode()
    recorded = set(nomination.events.values_list("action", flat=True))
    assert {"review_declined", "reviewer_replaced", "review_submitted"} <= recorded
    assert history_actions(response) == [
        "submitted",
        "screening_accepted",
        "reviewers_assigned",
        "reviews_complete",
        "decided",
    ]
    assert [row["who"] for row in response.context["history"]] == [
        "Nominator",
        "National coordinator",
        "Nomflow",
        "Nomflow",
        "Lead",
    ]
    for reviewer in [world.reviewer_a, world.reviewer_b, world.reviewer_c]:
        assert reviewer.email not in page
        assert reviewer.get_full_name() not in page
        assert reviewer.last_name not in page
    for hidden in ["Review submitted", "Review declined", "Replacement reviewer", "Conflict with"]:
        assert hidden not in page


# --- national coordinator --------------------------------------------------------------


@pytest.mark.parametrize("page", NOMINATION_PAGES)
def test_coordinator_sees_submitted_nominations_of_own_country(client, world, page):
    keys = ["screening", "changes", "review", "selection", "decided", "other_call"]

    assert statuses(client, world.coordinator, page, world, keys) == dict.fromkeys(keys, 200)


@pytest.mark.parametrize("page", NOMINATION_PAGES)
def test_coordinator_never_sees_a_draft_of_own_country(client, world, page):
    assert statuses(client, world.coordinator, page, world, ["draft"]) == {"draft": 404}


@pytest.mark.parametrize("page", NOMINATION_PAGES)
def test_coordinator_never_sees_another_countrys_nomination(client, world, page):
    swedish = [*OWN_STAGES, "other_call"]

    assert statuses(client, world.coordinator, page, world, ["foreign"]) == {"foreign": 404}
    assert statuses(client, world.coordinator_fr, page, world, swedish) == dict.fromkeys(
        swedish, 404
    )


def test_coordinator_of_another_country_cannot_post_a_screening_decision(client, world):
    nomination = world.nominations["screening"]
    task = world.tasks["screen"]
    client.force_login(world.coordinator_fr)

    response = client.post(task_url(task), {"decision": "reject", "message": "Not ours."})

    assert response.status_code == 404
    assert open_task(nomination, NominationFlow.screen) == task
    nomination.refresh_from_db()
    assert nomination.stage == Nomination.Stage.SCREENING
    assert list(nomination.events.values_list("action", flat=True)) == ["submitted"]


# --- reviewer --------------------------------------------------------------------------


@pytest.mark.parametrize("page", NOMINATION_PAGES)
def test_reviewer_sees_the_nomination_assigned_to_them(client, world, page):
    for reviewer in [world.reviewer_a, world.reviewer_b]:
        assert statuses(client, reviewer, page, world, ["review"]) == {"review": 200}


@pytest.mark.parametrize("page", NOMINATION_PAGES)
def test_reviewer_never_sees_a_nomination_not_assigned_to_them(client, world, page):
    never_reviewed = ["draft", "screening", "changes", "foreign"]

    assert statuses(client, world.reviewer_c, page, world, ["review"]) == {"review": 404}
    for reviewer in [world.reviewer_a, world.reviewer_b, world.reviewer_c]:
        assert statuses(client, reviewer, page, world, never_reviewed) == dict.fromkeys(
            never_reviewed, 404
        )


@pytest.mark.parametrize("page", NOMINATION_PAGES)
def test_reviewer_who_declined_no_longer_sees_the_nomination(client, world, page):
    review_decline(task_id=world.review_task_a.pk, by=world.reviewer_a, reason="On leave")

    assert statuses(client, world.reviewer_a, page, world, ["review"]) == {"review": 404}
    # The replacement sees it instead.
    assert statuses(client, world.reviewer_c, page, world, ["review"]) == {"review": 200}


def test_reviewer_who_declined_loses_the_task_and_its_page(client, world):
    review_decline(task_id=world.review_task_a.pk, by=world.reviewer_a, reason="On leave")

    inbox = get_as(client, world.reviewer_a, reverse("workflow:inbox"))
    task_page = get_as(client, world.reviewer_a, task_url(world.review_task_a), follow=True)

    assert task_url(world.review_task_a) not in task_links(inbox)
    assert task_page.status_code == 404


def test_reviewer_cannot_post_another_reviewers_review_task(client, world):
    scores = {f"score_{c.pk}": "1" for c in world.nominations["review"].call.criteria.all()}
    client.force_login(world.reviewer_b)

    response = client.post(
        task_url(world.review_task_a), {**scores, "comment": "Sabotage", "submit": "1"}
    )

    assert response.status_code == 404
    review = Review.objects.get(nomination=world.nominations["review"], reviewer=world.reviewer_a)
    assert (review.status, review.comment, review.scores.count()) == ("assigned", "", 0)
    assert world.review_task_a in open_tasks(world.nominations["review"], NominationFlow.review)


def test_reviewer_never_sees_other_reviewers_identities_or_scores(client, world):
    nomination = world.nominations["review"]
    b = world.reviewer_b
    review_submit(
        task_id=world.review_task_b.pk,
        by=b,
        scores={c.pk: (2, f"B-private-note-{c.pk}") for c in nomination.call.criteria.all()},
        comment="B-private-overall",
    )

    detail = get_as(client, world.reviewer_a, nomination_url("detail", nomination))
    task_page = get_as(client, world.reviewer_a, task_url(world.review_task_a))

    assert (detail.status_code, task_page.status_code) == (200, 200)
    assert history_actions(detail) == ["submitted", "screening_accepted", "reviewers_assigned"]
    for response in [detail, task_page]:
        page = response.content.decode()
        for secret in [b.email, b.get_full_name(), b.last_name, "B-private", "Review submitted"]:
            assert secret not in page


def test_reviewer_never_sees_the_nominators_contact_nor_declared_conflicts(client, world):
    nomination = world.nominations["review"]
    nomination.conflicts_declared = "Distrusted Institute"
    nomination.save(update_fields=["conflicts_declared"])

    detail = get_as(client, world.reviewer_a, nomination_url("detail", nomination))
    task_page = get_as(client, world.reviewer_a, task_url(world.review_task_a))

    for response in [detail, task_page]:
        page = response.content.decode()
        assert (response.status_code, nomination.contact_email in page) == (200, False)
        assert nomination.contact_name not in page
        assert "Distrusted Institute" not in page
    # Its national coordinator does see them.
    coordinator_page = get_as(client, world.coordinator, nomination_url("detail", nomination))
    assert "Distrusted Institute" in coordinator_page.content.decode()


def test_selection_page_is_404_for_reviewers_even_those_who_reviewed(client, world):
    nomination = world.nominations["selection"]
    url = task_url(world.tasks["select"])
    reviewed = set(nomination.reviews.values_list("reviewer__username", flat=True))
    all_reviewers = [world.reviewer_a, world.reviewer_b, world.reviewer_c]

    codes = {r.username: get_as(client, r, url).status_code for r in all_reviewers}

    assert len(reviewed) == 2
    assert codes == {r.username: 404 for r in all_reviewers}


def test_reviewer_never_reads_the_selection_outcome(client, world):
    nomination = world.nominations["decided"]
    reviewer = nomination.reviews.select_related("reviewer").first().reviewer

    response = get_as(client, reviewer, nomination_url("detail", nomination))

    page = response.content.decode()
    assert (response.status_code, response.context["viewer_role"]) == (200, "reviewer")
    assert nomination.decision.rationale not in page
    assert nomination.decision.get_outcome_display() not in page


# --- lead ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", NOMINATION_PAGES)
def test_lead_sees_own_calls_nominations_only_from_selection_on(client, world, page):
    assert statuses(client, world.lead, page, world, OWN_STAGES) == {
        "draft": 404,
        "screening": 404,
        "changes": 404,
        "review": 404,
        "selection": 200,
        "decided": 200,
    }


@pytest.mark.parametrize("page", NOMINATION_PAGES)
def test_lead_of_another_call_sees_nothing_of_this_call(client, world, page):
    this_call = [*OWN_STAGES, "foreign"]

    assert statuses(client, world.other_lead, page, world, this_call) == dict.fromkeys(
        this_call, 404
    )
    assert statuses(client, world.other_lead, page, world, ["other_call"]) == {"other_call": 200}


def test_lead_of_another_call_cannot_post_a_selection_decision(client, world):
    nomination = world.nominations["selection"]
    client.force_login(world.other_lead)

    response = client.post(
        task_url(world.tasks["select"]), {"outcome": "not_selected", "rationale": "Not mine."}
    )

    assert response.status_code == 404
    assert open_task(nomination, NominationFlow.select) == world.tasks["select"]
    nomination.refresh_from_db()
    assert nomination.stage == Nomination.Stage.SELECTION


# --- admin -----------------------------------------------------------------------------


@pytest.mark.parametrize("page", NOMINATION_PAGES)
def test_admin_sees_every_nomination_at_every_stage(client, world, page):
    everything = [*OWN_STAGES, "foreign", "other_call"]

    assert statuses(client, world.admin, page, world, everything) == dict.fromkeys(everything, 200)


# --- tasks -----------------------------------------------------------------------------

#: Who may open each task (the owner, or the pool it waits in) and the status they get.
TASK_OWNERS = {
    "screen": ("coordinator", 200),
    "screen_foreign": ("coordinator_fr", 200),
    "revise": ("nominator", 302),  # the nominator makes the changes on the edit page
    "review": ("reviewer_a", 200),
    "select": ("lead", 200),
    "select_other_call": ("other_lead", 200),
}


@pytest.mark.parametrize("kind", TASK_OWNERS)
def test_task_page_opens_only_for_its_owner_or_pool_and_is_404_for_everyone_else(
    client, world, kind
):
    task = world.tasks[kind]
    owner_attribute, owner_status = TASK_OWNERS[kind]
    owner = getattr(world, owner_attribute)

    codes = {
        name: get_as(client, user, task_url(task)).status_code for name, user in world.users.items()
    }

    assert codes == {**dict.fromkeys(world.users, 404), owner.username: owner_status}


def test_inbox_lists_exactly_the_persons_own_and_pool_tasks(client, world):
    t = world.tasks
    expected = {name: set() for name in world.users}
    expected[world.nominator.username] = {t["revise"]}
    expected[world.coordinator.username] = {t["screen"]}
    expected[world.coordinator_fr.username] = {t["screen_foreign"]}
    expected[world.lead.username] = {t["select"]}
    expected[world.other_lead.username] = {t["select_other_call"]}
    expected[world.reviewer_a.username] = {world.review_task_a}
    expected[world.reviewer_b.username] = {world.review_task_b}

    inboxes = {
        name: task_links(get_as(client, user, reverse("workflow:inbox")))
        for name, user in world.users.items()
    }
    homes = {
        name: task_links(get_as(client, user, reverse("workflow:home")))
        for name, user in world.users.items()
    }

    wanted = {name: {task_url(task) for task in tasks} for name, tasks in expected.items()}
    assert inboxes == wanted
    assert homes == wanted


def test_my_nominations_lists_only_the_persons_own(client, world):
    n = world.nominations
    lists = {
        name: nomination_links(get_as(client, user, reverse("nominations:list")))
        for name, user in world.users.items()
    }

    expected = {name: set() for name in world.users}
    expected[world.nominator.username] = {nomination_url("detail", n[k]) for k in OWN_STAGES}
    expected[world.other_nominator.username] = {
        nomination_url("detail", n[k]) for k in ["foreign", "other_call"]
    }
    assert lists == expected


def test_nominations_i_follow_lists_exactly_what_each_role_may_see(client, world):
    n = world.nominations
    review_decline(task_id=world.review_task_a.pk, by=world.reviewer_a, reason="On leave")

    def urls(*keys):
        return {nomination_url("detail", n[key]) for key in keys}

    def reviewed_by(reviewer):
        active = Review.objects.filter(reviewer=reviewer).exclude(status="declined")
        return {nomination_url("detail", r.nomination) for r in active}

    expected = {
        "nominator": set(),
        "other-nominator": set(),
        "coordinator-se": urls("screening", "changes", "review", "selection", "decided")
        | urls("other_call"),
        "coordinator-fr": urls("foreign"),
        "lead": urls("selection", "decided"),
        "other-lead": urls("other_call"),
        "admin": urls(*OWN_STAGES, "foreign", "other_call"),
        **{
            r.username: reviewed_by(r)
            for r in [world.reviewer_a, world.reviewer_b, world.reviewer_c]
        },
    }
    followed = {
        name: nomination_links(get_as(client, user, reverse("nominations:overview")))
        for name, user in world.users.items()
    }

    assert nomination_url("detail", n["review"]) not in followed[world.reviewer_a.username]
    assert nomination_url("detail", n["review"]) in followed[world.reviewer_c.username]
    assert followed == expected


# --- pages about one call, one reviewer or one import -------------------------------------


def people_pages(world, batch):
    """The pages about one object from setting up calls and people, by name."""
    call = world.nominations["draft"].call
    profile = world.users["reviewer-fr"].reviewer_profile
    return {
        "pool": reverse("workflow:pool", args=[call.pk]),
        "call edit": reverse("workflow:call_edit", args=[call.pk]),
        "call copy": reverse("workflow:call_copy", args=[call.pk]),
        "call preview": reverse("workflow:call_preview", args=[call.pk]),
        "reviewer profile": reverse("reviewers:profile_edit", args=[profile.pk]),
        "import": reverse("people:import_detail", args=[batch.pk]),
        "import report": reverse("people:import_report", args=[batch.pk]),
    }


#: Who opens each page (by user name); everyone else gets 404, not 403.
PEOPLE_PAGE_READERS = {
    # The pool names nobody: every coordinator sees its counts, with their countries marked.
    "pool": {"coordinator-se", "coordinator-fr", "lead", "admin"},
    "call edit": {"lead", "admin"},
    "call copy": {"lead", "admin"},
    "call preview": {"lead", "admin"},
    "reviewer profile": {"reviewer-fr", "coordinator-fr", "admin"},
    "import": {"coordinator-se", "admin"},
    "import report": {"coordinator-se", "admin"},
}


@pytest.fixture
def batch(world):
    content = b"email,role,country code\nnew@example.org,reviewer,SE\n"
    return invitation_import_check(by=world.coordinator, content=content, file_name="a.csv")


@pytest.mark.parametrize("page", PEOPLE_PAGE_READERS)
def test_a_page_about_one_call_reviewer_or_import_is_404_to_everyone_who_may_not_see_it(
    client, world, batch, page
):
    url = people_pages(world, batch)[page]

    answers = {name: get_as(client, user, url).status_code for name, user in world.users.items()}

    assert answers == {
        name: 200 if name in PEOPLE_PAGE_READERS[page] else 404 for name in world.users
    }


@pytest.mark.parametrize("page", PEOPLE_PAGE_READERS)
def test_anonymous_visitor_is_sent_to_sign_in_from_every_people_page(client, world, batch, page):
    url = people_pages(world, batch)[page]

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"
