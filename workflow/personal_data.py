"""Personal data: a person's own copy of it, erasing an account, and the retention rule.

Three rules decided here, and nowhere else:

* **Export** gives a person what Nomflow holds about them and what they may already see:
  their nominations with the history a nominator reads, the reviews they wrote, their
  bids, conflicts, profile, preferences, the messages sent to them and the decisions they
  made. Never another reviewer's identity or another person's account.
* **Erasure** keeps the user row (history, reviews and decisions point at it) but empties
  it: no name, an ``erased-<pk>@erased.invalid`` address, no password, inactive, no roles.
  Scores, comments and rationales stay, shown as "Reviewer (erased)" or "(erased
  person)". It is refused while the person holds open workflow tasks, and the message
  says which, because a task nobody can do would stall a nomination.
* **Retention** erases the contact details of practices that were not selected once the
  call closed more than ``Call.retention_days`` ago. Selected practices keep theirs.
  Invitations that were declined, withdrawn or expired, and spreadsheet imports, are
  deleted ``INVITATION_RETENTION_DAYS`` after they closed or finished
  (``invitations_retention_sweep``); an accepted invitation stays, the record of how the
  person came by their role, until their account is erased.

This module reads the workflow's open tasks and the notifications outbox: it orchestrates
across apps, as the nominations views already do.
"""

import io
import json
import logging
import zipfile
from datetime import timedelta
from pathlib import PurePath

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from viewflow.workflow.models import Task

from nominations.accounts import erased_email, is_erased, user_display
from nominations.models import (
    Attachment,
    Call,
    Country,
    ErasureRecord,
    Invitation,
    InvitationImport,
    InvitationImportRow,
    Nomination,
    NominationEvent,
    SelectionDecision,
    SelectionProposal,
)
from nominations.selectors import nomination_history_for, survey_answer_rows
from nominations.services import NominationError, event_record
from notifications.models import DeliveryEvent, Message, Notification, Preference
from notifications.services import render_email
from reviewers.models import Bid, ConflictOfInterest, Expertise, Review, ReviewerProfile

from .deadlines import OPEN_TASK_STATUSES
from .flows import NominationFlow
from .selectors import COORDINATOR_NODES, HUMAN_NODES

logger = logging.getLogger(__name__)

#: /2: expertise with its level, the profile's change history, invitations and imports.
EXPORT_FORMAT = "nomflow-personal-data/2"
#: Days after an invitation closed (declined, withdrawn, expired) or an import finished
#: before they are deleted; ``settings.INVITATION_RETENTION_DAYS`` overrides it.
INVITATION_RETENTION_DAYS = 90
#: What replaces an erased person's name and address in stored free text (history lines,
#: other people's messages). Stored text is not translated, so it stays in English.
ERASED_IN_TEXT = "(erased person)"


class ErasureRefused(NominationError):
    """The account cannot be erased yet; ``reasons`` lists what must happen first."""

    def __init__(self, reasons):
        self.reasons = reasons
        super().__init__(" ".join(reasons))


# --- export ------------------------------------------------------------------------------


def _when(value):
    return value.isoformat() if value else None


def _attachment_path(attachment):
    """Where an attachment goes in the ZIP: its id, then its own name without any folders."""
    name = PurePath(attachment.original_name.replace("\\", "/")).name or "file"
    return f"attachments/{attachment.pk}/{name}"


