"""Invitations: people brought in by whoever may give them a role, without an administrator.

The life of an invitation (docs/operations.md, "Invitations"):

- ``invitation_create`` writes it and emails the link; it stays *pending* for
  ``INVITATION_VALID_DAYS``. Inviting the same address to the same role again while one is
  pending returns that one: a repeated bulk upload invites nobody twice.
- The invitee *accepts* (``invitation_accept``, or ``invitation_accept_new_account``
  without an account) or *declines* (``invitation_decline``). The link works once, and only
  for the invited address.
- Whoever may give it *resends* it (``invitation_resend``: a new link, the old one dead, a
  fresh period of validity) or *withdraws* it (``invitation_withdraw``).
- ``invitations_remind_and_expire`` (Celery beat) reminds the invitee once,
  ``INVITATION_REMINDER_DAYS`` before the end, and marks the overdue ones *expired*.

Who may invite whom is ``nominations.permissions.may_invite``; every service checks it.
"""

import secrets
from datetime import timedelta

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from nominations.accounts import user_display
from nominations.models import Invitation, InvitationImportRow, Theme
from nominations.permissions import coordinates_country, leads_call, may_invite
from nominations.translation import texts_by_language
from notifications.models import Message, Preference
from notifications.services import language_for, notify_address
from reviewers.models import Expertise, ReviewerProfile, expertise_set

Role = Invitation.Role
Status = Invitation.Status


class InvitationError(ValidationError):
    """An invitation cannot be made or used as asked; the message, translated, says why.

    ``code`` names the reason: ``email``, ``role``, ``place``, ``forbidden``, ``has_role``,
    ``deactivated``, ``language``, ``closed``, ``expired``, ``other_address``.
    """

    def __str__(self):
        return " ".join(str(message) for message in self.messages)


def email_normalise(email):
    """The address as invitations store and compare it: trimmed, in lower case."""
    return (email or "").strip().lower()


def account_for_email(email):
    """The account that ``email`` belongs to (its address or a verified one), or None."""
    User = get_user_model()
    email = email_normalise(email)
    return (
        User.objects.filter(
            Q(email__iexact=email)
            | Q(
                pk__in=EmailAddress.objects.filter(email__iexact=email, verified=True).values(
                    "user"
                )
            )
        )
        .order_by("pk")
        .first()
    )


def is_deactivated(account):
    """Whether ``account`` exists but may not sign in: its owner could never accept."""
    return account is not None and not account.is_active


def deactivated_error():
    return InvitationError(
        _(
            "This address belongs to an account that has been deactivated; ask an "
            "administrator to reactivate it."
        ),
        code="deactivated",
    )


def deactivated_addresses(emails):
    """Which of ``emails`` (normalised) belong to a deactivated account, as a set."""
    emails = {email_normalise(email) for email in emails}
    if not emails:
        return set()
    User = get_user_model()
    found = {
        email_normalise(email)
        for email in User.objects.filter(is_active=False, email__in=emails).values_list(
            "email", flat=True
        )
    }
    found |= {
        email_normalise(email)
        for email in EmailAddress.objects.filter(
            user__is_active=False, email__in=emails, verified=True
        ).values_list("email", flat=True)
    }
    # An address an active account holds is that account's: it may accept.
    active = {
        email_normalise(email)
        for email in User.objects.filter(is_active=True, email__in=found).values_list(
            "email", flat=True
        )
    }
    return found - active


def holds_role(*, user, role, country=None, call=None):
    """Whether ``user`` already has the role an invitation would give."""
    if role == Role.LEAD:
        return leads_call(user=user, call=call)
    if role == Role.COORDINATOR:
        return coordinates_country(user=user, country_id=country.pk)
    return ReviewerProfile.objects.filter(user_id=user.pk).exists()


def _place_check(*, role, country, call):
    if role not in Role.values:
        raise InvitationError(_("Choose a role to invite to."), code="role")
    if role == Role.LEAD and (call is None or country is not None):
        raise InvitationError(_("A lead is invited to a call, and to no country."), code="place")
    if role == Role.COORDINATOR and (country is None or call is not None):
        raise InvitationError(
            _("A national coordinator is invited for a country, and for no call."), code="place"
        )
    if role == Role.REVIEWER and country is None:
        raise InvitationError(_("A reviewer is invited for a country."), code="place")


