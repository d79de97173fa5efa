"""Telling people: the outbox, its sending, and in-site notifications.

``notify`` writes a ``Message`` (and a ``Notification``) in the caller's
transaction and dispatches its sending after commit. The send re-reads the
row under a lock and does nothing unless it is still pending, so a retry, a
redelivery or a sweep never sends it twice; the sweep sends whatever a broker
outage kept from being dispatched.
"""

import contextlib
import logging
import secrets
import threading
from datetime import datetime, timedelta
from functools import lru_cache, partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from kombu.exceptions import BatchPublishError, OperationalError

from config.compiled import CompiledRead, CompiledUpdate
from config.site import absolute_url
from nominations.models import Invitation

from .models import Message, Notification, Preference
from .sending import EmailSession

logger = logging.getLogger(__name__)

#: Attempts before a message is marked failed and shown as such to staff.
MAX_ATTEMPTS = 6


def preference_for(user):
    preference, _created = Preference.objects.get_or_create(user=user)
    return preference


def language_for(user):
    return preference_for(user).email_language


def _initial_status(*, kind, recipient, preference):
    # A deactivated account (an erased one among them) is emailed nothing at all.
    if not recipient.is_active or preference.bounced_at is not None:
        return Message.Status.SKIPPED
    if kind in Message.ESSENTIAL_KINDS:
        return Message.Status.PENDING
    if not preference.email_non_essential:
        return Message.Status.SKIPPED
    if preference.delivery == Preference.Delivery.DAILY and kind != Message.Kind.DIGEST:
        return Message.Status.HELD_FOR_DIGEST
    return Message.Status.PENDING


def notify(*, recipient, kind, key, context, path="", in_site=True):
    """Record a message for ``recipient`` and send it once the transaction commits.

    ``key`` identifies the message among all others: calling ``notify`` twice
    with the same key records and sends it once. Returns the message, or None
    inside ``outbox_batch``, which writes it with the step's other messages.
    """
    wanted = {
        "recipient": recipient,
        "kind": kind,
        "key": key,
        "context": context,
        "path": path,
        "in_site": in_site,
    }
    batch = getattr(_batches, "open", None)
    if batch is not None:
        batch.append(wanted)
        return None
    written = messages_write([wanted])
    if written:
        return written[0]
    # Written before (a retry, or another run at the same moment): that one stands.
    return Message.objects.get(idempotency_key=key)


def notify_address(*, to_email, language, kind, key, context):
    """Record a message to an address that may have no account yet (an invitation), and
    send it once the transaction commits.

    It is always emailed, in ``language``: without an account there is no preference,
    bounce mark or in-site notification to consult. ``key`` makes it once only, as with
    ``notify``; returns the message.
    """
    with translation.override(language):
        subject = render_to_string(
            f"notifications/email/{kind}_subject.txt", email_links(context, language=language)
        ).strip()
    message, created = Message.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "kind": kind,
            "to_email": to_email,
            "language": language,
            "subject": subject[:300],
            "context": context,
        },
    )
    if created:
        transaction.on_commit(partial(message_dispatch, message_id=message.pk))
    return message


_batches = threading.local()


@contextlib.contextmanager
def outbox_batch():
    """Collect every ``notify`` of the block and write them together as it ends.

    A workflow step tells several people (the nominator, a pool of coordinators, each
    new reviewer); one batch writes all of their messages in three statements. Leaving
    the block with an exception writes nothing. Nested batches join the outermost.
    """
    if getattr(_batches, "open", None) is not None:
        yield
        return
    _batches.open = []
    try:
        yield
        wanted = _batches.open
    finally:
        _batches.open = None
    messages_write(wanted)