def _nomination_data(nomination, *, user):
    decision = getattr(nomination, "decision", None)
    return {
        "id": nomination.pk,
        "call": nomination.call.title,
        "stage": nomination.stage,
        "title": nomination.title,
        "kind": nomination.kind,
        "country": nomination.country.name if nomination.country else None,
        "organisation": nomination.organisation,
        "organisation_sector": nomination.organisation_sector,
        "themes": [theme.name for theme in nomination.themes.all()],
        "language": nomination.language,
        "summary": nomination.summary,
        "english_summary": nomination.english_summary,
        "problem": nomination.problem,
        "target_group": nomination.target_group,
        "results": nomination.results,
        "year_started": nomination.year_started,
        "transferability": nomination.transferability,
        "links": nomination.link_list,
        "conflicts_declared": nomination.conflicts_declared,
        "contact_name": nomination.contact_name,
        "contact_email": nomination.contact_email,
        "contact_erased_at": _when(nomination.contact_anonymised_at),
        "consent_to_publish": nomination.consent_to_publish,
        "publication_consent_at": _when(nomination.publication_consent_at),
        "publication_consent_text": nomination.publication_consent_text,
        "survey_answers": [
            {"question": question.text, "answer": answer}
            for question, answer in survey_answer_rows(nomination=nomination)
            if answer not in (None, "")
        ],
        "created_at": _when(nomination.created_at),
        "submitted_at": _when(nomination.submitted_at),
        # The outcome and rationale are the nominator's to read; who decided is not.
        "decision": {
            "outcome": decision.outcome,
            "rationale": decision.rationale,
            "decided_at": _when(decision.decided_at),
        }
        if decision
        else None,
        "history": [
            {
                "when": _when(row["when"]),
                "action": row["action_code"],
                "by": str(row["who"]),
                "outcome": row["outcome"],
                "message": row["message"],
            }
            for row in nomination_history_for(nomination=nomination, role="nominator", user=user)
        ],
    }


def _review_data(review):
    return {
        "nomination": {"id": review.nomination_id, "title": review.nomination.title},
        "status": review.status,
        "comment": review.comment,
        "decline_reason": review.decline_reason,
        "assigned_at": _when(review.assigned_at),
        "submitted_at": _when(review.submitted_at),
        "scores": [
            {"criterion": score.criterion.title, "score": score.score, "comment": score.comment}
            for score in review.scores.all()
        ],
    }


def _profile_data(user):
    profile = ReviewerProfile.objects.filter(user=user).select_related("country").first()
    if profile is None:
        return None
    expertise = Expertise.objects.filter(profile=profile).select_related("theme")
    changes = profile.changes.select_related("changed_by").order_by("changed_at", "pk")
    return {
        "home_country": profile.country.name,
        "organisation": profile.organisation,
        "expertise": [
            {"theme": e.theme.name, "level": e.level, "level_name": str(e.get_level_display())}
            for e in expertise
        ],
        # Who changed it is shown on the reviewer's own profile page; so it is here.
        "changes": [
            {
                "changed_at": _when(change.changed_at),
                "by": "you"
                if change.changed_by_id == user.pk
                else (user_display(change.changed_by) if change.changed_by else None),
                "changes": change.changes,
            }
            for change in changes
        ],
        "languages": profile.languages,
        "capacity": profile.capacity,
        "available_for_new_reviews": profile.is_active,
        "unavailable_periods": [
            {"from": str(p.starts_on), "until": str(p.ends_on), "note": p.note}
            for p in profile.unavailable_periods.all()
        ],
    }


def _message_data(message):
    try:
        body, _html = render_email(message)
    except Exception:  # a template changed since: the row's own fields still tell the story
        logger.warning("Message %s could not be rendered for an export", message.pk)
        body = ""
    return {
        "kind": message.kind,
        "to": message.to_email,
        "subject": message.subject,
        "body": body,
        "status": message.status,
        "created_at": _when(message.created_at),
        "sent_at": _when(message.sent_at),
    }