def invitation_create(*, by, email, role, country=None, call=None, language=None, message=""):
    """Invite ``email`` to ``role``; returns ``(invitation, created)``.

    The stable entry point for one invitation and for bulk imports alike:

    - ``role`` is an ``Invitation.Role``: ``lead`` needs ``call`` (no country);
      ``coordinator`` needs ``country`` (no call); ``reviewer`` needs ``country`` (their
      home country) and may name a ``call``.
    - ``by`` must be allowed to give it (``may_invite``): admins anything, coordinators
      reviewers for their country, leads reviewers for their call.
    - The address is stored trimmed and in lower case. If it belongs to an account, the
      email is in that person's language; otherwise in ``language`` (an interface language
      code), by default the inviter's.
    - While an invitation to the same address, role, country and call is pending, that one
      is returned with ``created`` False, unchanged and not sent again: calling this twice
      (a repeated upload) invites once. One whose time has run out is marked expired and a
      new one is made.
    - Raises ``InvitationError`` (a ``ValidationError``) for an address that is not one, a
      role or place that does not fit, a role ``by`` may not give, an address whose
      account has the role already, or an unknown language.

    The email is written to the outbox in the same transaction and sent after commit.
    """
    email = email_normalise(email)
    try:
        validate_email(email)
    except ValidationError:
        raise InvitationError(
            _("“%(email)s” is not an email address."), code="email", params={"email": email}
        ) from None
    _place_check(role=role, country=country, call=call)
    if not may_invite(user=by, role=role, country=country, call=call):
        raise InvitationError(_("You may not give this role."), code="forbidden")
    account = account_for_email(email)
    if is_deactivated(account):
        raise deactivated_error()
    if account is not None and holds_role(user=account, role=role, country=country, call=call):
        raise InvitationError(
            _("%(email)s has this role already."), code="has_role", params={"email": email}
        )
    # The owner of the address reads their own language; otherwise the inviter chooses.
    language = language_for(account) if account is not None else language or language_for(by)
    if language not in dict(settings.LANGUAGES):
        raise InvitationError(_("Choose one of the site's languages."), code="language")
    now = timezone.now()
    same = Invitation.objects.filter(
        email=email, role=role, country=country, call=call, status=Status.PENDING
    )
    with transaction.atomic():
        pending = same.select_for_update().first()
        if pending is not None and pending.expires_at > now:
            return pending, False
        if pending is not None:
            same.filter(pk=pending.pk).update(status=Status.EXPIRED, closed_at=now)
        invitation = Invitation(
            email=email,
            role=role,
            country=country,
            call=call,
            inviter=by,
            language=language,
            message=(message or "").strip(),
            created_at=now,
            expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
        )
        nonce = _new_link(invitation, now=now)
        try:
            # Two invitations of the same person at the same moment: the second finds the first.
            with transaction.atomic():
                invitation.save()
        except IntegrityError:
            return same.get(), False
        _email(invitation, kind=Message.Kind.INVITATION, nonce=nonce)
    return invitation, True


def _new_link(invitation, *, now):
    """Draw the next sending's link: its hash on the invitation, its nonce returned."""
    nonce = secrets.token_urlsafe(32)
    invitation.token_hash = Invitation.hash_token(Invitation.token_for(nonce))
    invitation.sent_count += 1
    invitation.sent_at = now
    return nonce


def _message_key(invitation, kind):
    return f"invitation:{invitation.pk}:{invitation.sent_count}:{kind}"


def _email(invitation, *, kind, nonce):
    """The invitation's email, or its reminder, in the invitee's language, to the address."""
    context = {
        "nonce": nonce,
        "inviter": user_display(invitation.inviter) if invitation.inviter else "",
        "inviter_email": invitation.inviter.email if invitation.inviter else "",
        "role": invitation.role,
        "personal_message": invitation.message,
        "due_at": invitation.expires_at.isoformat(),
        "time_zone": invitation.call.time_zone if invitation.call else "",
    }
    if invitation.country:
        context["country_i18n"] = texts_by_language(invitation.country, "name")
    if invitation.call:
        context["call_title_i18n"] = texts_by_language(invitation.call, "title")
    return notify_address(
        to_email=invitation.email,
        language=invitation.language,
        kind=kind,
        key=_message_key(invitation, kind),
        context=context,
    )