def messages_write(wanted, *, stored_contexts=None):
    """Write messages (dicts of ``notify``'s arguments) at once; returns those new.

    Each recipient's preference is read once for all their messages (and created on
    their first). The messages go in one ``INSERT … ON CONFLICT DO NOTHING`` on the
    idempotency key, so a key written before — or by a transaction committing at the
    same moment — is skipped without a savepoint; their in-site notifications go in
    one more statement, and each pending message is dispatched after commit.

    ``stored_contexts`` (PostgreSQL only) is SQL and its parameters selecting
    ``(idempotency key, context as jsonb)``: the contexts to store are then built by the
    database, for a writer whose contexts list thousands of rows that Python need never
    hold (the reminder sweep). Each message's given ``context`` then serves its subject
    alone, and a message whose key the query does not select is not written.
    """
    if not wanted:
        return []
    recipients = {item["recipient"].pk: item["recipient"] for item in wanted}
    preferences = {p.user_id: p for p in Preference.objects.filter(user_id__in=recipients)}
    missing = [Preference(user=user) for pk, user in recipients.items() if pk not in preferences]
    if missing:
        Preference.objects.bulk_create(missing, ignore_conflicts=True)
        preferences.update({p.user_id: p for p in missing})
    messages, titles = [], {}
    for item in wanted:
        recipient, kind, path = item["recipient"], item["kind"], item["path"]
        preference = preferences[recipient.pk]
        language = preference.email_language
        # Paths only: links are made absolute when the email is rendered (``email_links``).
        context = {**item["context"], "path": path}
        with translation.override(language):
            subject = render_to_string(
                f"notifications/email/{kind}_subject.txt",
                {**_subject_links(context, language=language), "recipient": recipient},
            ).strip()
        messages.append(
            Message(
                idempotency_key=item["key"],
                kind=kind,
                recipient=recipient,
                to_email=recipient.email,
                language=language,
                subject=subject[:300],
                context=context,
                status=_initial_status(kind=kind, recipient=recipient, preference=preference),
            )
        )
        if item["in_site"]:
            titles[item["key"]] = (subject, path)
    # The same key twice in one batch is one message, as two calls of ``notify`` would be.
    messages = list({message.idempotency_key: message for message in reversed(messages)}.values())
    messages.reverse()
    ids = _messages_insert_new(messages, stored_contexts=stored_contexts)
    written = [message for message in messages if message.idempotency_key in ids]
    for message in written:
        message.pk = ids[message.idempotency_key]
        message._state.adding = False
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=message.recipient,
                message=message,
                title=titles[message.idempotency_key][0],
                path=titles[message.idempotency_key][1],
            )
            for message in written
            if message.idempotency_key in titles
        ]
    )
    # One dispatch for the lot: many messages go out in batches (``messages_dispatch``).
    pending = [message.pk for message in written if message.status == Message.Status.PENDING]
    if pending:
        transaction.on_commit(partial(messages_dispatch, message_ids=pending))
    return written


def _messages_insert_new(messages, *, stored_contexts=None):
    """INSERT the messages, skipping keys already written; returns {key: id} of the new ones.

    With ``stored_contexts`` (see ``messages_write``) the rows' other values come as
    typed VALUES and each context from the query, joined on the key.
    """
    fields = [field for field in Message._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    key = quote(Message._meta.get_field("idempotency_key").column)
    context = Message._meta.get_field("context")
    if stored_contexts is not None:
        fields.remove(context)
    columns = ", ".join(quote(field.column) for field in fields)
    if stored_contexts is None:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        source = f"VALUES {', '.join([row] * len(messages))}"
    else:
        # VALUES in a SELECT carry no column types: each parameter is cast to its column's.
        row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields)
        values = ", ".join([row + ", %s::integer)"] * len(messages))
        names = ", ".join(f"value.{quote(field.column)}" for field in fields)
        sql, context_params = stored_contexts
        source = (
            f"SELECT {names}, stored.context FROM (VALUES {values}) "  # noqa: S608
            f"AS value({columns}, position) JOIN ({sql}) AS stored(key, context) "
            f"ON stored.key = value.{key} ORDER BY value.position"
        )
        columns = f"{columns}, {quote(context.column)}"
    # Only quoted names from the model's options go into the text; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(Message._meta.db_table)} ({columns}) {source} "
        f"ON CONFLICT ({key}) DO NOTHING "
        f"RETURNING {quote(Message._meta.pk.column)}, {key}"
    )
    params = []
    for position, message in enumerate(messages):
        params.extend(
            field.get_db_prep_save(field.pre_save(message, add=True), connection)
            for field in fields
        )
        if stored_contexts is not None:
            params.append(position)
    if stored_contexts is not None:
        params.extend(context_params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {key: pk for pk, key in cursor.fetchall()}


#: One quick retry, not kombu's default of three: while the broker is down each dispatch
#: would otherwise hold up the request that caused it, and the sweep sends the message anyway.
DISPATCH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1}