def _addresses(user):
    """The person's addresses in lower case: the account's and every one allauth holds."""
    from allauth.account.models import EmailAddress

    found = {user.email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
    return sorted({address.strip().lower() for address in found if address})


def _invitation_place(invitation):
    return {
        "role": invitation.role,
        "country": invitation.country.name if invitation.country else None,
        "call": invitation.call.title if invitation.call else None,
        "status": invitation.status,
        "created_at": _when(invitation.created_at),
        "expires_at": _when(invitation.expires_at),
        "closed_at": _when(invitation.closed_at),
    }


def _invitations_data(user, addresses):
    """Invitations to the person's addresses, those they sent and the imports they ran.

    An inviter's own record of whom they invited includes the address they typed, which
    they see on their invitations page anyway; never the invitee's reason for declining.
    """
    to_them = (
        Invitation.objects.filter(email__in=addresses)
        .select_related("country", "call", "inviter")
        .order_by("created_at", "pk")
    )
    sent = (
        Invitation.objects.filter(inviter=user)
        .select_related("country", "call")
        .order_by("created_at", "pk")
    )
    imports = (
        InvitationImport.objects.filter(uploaded_by=user)
        .annotate(row_count=Count("rows"))
        .order_by("created_at", "pk")
    )
    return {
        "invitations_to_you": [
            {
                "email": invitation.email,
                **_invitation_place(invitation),
                "invited_by": user_display(invitation.inviter) if invitation.inviter else None,
                "personal_message": invitation.message,
                "decline_reason": invitation.decline_reason,
            }
            for invitation in to_them
        ],
        "invitations_you_sent": [
            {"email": invitation.email, **_invitation_place(invitation)} for invitation in sent
        ],
        "invitation_imports_you_uploaded": [
            {
                "file_name": batch.file_name,
                "status": batch.status,
                "rows": batch.row_count,
                "uploaded_at": _when(batch.created_at),
                "confirmed_at": _when(batch.confirmed_at),
                "finished_at": _when(batch.finished_at),
            }
            for batch in imports
        ],
    }


def personal_data_collect(*, user):
    """What Nomflow holds about ``user``, as plain data: the ``data.json`` of the export."""
    from allauth.account.models import EmailAddress

    preference = Preference.objects.filter(user=user).first()
    addresses = _addresses(user)
    nominations = (
        Nomination.objects.filter(nominator=user)
        .select_related("call", "country", "decision")
        .prefetch_related("themes", "call__questions")
        .order_by("created_at", "pk")
    )
    reviews = (
        Review.objects.filter(reviewer=user)
        .select_related("nomination")
        .prefetch_related("scores__criterion")
        .order_by("assigned_at", "pk")
    )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _when(timezone.now()),
        "account": {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
            "is_active": user.is_active,
            "is_staff": user.is_staff,
        },
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "roles": {
            "national_coordinator_of": [c.name for c in user.coordinated_countries.all()],
            "lead_of_calls": [call.title for call in user.led_calls.all()],
        },
        "nominations": [_nomination_data(n, user=user) for n in nominations],
        "attachments_uploaded": [
            {
                "nomination": attachment.nomination_id,
                "file_name": attachment.original_name,
                "in_this_archive": _attachment_path(attachment),
                "content_type": attachment.content_type,
                "size": attachment.size,
                "uploaded_at": _when(attachment.uploaded_at),
            }
            for attachment in Attachment.objects.filter(uploaded_by=user).order_by("pk")
        ],
        "reviews": [_review_data(review) for review in reviews],
        "reviewer_profile": _profile_data(user),
        "bids": [
            {
                "nomination": {"id": bid.nomination_id, "title": bid.nomination.title},
                "level": bid.level,
                "updated_at": _when(bid.updated_at),
            }
            for bid in Bid.objects.filter(reviewer=user).select_related("nomination")
        ],
        "conflicts_of_interest": [
            {
                "nomination": {"id": c.nomination_id, "title": c.nomination.title}
                if c.nomination
                else None,
                "organisation": c.organisation,
                "reason": c.reason,
                "declared_at": _when(c.declared_at),
            }
            for c in ConflictOfInterest.objects.filter(reviewer=user).select_related("nomination")
        ],
        "notification_preferences": {
            "language": preference.language,
            "email_non_essential": preference.email_non_essential,
            "delivery": preference.delivery,
            "bounced_at": _when(preference.bounced_at),
        }
        if preference
        else None,
        "messages_sent_to_you": [
            _message_data(message)
            for message in Message.objects.filter(
                Q(recipient=user) | Q(recipient__isnull=True, to_email__in=addresses)
            ).order_by("created_at", "pk")
        ],
        "notifications": [
            {
                "title": n.title,
                "link": n.path,
                "created_at": _when(n.created_at),
                "read_at": _when(n.read_at),
            }
            for n in Notification.objects.filter(recipient=user).order_by("created_at", "pk")
        ],
        "decisions_made": [
            {
                "nomination": {"id": d.nomination_id, "title": d.nomination.title},
                "outcome": d.outcome,
                "rationale": d.rationale,
                "decided_at": _when(d.decided_at),
                "as": "confirmed" if d.confirmed_by_id == user.pk else "decided",
            }
            for d in SelectionDecision.objects.filter(Q(decided_by=user) | Q(confirmed_by=user))
            .select_related("nomination")
            .order_by("decided_at", "pk")
        ],
        "decisions_proposed": [
            {
                "nomination": {"id": p.nomination_id, "title": p.nomination.title},
                "outcome": p.outcome,
                "rationale": p.rationale,
                "proposed_at": _when(p.proposed_at),
            }
            for p in SelectionProposal.objects.filter(proposed_by=user).select_related("nomination")
        ],
        "actions_you_took": [
            {
                "nomination": {"id": e.nomination_id, "title": e.nomination.title},
                "action": e.action,
                "as": e.actor_role,
                "when": _when(e.created_at),
                "outcome": e.outcome,
                "message": e.message,
            }
            for e in NominationEvent.objects.filter(actor=user)
            .select_related("nomination")
            .order_by("created_at", "pk")
        ],
        **_invitations_data(user, addresses),
    }


