"""The admin cannot rewrite the record: what the workflow wrote stays, and changes leave a trace."""

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.db.models import ProtectedError
from django.urls import reverse
from viewflow.workflow.models import Task

from nominations.models import Nomination, NominationEvent, SelectionDecision
from notifications.models import Message
from reviewers.models import Bid, Review
from workflow.flows import NominationFlow
from workflow.services import (
    ScreeningDecision,
    nomination_screen,
    nomination_submit,
    review_submit,
)

from ..factories import UserFactory
from ..workflow.helpers import full_scores, open_task, open_tasks

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def admin_user(db):
    return UserFactory(username="site-admin", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def submitted(draft):
    nomination_submit(nomination=draft, by=draft.nominator)
    draft.refresh_from_db()
    return draft


@pytest.fixture
def in_review(submitted, coordinator, reviewers):
    nomination_screen(
        task_id=open_task(submitted, NominationFlow.screen).pk,
        by=coordinator,
        decision=ScreeningDecision.ACCEPT,
        message="",
    )
    return submitted


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def delete_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])


def form_data(response):
    """What the admin's change form would post back unchanged, inlines included."""
    data = {}
    forms_ = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms_ += [inline.formset.management_form, *inline.formset.forms]
    for form in forms_:
        for name, field in form.fields.items():
            key, value = form.add_prefix(name), form[name].value()
            if isinstance(field.widget, forms.MultiWidget):
                for i, part in enumerate(field.widget.decompress(value)):
                    data[f"{key}_{i}"] = "" if part is None else str(part)
            elif isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value is not None:
                data[key] = str(value)
            if field.show_hidden_initial and key in data:
                data[form.add_initial_prefix(name)] = data[key]
    return data


def editable_inputs(response):
    """Names of the fields the change page lets the admin edit."""
    return [
        field.field.name
        for fieldset in response.context["adminform"]
        for line in fieldset
        for field in line
        if not field.is_readonly
    ]


# --- nominations ---------------------------------------------------------------------


def test_a_submitted_nomination_is_shown_to_the_admin_with_nothing_to_edit(admin_client, submitted):
    page = admin_client.get(change_url(submitted))

    assert page.status_code == 200
    assert editable_inputs(page) == []
    assert 'name="title"' not in page.content.decode()
    assert 'name="summary"' not in page.content.decode()


def test_posting_a_new_title_for_a_submitted_nomination_is_refused(admin_client, submitted):
    original = (submitted.title, submitted.summary)

    response = admin_client.post(
        change_url(submitted),
        {"title": "Rewritten by the admin", "summary": "Rewritten", "_save": "Save"},
    )

    submitted.refresh_from_db()
    assert response.status_code == 403
    assert (submitted.title, submitted.summary) == original
    assert not submitted.events.filter(action=NominationEvent.Action.ADMIN_CHANGED).exists()


def test_a_draft_corrected_in_the_admin_says_so_in_its_history(admin_client, admin_user, draft):
    data = form_data(admin_client.get(change_url(draft)))
    data.update(title="Neighbourhood mentors (corrected)", organisation="Malmö Trust")

    response = admin_client.post(change_url(draft), {**data, "_save": "Save"})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.organisation) == ("Neighbourhood mentors (corrected)", "Malmö Trust")
    event = draft.events.get(action=NominationEvent.Action.ADMIN_CHANGED)
    assert (event.actor, event.actor_role, event.message) == (
        admin_user,
        NominationEvent.Role.ADMIN,
        "Changed Title of the practice and Organisation.",
    )


def test_saving_a_draft_unchanged_writes_no_history(admin_client, draft):
    data = form_data(admin_client.get(change_url(draft)))

    admin_client.post(change_url(draft), {**data, "_save": "Save"})

    assert not draft.events.filter(action=NominationEvent.Action.ADMIN_CHANGED).exists()


def test_a_nomination_with_a_history_cannot_be_deleted_in_the_admin_nor_at_all(
    admin_client, submitted, draft
):
    for nomination in [submitted, draft]:  # a draft has a history too: it was started
        assert admin_client.post(delete_url(nomination), {"post": "yes"}).status_code == 403
        assert Nomination.objects.filter(pk=nomination.pk).exists()
        with pytest.raises(ProtectedError):
            nomination.delete()