def message_dispatch(*, message_id):
    """Queue the send; with the broker down the message waits for the sweep."""
    from .tasks import send_message

    try:
        send_message.apply_async((message_id,), retry_policy=DISPATCH_RETRY)
    except OperationalError:
        logger.warning("Broker unavailable; message %s waits for the sweep", message_id)


def messages_dispatch(*, message_ids):
    """Queue the sends of one commit's messages; with the broker down they wait for the sweep.

    A few messages (one person's action telling a handful of people) are queued one task
    each, so the worker's processes send them side by side at once. From
    ``EMAIL_SEND_BATCH_MIN`` messages on (a reminder sweep, a call's closing), they go in
    tasks of up to ``EMAIL_SEND_BATCH`` each: one task and one connection for many
    messages, where Celery's cost per task would otherwise outweigh the send itself.

    Either way the commit's tasks are handed to the broker together: one producer, its
    publishes buffered (kombu's ``Producer.batch``) and written to Redis in one pipeline,
    rather than a client and a round trip for each task. A failure while handing them
    over (the broker down, or the pipeline cut short) is logged and left to the sweep:
    the messages are pending rows, and a task queued after all finds them sent or sends
    them once (``message_send`` locks the row and sends only a pending one).
    """
    from .tasks import send_message, send_messages

    message_ids = list(message_ids)
    if len(message_ids) == 1:
        message_dispatch(message_id=message_ids[0])
        return
    if len(message_ids) < settings.EMAIL_SEND_BATCH_MIN:
        calls = [(send_message, (message_id,)) for message_id in message_ids]
    else:
        size = settings.EMAIL_SEND_BATCH
        calls = [
            (send_messages, (message_ids[start : start + size],))
            for start in range(0, len(message_ids), size)
        ]
    if not calls:
        return
    try:
        with send_message.app.producer_or_acquire() as producer, producer.batch():
            for task, args in calls:
                task.apply_async(args, producer=producer, retry_policy=DISPATCH_RETRY)
    except OperationalError:
        logger.warning("Broker unavailable; messages %s wait for the sweep", message_ids)
    except BatchPublishError:
        # The pipeline has no retry of its own (a stale pooled connection, cut mid-way):
        # each task once more with the usual retry before the sweep. One queued twice is
        # still sent once: its send locks the pending row and sends only a pending one.
        try:
            for task, args in calls:
                task.apply_async(args, retry_policy=DISPATCH_RETRY)
        except OperationalError:
            logger.warning("Broker unavailable; messages %s wait for the sweep", message_ids)


def due_date(value, *, language, time_zone=""):
    """A due date (an ISO datetime) as the recipient reads it: the call's day, their words.

    The day is counted in ``time_zone`` (the call's, stored with the message), or the
    site's for messages written without one.
    """
    return _due_date(value, language, time_zone or settings.TIME_ZONE)


@lru_cache(maxsize=4096)
def _due_date(value, language, time_zone):
    # Deadlines fall at the end of a day: a reminder sweep listing thousands of tasks meets
    # a few dozen distinct ones, each formatted once.
    zone = ZoneInfo(time_zone)
    moment = timezone.localtime(datetime.fromisoformat(value), zone)
    with translation.override(language):
        return date_format(moment, "DATE_FORMAT")


def _item_links(item, *, language):
    item = dict(item)
    if item.get("due_at"):
        item["due"] = due_date(
            item["due_at"], language=language, time_zone=item.get("time_zone", "")
        )
    # An escalated task links to its nomination (if the reader may open it); a digest's
    # item to its update. An item stored with an absolute ``url`` only keeps it.
    if "nomination_path" in item:
        item["url"] = absolute_url(item["nomination_path"]) if item["nomination_path"] else ""
    elif "path" in item and "url" not in item:
        item["url"] = absolute_url(item["path"])
    return item