def personal_data_export(*, user) -> bytes:
    """A ZIP with ``data.json`` and the files ``user`` uploaded, each under ``attachments/``."""
    data = personal_data_collect(user=user)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json",
            json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        )
        for attachment in Attachment.objects.filter(uploaded_by=user).order_by("pk"):
            try:
                with attachment.file.open("rb") as upload:
                    archive.writestr(_attachment_path(attachment), upload.read())
            except FileNotFoundError:
                logger.warning("Attachment %s has no file; left out of an export", attachment.pk)
    return out.getvalue()


# --- erasure -----------------------------------------------------------------------------


def erasure_blockers(*, user):
    """Why ``user``'s account cannot be erased yet: one sentence each; empty if it can."""
    reasons = []
    open_reviews = Review.objects.filter(reviewer=user, status__in=Review.OPEN_STATUSES)
    for review in open_reviews.select_related("nomination"):
        reasons.append(
            _("The review of “%(title)s” is open: submit it or decline it first.")
            % {"title": review.nomination.title}
        )
    owned = (
        Task.objects.filter(owner=user, status__in=OPEN_TASK_STATUSES, flow_task__in=HUMAN_NODES)
        .exclude(flow_task=NominationFlow.review)
        .select_related("process__nominationprocess__nomination")
        .order_by("pk")
    )
    for task in owned:
        reasons.append(
            _("The task “%(task)s” on “%(title)s” is yours: complete it first.")
            % {
                "task": task.flow_task.task_title,
                "title": task.process.nominationprocess.nomination.title,
            }
        )
    # The workflow may still need the nominator (changes requested, the decision to read);
    # an erased account could never act on it, and the nomination would be stuck.
    under_way = Nomination.objects.filter(nominator=user).exclude(
        stage__in=[Nomination.Stage.DRAFT, Nomination.Stage.REJECTED, Nomination.Stage.DECIDED]
    )
    for nomination in under_way.order_by("pk"):
        reasons.append(
            _(
                "Your nomination “%(title)s” is still under way: wait for its decision, or "
                "ask its national coordinator to close it."
            )
            % {"title": nomination.title}
        )
    # A pool task needs someone left in the pool: the only coordinator or lead must wait.
    waiting_by_country = dict(
        Task.objects.filter(
            flow_task__in=COORDINATOR_NODES,
            status__in=OPEN_TASK_STATUSES,
            owner__isnull=True,
            process__nominationprocess__nomination__country__in=user.coordinated_countries.all(),
        )
        .values_list("process__nominationprocess__nomination__country")
        .annotate(n=Count("pk"))
        .values_list("process__nominationprocess__nomination__country", "n")
    )
    # Counted over the whole relation, not through the user's own row of it.
    countries = Country.objects.filter(pk__in=user.coordinated_countries.values("pk"))
    for country in countries.annotate(people=Count("coordinators")):
        if country.people == 1 and waiting_by_country.get(country.pk):
            count = waiting_by_country[country.pk]
            reasons.append(
                ngettext(
                    "You are the only national coordinator of %(country)s and one of its "
                    "tasks is waiting: an administrator must name another coordinator first.",
                    "You are the only national coordinator of %(country)s and %(count)s of "
                    "its tasks are waiting: an administrator must name another coordinator first.",
                    count,
                )
                % {"country": country.name, "count": count}
            )
    calls = Call.objects.filter(pk__in=user.led_calls.values("pk"))
    for call in calls.annotate(people=Count("leads")):
        waiting = Task.objects.filter(
            flow_task=NominationFlow.select,
            status__in=OPEN_TASK_STATUSES,
            process__nominationprocess__nomination__call=call,
        ).count()
        if not waiting:
            continue
        if call.require_two_leads and call.people <= 2:
            # Two leads decide each selection together: the call needs two left.
            reasons.append(
                ngettext(
                    "“%(call)s” needs two leads for each decision and one selection is "
                    "waiting: an administrator must name another lead first.",
                    "“%(call)s” needs two leads for each decision and %(count)s selections "
                    "are waiting: an administrator must name another lead first.",
                    waiting,
                )
                % {"call": call.title, "count": waiting}
            )
        elif call.people == 1:
            reasons.append(
                ngettext(
                    "You are the only lead of “%(call)s” and one selection is waiting: "
                    "an administrator must name another lead first.",
                    "You are the only lead of “%(call)s” and %(count)s selections are waiting: "
                    "an administrator must name another lead first.",
                    waiting,
                )
                % {"call": call.title, "count": waiting}
            )
    return reasons


