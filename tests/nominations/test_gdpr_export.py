"""Download my data: a ZIP of the person's own data and files, and nobody else's."""

import json

import pytest
from django.urls import reverse

from notifications.models import Preference
from reviewers.models import Bid, ConflictOfInterest, CriterionScore, Review
from workflow.personal_data import personal_data_export

from ..factories import NominationFactory, UserFactory
from .gdpr_helpers import PDF, decided_with_attachment, unzip

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def decided(draft, coordinator, reviewers, lead):
    return decided_with_attachment(draft, coordinator, lead)


def test_the_nominator_gets_their_nomination_answers_history_decision_and_files(decided):
    nominator = decided.nominator

    archive, data = unzip(personal_data_export(user=nominator))

    assert data["account"]["email"] == nominator.email
    assert data["email_addresses"] == [
        {"email": nominator.email, "verified": True, "primary": True}
    ]
    [nomination] = data["nominations"]
    assert nomination["id"] == decided.pk
    assert nomination["contact_email"] == "anna@example.org"
    assert nomination["decision"] == {
        "outcome": "national",
        "rationale": "Strong local results.",
        "decided_at": decided.decision.decided_at.isoformat(),
    }
    # The history as a nominator reads it: roles, never the reviewers or the lead by name.
    assert [row["action"] for row in nomination["history"]] == [
        "submitted",
        "screening_accepted",
        "reviewers_assigned",
        "reviews_complete",
        "decided",
    ]
    assert {row["by"] for row in nomination["history"]} == {
        "Nominator",
        "National coordinator",
        "Nomflow",
        "Lead",
    }
    attachment = decided.attachments.get()
    assert data["attachments_uploaded"][0]["in_this_archive"] == (
        f"attachments/{attachment.pk}/evidence report.pdf"
    )
    assert archive.read(f"attachments/{attachment.pk}/evidence report.pdf") == PDF
    assert sorted(archive.namelist()) == [
        f"attachments/{attachment.pk}/evidence report.pdf",
        "data.json",
    ]
    assert data["reviews"] == []
    assert data["decisions_made"] == []


def test_nobody_elses_identity_is_in_the_nominators_export(decided, reviewers, lead, coordinator):
    raw = personal_data_export(user=decided.nominator)
    text = json.dumps(unzip(raw)[1], ensure_ascii=False)

    for other in [*reviewers, lead, coordinator]:
        assert other.email not in text
        # The whole name: a random surname alone ("Lee") may occur inside other words.
        assert other.get_full_name() not in text
    assert "Solid." not in text  # reviewers' comments are the leads' to read


def test_a_reviewer_gets_their_own_review_bids_conflicts_and_profile_only(decided):
    mine, other = Review.objects.filter(nomination=decided, status="submitted").order_by("pk")
    reviewer = mine.reviewer
    other_nomination = NominationFactory(call=decided.call, title="Another practice")
    Bid.objects.create(reviewer=reviewer, nomination=other_nomination, level=Bid.Level.EAGER)
    ConflictOfInterest.objects.create(reviewer=reviewer, organisation="Old employer", reason="Ex")
    Bid.objects.create(reviewer=other.reviewer, nomination=other_nomination, level=1)
    Preference.objects.filter(user=reviewer).update(language="sv", delivery="daily")

    _archive, data = unzip(personal_data_export(user=reviewer))

    [review] = data["reviews"]
    assert review["nomination"] == {"id": decided.pk, "title": decided.title}
    assert review["comment"] == "Solid."
    assert [s["score"] for s in review["scores"]] == [4, 4, 4]
    assert data["bids"] == [
        {
            "nomination": {"id": other_nomination.pk, "title": "Another practice"},
            "level": 2,
            "updated_at": Bid.objects.get(reviewer=reviewer).updated_at.isoformat(),
        }
    ]
    assert [(c["organisation"], c["reason"]) for c in data["conflicts_of_interest"]] == [
        ("Old employer", "Ex")
    ]
    assert data["reviewer_profile"]["home_country"] == reviewer.reviewer_profile.country.name
    assert data["notification_preferences"]["language"] == "sv"
    assert data["nominations"] == []
    assert [m["kind"] for m in data["messages_sent_to_you"]] == ["task_assigned"]
    text = json.dumps(data)
    assert other.reviewer.email not in text
    assert decided.nominator.email not in text
    assert "anna@example.org" not in text  # the contact is not the reviewer's to see
    assert CriterionScore.objects.filter(review=other).exists()


def test_a_lead_gets_the_decisions_they_made(decided, lead):
    _archive, data = unzip(personal_data_export(user=lead))

    assert data["decisions_made"] == [
        {
            "nomination": {"id": decided.pk, "title": decided.title},
            "outcome": "national",
            "rationale": "Strong local results.",
            "decided_at": decided.decision.decided_at.isoformat(),
            "as": "decided",
        }
    ]
    assert [a["action"] for a in data["actions_you_took"]] == ["decided"]
    assert data["roles"]["lead_of_calls"] == [decided.call.title]


def test_the_download_page_gives_the_signed_in_person_their_own_zip(client, decided):
    stranger = UserFactory(username="stranger")
    client.force_login(stranger)

    page = client.get(reverse("privacy:account"))
    response = client.get(reverse("privacy:download"))

    assert page.status_code == 200
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    _archive, data = unzip(response.content)
    assert data["account"]["email"] == stranger.email
    assert data["nominations"] == []


@pytest.mark.parametrize("name", ["account", "download", "erase"])
def test_the_account_pages_refuse_anonymous_visitors(client, name):
    response = client.get(reverse(f"privacy:{name}"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