def email_links(context, *, language):
    """A message's stored context with its links absolute and its due dates readable.

    Links come from ``SITE_URL`` as it is now. Messages written before paths were
    stored alone keep the absolute ``url`` they were written with.
    """
    context = {**context, "settings_url": absolute_url(reverse("notifications:preferences"))}
    # Reference data stored in every language (``call_title_i18n``: {code: text}) is read
    # in the recipient's, English where the recipient's is missing.
    for name in [name for name in context if name.endswith("_i18n")]:
        texts = context[name]
        context[name.removesuffix("_i18n")] = texts.get(language) or texts.get("en", "")
    if "path" in context:
        context["url"] = absolute_url(context["path"])
    if context.get("due_at"):
        context["due"] = due_date(
            context["due_at"], language=language, time_zone=context.get("time_zone", "")
        )
    for name in ("tasks", "items"):
        if name in context:
            context[name] = [_item_links(item, language=language) for item in context[name]]
    return context


def _subject_links(context, *, language):
    """``email_links`` for a subject, which reads a list's length and its first item only.

    A reminder lists every task its recipient holds: the thousands of items a sweep
    writes need no readable dates or links for a subject that counts them.
    """
    short = {name: value[:1] for name in ("tasks", "items") if (value := context.get(name))}
    linked = email_links({**context, **short}, language=language)
    for name in short:
        linked[name] = [*linked[name], *context[name][1:]]
    return linked


def render_email(message):
    context = {
        **email_links(message.context, language=message.language),
        "recipient": message.recipient,
        "subject": message.subject,
        # Templates that format dates or pick words by language read it from here.
        "LANGUAGE_CODE": message.language,
    }
    with translation.override(message.language):
        text = render_to_string(f"notifications/email/{message.kind}.txt", context)
        html = render_to_string(f"notifications/email/{message.kind}.html", context)
    return text, html


class _OutboxEmail(EmailMultiAlternatives):
    """An email of the outbox, its MIME boundary drawn here rather than by the email package.

    For every multipart message the package draws a boundary and compiles a regular
    expression to check that no part holds it: about 0.1 ms, a twentieth of a worker's CPU
    for each message it sends. A boundary as random as the package's, checked against the
    two texts with a plain substring test (stricter than the package's line-start match), is
    as safe; in the unlikely case a text holds it, the package draws its own as before.
    """

    def message(self, *args, **kwargs):
        # Arguments passed on: newer Django's SMTP backend asks for a policy.
        email = super().message(*args, **kwargs)
        boundary = f"{'=' * 15}{secrets.randbelow(10**19):019d}=="
        texts = [self.body, *(alternative[0] for alternative in self.alternatives)]
        # With attachments the outer part is multipart/mixed, holding more than the texts
        # checked here: the email package draws and checks that boundary itself.
        if (
            email.is_multipart()
            and not self.attachments
            and not any(boundary in text for text in texts)
        ):
            email.set_boundary(boundary)
        return email


def _email_build(message):
    text, html = render_email(message)
    email = _OutboxEmail(
        subject=message.subject,
        body=text,
        to=[message.to_email],
        headers={"X-Nomflow-Message": message.idempotency_key},
    )
    email.attach_alternative(html, "text/html")
    return email