def _contact_erase(nomination, *, now, reason, conflicts_too=False):
    """Blank a nomination's contact details and say so in its history."""
    nomination.contact_name = ""
    nomination.contact_email = ""
    fields = ["contact_name", "contact_email", "contact_anonymised_at", "updated_at"]
    if conflicts_too:
        # Names and addresses of people who should not review it; no use once it is decided.
        nomination.conflicts_declared = ""
        fields.append("conflicts_declared")
    nomination.contact_anonymised_at = now
    nomination.save(update_fields=fields)
    event_record(
        nomination=nomination,
        action=NominationEvent.Action.CONTACT_ERASED,
        role=NominationEvent.Role.SYSTEM,
        outcome=reason,
    )


def _scrub_text(text, needles, replacement):
    for needle in needles:
        text = text.replace(needle, replacement)
    return text


def _scrub_others_records(*, needles, replacement):
    """Take the person's name and addresses out of what was written about them elsewhere.

    The history records reviewers by address ("x@example.org (FR)"), and messages to
    coordinators name the people they are about.
    """
    if not needles:
        return
    in_events = Q()
    in_messages = Q()
    for needle in needles:
        in_events |= Q(outcome__contains=needle) | Q(message__contains=needle)
        in_messages |= Q(subject__contains=needle) | Q(context_text__contains=needle)
    for event in NominationEvent.objects.filter(in_events):
        event.outcome = _scrub_text(event.outcome, needles, replacement)[:200]
        event.message = _scrub_text(event.message, needles, replacement)
        event.save(update_fields=["outcome", "message"])
    messages = Message.objects.annotate(context_text=Cast("context", TextField())).filter(
        in_messages
    )
    for message in messages:
        message.subject = _scrub_text(message.subject, needles, replacement)
        message.context = json.loads(
            _scrub_text(json.dumps(message.context, ensure_ascii=False), needles, replacement)
        )
        message.save(update_fields=["subject", "context"])


def _invitations_to_erase(*, addresses, user, now):
    """Invitations to the person: kept for the inviter's counts, but to nobody.

    The address becomes the erased account's placeholder, the texts they or their inviter
    wrote about them are emptied, and a pending one is withdrawn: no reminder is ever
    written to the placeholder.
    """
    to_them = Invitation.objects.filter(email__in=addresses)
    to_them.filter(status=Invitation.Status.PENDING).update(
        status=Invitation.Status.WITHDRAWN, closed_at=now
    )
    to_them.update(email=erased_email(user.pk), message="", decline_reason="")