def token_hash_for(token):
    """What a link's token is looked up by (the token itself is never stored)."""
    return Invitation.hash_token(token or "")


def _locked(invitation):
    return (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("country", "call")
        .get(pk=invitation.pk)
    )


def _open_check(invitation, *, now):
    """Refuse an invitation that is no longer pending, or whose time has run out."""
    if invitation.status == Status.PENDING and invitation.expires_at <= now:
        raise InvitationError(_("This invitation has expired."), code="expired")
    if invitation.status != Status.PENDING:
        raise InvitationError(
            _("This invitation is %(status)s: it cannot be used any more."),
            code="closed",
            params={"status": invitation.get_status_display().lower()},
        )


def address_matches(*, user, email):
    """Whether ``email`` is the account's address, or one of its verified ones."""
    email = email_normalise(email)
    return (
        email_normalise(user.email) == email
        or EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()
    )


def invitation_imported_row(*, invitation):
    """The spreadsheet row that asked for ``invitation`` (the latest, if uploaded twice).

    It holds what the uploader knew of the invitee: name, organisation, expertise themes.
    None when the invitation was made one at a time.
    """
    return (
        InvitationImportRow.objects.filter(invitation_id=invitation.pk)
        .order_by("-batch__created_at", "-pk")
        .first()
    )


def split_name(name):
    """A name as one cell ("Anna Maria Berg") as (first names, last name), to prefill."""
    parts = (name or "").split()
    if len(parts) < 2:
        return " ".join(parts), ""
    return " ".join(parts[:-1]), parts[-1]


def invitation_accept(*, invitation, user, organisation=None):
    """``user`` (whose address it was sent to) takes the role; the invitation is used up.

    A reviewer invitation gives the person a reviewer profile from the invitation's
    country, working at ``organisation``, reading the invitation's language, unless they
    have one already. A profile made here takes what the spreadsheet row that asked for
    the invitation says (``invitation_imported_row``): its organisation when
    ``organisation`` is None, and its expertise themes at the level "experienced"; an
    existing profile is never changed. Raises ``InvitationError`` if it is no longer open
    or was sent to another address. Returns the invitation.
    """
    now = timezone.now()
    with transaction.atomic():
        invitation = _locked(invitation)
        _open_check(invitation, now=now)
        if not address_matches(user=user, email=invitation.email):
            raise InvitationError(
                _("This invitation was sent to another address than your account’s."),
                code="other_address",
            )
        if invitation.role == Role.LEAD:
            invitation.call.leads.add(user)
        elif invitation.role == Role.COORDINATOR:
            invitation.country.coordinators.add(user)
        else:
            row = invitation_imported_row(invitation=invitation)
            if organisation is None:
                organisation = row.organisation if row else ""
            profile, created = ReviewerProfile.objects.get_or_create(
                user=user,
                defaults={
                    "country": invitation.country,
                    "organisation": organisation.strip(),
                    "languages": [invitation.language],
                },
            )
            if created and row is not None and row.theme_ids:
                expertise_set(
                    profile,
                    Theme.objects.filter(pk__in=row.theme_ids),
                    level=Expertise.Level.EXPERIENCED,
                )
        invitation.status = Status.ACCEPTED
        invitation.accepted_by = user
        invitation.closed_at = now
        invitation.save(update_fields=["status", "accepted_by", "closed_at"])
    return invitation


def invitation_accept_new_account(
    *, invitation, first_name, last_name, password, language, organisation=None
):
    """Make the invitee's account with the invited address, verified, and accept with it.

    Following the link proved they receive mail at the address, so it needs no
    confirmation. ``language`` becomes their chosen language. The password is checked by
    the form (Django's validators). Returns the new user.
    """
    User = get_user_model()
    with transaction.atomic():
        _open_check(_locked(invitation), now=timezone.now())
        if account_for_email(invitation.email) is not None:
            raise InvitationError(
                _("An account with this address exists already: sign in to accept."),
                code="has_account",
            )
        user = User(
            username=get_adapter().generate_unique_username(
                [first_name, last_name, invitation.email, "user"]
            ),
            email=invitation.email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
        )
        user.set_password(password)
        user.save()
        EmailAddress.objects.create(user=user, email=invitation.email, verified=True, primary=True)
        Preference.objects.update_or_create(user=user, defaults={"language": language})
        invitation_accept(invitation=invitation, user=user, organisation=organisation)
    return user