def _backoff(attempts):
    """1, 2, 4, 8, 16 minutes… capped at six hours."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


def _undeliverable(message):
    """Whether the recipient can no longer be emailed: an account since deactivated (or
    erased), or an address that bounced after the message was written."""
    if message.recipient_id is None:  # an address alone (``notify_address``): always sent
        return False
    if not message.recipient.is_active:
        return True
    preference = getattr(message.recipient, "notification_preference", None)
    return preference is not None and preference.bounced_at is not None


#: The message ``message_id`` if it is still pending, locked for its send, with its recipient
#: and their preferences (``_undeliverable``). One statement, compiled once per process:
#: Django building it afresh for every message took about a fifth of a worker's time.
_message_locked = CompiledRead(
    lambda message_id: (
        # Lock only the message, and only against other writers of it: locking the joined
        # user row, or taking a full UPDATE lock, would make a send skip whenever another
        # transaction touched that user or inserted a row pointing at the message (a
        # sign-in, a new task, a tracking event). A message another send holds is skipped,
        # not waited for: that send marks it.
        Message.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
        .select_related("recipient", "recipient__notification_preference")
        .filter(pk=message_id, status=Message.Status.PENDING)
        # By primary key: one row at most, no ORDER BY (the model's default) needed.
        .order_by()
    )
)


#: What a send writes when the provider took the message: the one write of every send,
#: compiled once per process (``save(update_fields=…)`` builds it anew each time).
_SENT_FIELDS = ("attempts", "status", "sent_at", "last_error", "provider_message_id")
_message_mark_sent = CompiledUpdate(Message, _SENT_FIELDS)


def message_send(*, message_id, now=None, session=None):
    """Send one pending message; returns its status afterwards (or None if gone).

    The row stays locked while the provider is called and is marked sent in the same
    short transaction, so two workers (a task and the sweep, or a redelivered task)
    never send the same message, and a crash can repeat at most the one message whose
    send it interrupted. ``session`` (an ``EmailSession``) is the connection to send on,
    kept open across messages; without one the message gets a connection of its own.
    """
    now = now or timezone.now()
    with transaction.atomic():
        message = _message_locked(message_id)
        if message is None:
            return None
        if _undeliverable(message):
            message.status = Message.Status.SKIPPED
            message.save(update_fields=["status"])
            return message.status
        message.attempts += 1
        try:
            # Rendering is inside the try: a template error is a failure staff must see,
            # not an exception that leaves the message pending for ever.
            email = _email_build(message)
            if session is None:
                email.send()
            else:
                session.send(email)
        except Exception as error:  # any provider failure is retried, then shown to staff
            message.last_error = f"{type(error).__name__}: {error}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = Message.Status.FAILED
                logger.error("Message %s failed for good: %s", message.pk, message.last_error)
            else:
                message.next_attempt_at = now + _backoff(message.attempts)
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return message.status
        status = getattr(email, "anymail_status", None)
        message.provider_message_id = (status.message_id or "") if status else ""
        message.status = Message.Status.SENT
        message.sent_at = now
        message.last_error = ""
        marked = _message_mark_sent(
            message.pk, **{name: getattr(message, name) for name in _SENT_FIELDS}
        )
        if marked != 1:  # as save() would: a row gone under the send is an error, not "sent"
            raise DatabaseError(f"Message {message.pk} was not marked sent: its row is gone.")
        return message.status


def messages_sweep(*, now=None, limit=500, session=None):
    """Send what is pending and due: dispatches lost to an outage, and retries.

    One connection serves the whole sweep (``messages_send``).
    """
    now = now or timezone.now()
    due = Message.objects.filter(status=Message.Status.PENDING, next_attempt_at__lte=now).order_by(
        "next_attempt_at"
    )
    return messages_send(
        message_ids=list(due.values_list("pk", flat=True)[:limit]), now=now, session=session
    )


def messages_send(*, message_ids, now=None, session=None):
    """Send a batch of messages on one connection; returns how many were sent.

    Each is locked, sent and marked in its own transaction (``message_send``), so a crash
    part-way leaves the rest pending for their redelivery or the sweep, and repeats at
    most the message whose send it interrupted.
    """
    sent = 0
    with contextlib.ExitStack() as stack:
        if session is None:
            session = stack.enter_context(EmailSession())
        for message_id in message_ids:
            if message_send(message_id=message_id, now=now, session=session) == Message.Status.SENT:
                sent += 1
    return sent


#: Messages that carry an invitation's link.
INVITATION_KINDS = (Message.Kind.INVITATION, Message.Kind.INVITATION_REMINDER)


class ResendRefused(Exception):
    """A message that must not go out again as it is; the text says why and what to do."""


def _invitation_link_works(message, *, now):
    """Whether the invitation link in ``message`` would still open a pending invitation.

    Each sending of an invitation draws a link of its own and kills the previous one, and
    a used, withdrawn or expired invitation opens nothing: sent again as it is, such an
    email would carry a link that leads nowhere.
    """
    nonce = message.context.get("nonce") or ""
    return Invitation.objects.filter(
        token_hash=Invitation.hash_token(Invitation.token_for(nonce)),
        status=Invitation.Status.PENDING,
        expires_at__gt=now,
    ).exists()


def message_resend(*, message):
    """Staff ask for a failed (or sent) message to go out again.

    Raises ``ResendRefused`` for an invitation whose link no longer works: a new link is
    drawn by resending the invitation itself, from the invitations page.
    """
    now = timezone.now()
    if message.kind in INVITATION_KINDS and not _invitation_link_works(message, now=now):
        raise ResendRefused(
            _(
                "This invitation's link no longer works: the invitation was sent again "
                "since, or it was accepted, declined, withdrawn or has expired. To invite "
                "the person again, use the invitations page, which sends a new link."
            )
        )
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.PENDING, next_attempt_at=timezone.now(), attempts=0
    )
    transaction.on_commit(lambda: message_dispatch(message_id=message.pk))


def bounce_clear(*, user):
    """Staff confirm an address works again (corrected, or the mailbox fixed): email resumes."""
    Preference.objects.filter(user=user).update(bounced_at=None, bounce_reason="")


def notifications_mark_read(*, user, notification_ids=None):
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())


def task_assigned_notify(*, task, nomination, node, recipients):
    """Tell whoever must act (a person, or every member of a pool) about a new task."""
    with outbox_batch():
        for user in recipients:
            notify(
                recipient=user,
                kind=Message.Kind.TASK_ASSIGNED,
                key=f"task:{task.pk}:{user.pk}",
                context={
                    "node": node,
                    "nomination_title": nomination.title,
                    "nomination_id": nomination.pk,
                    "country": nomination.country.name if nomination.country_id else "",
                    "due_at": task.scheduled.isoformat() if task.scheduled else "",
                    "time_zone": nomination.call.time_zone,
                },
                path=f"/tasks/{task.pk}/",
            )


def nominator_notify(*, nomination, kind, key, message="", outcome="", resubmitted=False):
    """Tell the nominator about a change they care about; ``key`` makes it once only.

    ``resubmitted`` words the receipt of a submission for changes made on request.
    """
    notify(
        recipient=nomination.nominator,
        kind=kind,
        key=f"nomination:{nomination.pk}:{key}",
        context={
            "nomination_title": nomination.title,
            "nomination_id": nomination.pk,
            "message": message,
            "outcome": str(outcome),
            **({"resubmitted": True} if resubmitted else {}),
        },
        path=f"/nominations/{nomination.pk}/",
    )


#: Tracking events that change what staff see about a message or an address.
TRACKED_EVENTS = {"delivered", "bounced", "complained", "rejected", "failed"}


def delivery_event_record(
    *, event_id, event_type, provider_message_id, recipient, occurred_at, description
):
    """Apply one provider event once: update the message; a bounce marks its recipient.

    Only an event about a message Nomflow sent, to the address it was sent to, changes
    anything: a bounce naming some other message or address is recorded for staff to
    read and otherwise ignored, so a forged or misrouted event cannot stop anyone's email.
    """
    from .models import DeliveryEvent

    message = (
        Message.objects.select_related("recipient")
        .filter(provider_message_id=provider_message_id)
        .first()
        if provider_message_id
        else None
    )
    if message is not None and message.to_email.lower() != recipient.lower():
        message = None
    DeliveryEvent.objects.create(
        event_id=event_id,
        event_type=event_type,
        message=message,
        recipient=recipient,
        occurred_at=occurred_at or timezone.now(),
        description=description[:2000],
    )
    if event_type not in TRACKED_EVENTS or message is None:
        return
    message.delivery_status = event_type
    message.delivery_updated_at = occurred_at or timezone.now()
    message.save(update_fields=["delivery_status", "delivery_updated_at"])
    if event_type in {"bounced", "complained", "rejected"} and message.recipient_id:
        preference = preference_for(message.recipient)
        preference.bounced_at = occurred_at or timezone.now()
        preference.bounce_reason = f"{event_type}: {description}"[:300]
        preference.save(update_fields=["bounced_at", "bounce_reason"])