def _import_rows_scrub(*, addresses, needles):
    """Spreadsheet rows that named the person keep their row number and outcome, not them."""
    if not addresses:
        return
    by_address = Q()
    for address in addresses:
        by_address |= Q(email__iexact=address)
    for row in InvitationImportRow.objects.filter(by_address):
        row.email = ERASED_IN_TEXT
        row.name = row.organisation = ""
        row.theme_ids = []
        row.cells = {
            key: ERASED_IN_TEXT if key in {"email", "name", "organisation", "themes"} else value
            for key, value in row.cells.items()
        }
        row.result_message = _scrub_text(row.result_message, needles, ERASED_IN_TEXT)
        row.save(
            update_fields=["email", "name", "organisation", "theme_ids", "cells", "result_message"]
        )


def _sessions_end(user):
    engine = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            engine(session.session_key).delete()


def account_erase(*, user, by):
    """Erase ``user``'s identity everywhere; returns the ``ErasureRecord``.

    Side effects, all in one transaction:
    the user row loses name, addresses, password, roles and permissions and becomes
    inactive; allauth's addresses and MFA authenticators, sessions, the reviewer profile,
    bids, conflicts, notifications and the messages sent to them are deleted; their
    nominations' contact details are blanked; their name and addresses are taken out of
    the history and other people's messages. Invitations to their addresses are
    anonymised (a pending one withdrawn), the emails to those addresses deleted, and the
    spreadsheet rows that named them scrubbed. Reviews, scores, decisions, rationales and
    the invitations they sent stay, attributed to "Reviewer (erased)" or "(erased
    person)".

    Raises ``ErasureRefused`` while they hold open workflow tasks.
    """
    from allauth.account.models import EmailAddress

    User = get_user_model()
    now = timezone.now()
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        if is_erased(user):
            raise NominationError(_("This account is already erased."))
        reasons = erasure_blockers(user=user)
        if reasons:
            raise ErasureRefused(reasons)
        addresses = {
            user.email,
            *EmailAddress.objects.filter(user=user).values_list("email", flat=True),
        }
        needles = [a for a in addresses if a]
        lowered = _addresses(user)
        full_name = user.get_full_name()
        if user.first_name and user.last_name:
            needles.append(full_name)

        for nomination in Nomination.objects.filter(nominator=user, contact_anonymised_at=None):
            _contact_erase(nomination, now=now, reason=_("The nominator's account was erased."))
        ReviewerProfile.objects.filter(user=user).delete()
        Bid.objects.filter(reviewer=user).delete()
        ConflictOfInterest.objects.filter(reviewer=user).delete()
        user.coordinated_countries.clear()
        user.led_calls.clear()
        user.groups.clear()
        user.user_permissions.clear()

        # Messages to them were their copy; kept, they would hold their address and name
        # and serve nobody. What they decided or wrote for others stays, without them.
        DeliveryEvent.objects.filter(Q(message__recipient=user) | Q(recipient__in=needles)).delete()
        Notification.objects.filter(recipient=user).delete()
        Message.objects.filter(recipient=user).delete()
        # Emails to their address alone (invitations, before the account was theirs).
        to_address = Message.objects.filter(recipient__isnull=True, to_email__in=lowered)
        DeliveryEvent.objects.filter(message__in=to_address).delete()
        to_address.delete()
        _invitations_to_erase(addresses=lowered, user=user, now=now)
        _import_rows_scrub(addresses=lowered, needles=needles)
        # A nomination of theirs still under way may cause a message: notify() emails no
        # inactive account, so the placeholder address is never written to.
        Preference.objects.filter(user=user).delete()
        _scrub_others_records(needles=needles, replacement=ERASED_IN_TEXT)

        EmailAddress.objects.filter(user=user).delete()
        if apps.is_installed("allauth.mfa"):
            from allauth.mfa.models import Authenticator

            Authenticator.objects.filter(user=user).delete()
        if apps.is_installed("allauth.usersessions"):
            from allauth.usersessions.models import UserSession

            UserSession.objects.filter(user=user).delete()
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
        ).update(object_repr=erased_email(user.pk))

        user.username = user.email = erased_email(user.pk)
        user.first_name = user.last_name = ""
        user.set_unusable_password()
        user.is_active = user.is_staff = user.is_superuser = False
        user.save()
        _sessions_end(user)
        record = ErasureRecord.objects.create(user=user, erased_at=now, by_admin=by.pk != user.pk)
    logger.info("Account %s erased (by an administrator: %s)", user.pk, record.by_admin)
    return record