def invitation_decline(*, invitation, reason=""):
    """The invitee says no, with a reason if they give one; the link is used up."""
    now = timezone.now()
    with transaction.atomic():
        invitation = _locked(invitation)
        _open_check(invitation, now=now)
        invitation.status = Status.DECLINED
        invitation.decline_reason = (reason or "").strip()
        invitation.closed_at = now
        invitation.save(update_fields=["status", "decline_reason", "closed_at"])
    return invitation


def _manage_check(invitation, by):
    if not may_invite(
        user=by, role=invitation.role, country=invitation.country, call=invitation.call
    ):
        raise InvitationError(_("You may not change this invitation."), code="forbidden")


def invitation_resend(*, invitation, by):
    """Email a pending invitation again, with a new link; the link sent before stops working.

    It is valid for a full ``INVITATION_VALID_DAYS`` from now, and may be reminded again.
    An expired or answered invitation is not resent: invite the person again instead.
    """
    now = timezone.now()
    with transaction.atomic():
        invitation = _locked(invitation)
        _manage_check(invitation, by)
        _open_check(invitation, now=now)
        if is_deactivated(account_for_email(invitation.email)):
            raise deactivated_error()
        nonce = _new_link(invitation, now=now)
        invitation.resent_at = now
        invitation.reminded_at = None
        invitation.expires_at = now + timedelta(days=settings.INVITATION_VALID_DAYS)
        invitation.save(
            update_fields=[
                "token_hash",
                "sent_count",
                "sent_at",
                "resent_at",
                "reminded_at",
                "expires_at",
            ]
        )
        _email(invitation, kind=Message.Kind.INVITATION, nonce=nonce)
    return invitation


def invitation_withdraw(*, invitation, by):
    """Take back a pending invitation: its link then says it was withdrawn."""
    now = timezone.now()
    with transaction.atomic():
        invitation = _locked(invitation)
        _manage_check(invitation, by)
        if invitation.status != Status.PENDING:
            _open_check(invitation, now=now)
        invitation.status = Status.WITHDRAWN
        invitation.closed_at = now
        invitation.save(update_fields=["status", "closed_at"])
    return invitation


def invitations_remind_and_expire(*, now=None):
    """Remind once, ``INVITATION_REMINDER_DAYS`` before the end; mark the overdue expired.

    Safe to run twice or by two beats at once: each reminder is written under the
    invitation's row lock and only while ``reminded_at`` is empty, and its message has a
    key of its own. An invitation sent less than a day ago is not reminded yet (a short
    validity would otherwise remind right after the invitation). The reminder carries the
    same link as the email it reminds of. Returns ``(reminded, expired)`` counts.
    """
    now = now or timezone.now()
    expired = Invitation.objects.filter(status=Status.PENDING, expires_at__lte=now).update(
        status=Status.EXPIRED, closed_at=now
    )
    due = Invitation.objects.filter(
        status=Status.PENDING,
        reminded_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + timedelta(days=settings.INVITATION_REMINDER_DAYS),
        sent_at__lte=now - timedelta(days=1),
    )
    reminded = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            invitation = (
                due.select_for_update(skip_locked=True, of=("self",))
                .select_related("country", "call", "inviter")
                .filter(pk=pk)
                .first()
            )
            if invitation is None:
                continue
            sent = Message.objects.filter(
                idempotency_key=_message_key(invitation, Message.Kind.INVITATION)
            ).first()
            nonce = (sent.context.get("nonce") if sent else "") or ""
            fields = ["reminded_at"]
            if not nonce:
                # Its email is gone (erased with the outbox): the reminder brings a new link.
                nonce = _new_link(invitation, now=now)
                fields += ["token_hash", "sent_count", "sent_at"]
            invitation.reminded_at = now
            invitation.save(update_fields=fields)
            _email(invitation, kind=Message.Kind.INVITATION_REMINDER, nonce=nonce)
            reminded += 1
    return reminded, expired