def test_nothing_in_the_history_can_be_added_changed_or_deleted_in_the_admin(
    admin_user, rf, submitted
):
    request = rf.get("/")
    request.user = admin_user
    inline = admin.site._registry[Nomination].get_inline_instances(request, submitted)
    events = next(i for i in inline if i.model is NominationEvent)

    assert not admin.site.is_registered(NominationEvent)
    assert (
        events.has_add_permission(request, submitted),
        events.has_change_permission(request, submitted),
        events.has_delete_permission(request, submitted),
    ) == (False, False, False)


# --- decisions, reviews, the flow, the outbox -----------------------------------------


def test_the_admin_cannot_name_another_lead_as_confirming_a_decision(admin_client, submitted, lead):
    decision = SelectionDecision.objects.create(
        nomination=submitted, outcome="national", rationale="Strong.", decided_by=lead
    )
    someone = UserFactory(username="someone-else")

    response = admin_client.post(
        change_url(decision),
        {
            "nomination": submitted.pk,
            "outcome": "transnational",
            "rationale": "Changed",
            "decided_by": lead.pk,
            "confirmed_by": someone.pk,
            "_save": "Save",
        },
    )

    decision.refresh_from_db()
    assert response.status_code == 403
    assert (decision.outcome, decision.rationale, decision.confirmed_by) == (
        "national",
        "Strong.",
        None,
    )
    assert admin_client.post(delete_url(decision), {"post": "yes"}).status_code == 403
    add = reverse("admin:nominations_selectiondecision_add")
    assert admin_client.get(add).status_code == 403


def test_a_submitted_review_cannot_be_changed_or_deleted_in_the_admin(admin_client, in_review):
    task = open_tasks(in_review, NominationFlow.review)[0]
    review_submit(task_id=task.pk, by=task.owner, scores=full_scores(in_review.call), comment="Ok")
    review = Review.objects.get(nomination=in_review, reviewer=task.owner)

    response = admin_client.post(change_url(review), {"comment": "Rewritten", "_save": "Save"})

    review.refresh_from_db()
    assert response.status_code == 403
    assert review.comment == "Ok"
    assert admin_client.post(delete_url(review), {"post": "yes"}).status_code == 403
    assert Review.objects.filter(pk=review.pk).exists()


def test_the_flows_tasks_cannot_be_changed_or_deleted_in_the_admin(admin_client, submitted):
    task = open_task(submitted, NominationFlow.screen)
    before = (task.owner_permission, task.status)

    changed = admin_client.post(
        change_url(task), {"owner_permission": "auth.anything", "_save": "Save"}
    )
    deleted = admin_client.post(delete_url(task), {"post": "yes"})
    process = admin_client.post(delete_url(task.process), {"post": "yes"})

    task.refresh_from_db()
    assert (changed.status_code, deleted.status_code, process.status_code) == (403, 403, 403)
    assert (task.owner_permission, task.status) == before


def test_the_outbox_cannot_be_rewritten_in_the_admin(admin_client, submitted):
    message = Message.objects.first()
    assert message is not None  # submitting told the coordinator

    assert admin_client.post(delete_url(message), {"post": "yes"}).status_code == 403
    assert Message.objects.filter(pk=message.pk).exists()


# --- what stays editable -------------------------------------------------------------


def test_a_bid_changed_in_the_admin_is_written_into_the_nominations_history(
    admin_client, admin_user, submitted, reviewers
):
    bid = Bid.objects.create(reviewer=reviewers[0], nomination=submitted, level=1)
    data = form_data(admin_client.get(change_url(bid)))

    response = admin_client.post(change_url(bid), {**data, "level": "2", "_save": "Save"})

    assert response.status_code == 302
    event = submitted.events.get(action=NominationEvent.Action.ADMIN_CHANGED)
    bid.refresh_from_db()
    assert (event.actor, event.message) == (admin_user, f"Bid “{bid}”: Changed Interest.")


def test_reference_data_stays_editable_and_the_admins_log_keeps_the_change(
    admin_client, call, submitted
):
    data = form_data(admin_client.get(change_url(call)))

    response = admin_client.post(change_url(call), {**data, "review_days": "30", "_save": "Save"})

    call.refresh_from_db()
    assert (response.status_code, call.review_days) == (302, 30)
    entry = LogEntry.objects.get(object_id=str(call.pk), content_type__model="call")
    assert entry.get_change_message() == "Changed Days for a peer review."
    assert not NominationEvent.objects.filter(action=NominationEvent.Action.ADMIN_CHANGED).exists()


def test_the_admin_log_itself_is_not_in_the_admin(db):
    assert not admin.site.is_registered(LogEntry)
    assert Task in admin.site._registry  # read-only, tested above