# --- retention ---------------------------------------------------------------------------


def retention_due(*, now):
    """Nominations whose contact details are kept no longer: not selected, and the call
    closed more than its ``retention_days`` ago."""
    calls = [
        call.pk
        for call in Call.objects.filter(closes_at__lt=now)
        if call.closes_at + timedelta(days=call.retention_days) <= now
    ]
    not_selected = (
        Q(stage=Nomination.Stage.DRAFT)
        | Q(stage=Nomination.Stage.REJECTED)
        | Q(
            stage=Nomination.Stage.DECIDED, decision__outcome=SelectionDecision.Outcome.NOT_SELECTED
        )
    )
    return Nomination.objects.filter(not_selected, call__in=calls, contact_anonymised_at=None)


def personal_data_retention_sweep(*, now):
    """Erase the contact details that the retention rule no longer allows; returns how many.

    Safe to run twice: a nomination done once is marked ``contact_anonymised_at``.
    """
    done = 0
    for nomination_id in retention_due(now=now).values_list("pk", flat=True):
        with transaction.atomic():
            nomination = (
                retention_due(now=now)
                .select_for_update(of=("self",))
                .filter(pk=nomination_id)
                .first()
            )
            if nomination is None:
                continue  # another run got there first
            _contact_erase(
                nomination,
                now=now,
                reason=_("Retention period over"),
                conflicts_too=True,
            )
            done += 1
    return done


def invitation_retention_days():
    return getattr(settings, "INVITATION_RETENTION_DAYS", INVITATION_RETENTION_DAYS)


def invitations_retention_sweep(*, now):
    """Delete what invitations keep of people once it serves nobody; returns the counts.

    Declined, withdrawn and expired invitations go ``invitation_retention_days()`` after
    they closed, with the emails that carried them; spreadsheet imports as long after they
    finished (or, never confirmed, after they were uploaded), unless a row of theirs asked
    for an invitation still pending (its acceptance reads the row). Accepted invitations
    stay until the account is erased. Safe to run twice: what is gone is not found again.
    Returns ``(invitations, imports)`` deleted.
    """
    cutoff = now - timedelta(days=invitation_retention_days())
    closed = Invitation.objects.filter(
        status__in=[
            Invitation.Status.DECLINED,
            Invitation.Status.WITHDRAWN,
            Invitation.Status.EXPIRED,
        ],
        closed_at__lte=cutoff,
    )
    invitations = 0
    for pk in closed.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            # The emails' keys are "invitation:<pk>:<sending>:<kind>" (services/people.py).
            emails = Message.objects.filter(
                recipient__isnull=True, idempotency_key__startswith=f"invitation:{pk}:"
            )
            DeliveryEvent.objects.filter(message__in=emails).delete()
            emails.delete()
            invitations += closed.filter(pk=pk).delete()[1].get(Invitation._meta.label, 0)
    old = Q(status=InvitationImport.Status.DONE, finished_at__lte=cutoff) | Q(
        status=InvitationImport.Status.CHECKED, created_at__lte=cutoff
    )
    imports = InvitationImport.objects.filter(old).exclude(
        rows__invitation__status=Invitation.Status.PENDING
    )
    deleted_imports = 0
    for pk in imports.values_list("pk", flat=True).distinct():
        deleted_imports += imports.filter(pk=pk).delete()[1].get(InvitationImport._meta.label, 0)
    return invitations, deleted_imports
