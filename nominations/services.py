"""Writes to nominations that do not move the workflow: drafts, attachments, history.

Actions that move a nomination through its process (submit, screen, review,
select) are in workflow.services; they call the helpers here.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .models import (
    Attachment,
    Nomination,
    NominationEvent,
    PublishedPractice,
    PublishedPracticeTranslation,
    SelectionDecision,
)
from .search import search_text_for, search_vector_for, uses_full_text_search

#: Fields a nomination must have before it can be submitted.
REQUIRED_FOR_SUBMISSION = (
    "title",
    "kind",
    "country",
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


class NominationError(Exception):
    """A rule of the nomination process refused the action; the message says which."""


def event_record(*, nomination, action, actor=None, role, outcome="", message=""):
    """Append to the history. ``outcome`` is a code or data (an address, field names),
    never words in someone's language: ``NominationEvent.outcome_display`` words it."""
    return NominationEvent.objects.create(
        nomination=nomination,
        action=action,
        actor=actor,
        actor_role=role,
        outcome=str(outcome),
        message=message,
    )


@transaction.atomic
def nomination_create(*, call, nominator, fields, themes, survey_answers, client_token=None):
    """Start a draft; returns ``(nomination, created)``.

    With a ``client_token`` seen before (a double click, a resent form) the
    earlier draft is returned and nothing new is created.
    """
    if client_token is not None:
        existing = Nomination.objects.filter(client_token=client_token, nominator=nominator).first()
        if existing is not None:
            return existing, False
    if not call.is_open():
        raise NominationError(_("This call is closed; nominations can no longer be made."))
    if call.selection_finalised_at is not None:
        raise NominationError(
            _("The selection of this call is final; nominations can no longer be made.")
        )
    nomination = Nomination(
        call=call,
        nominator=nominator,
        client_token=client_token,
        survey_answers=survey_answers,
        **fields,
    )
    # Consent and themes go in with the draft itself: no UPDATE after the INSERT, and
    # no read of themes a new draft cannot have yet.
    _publication_consent_changed(nomination, given_before=False)
    nomination.save(force_insert=True)
    nomination.themes.add(*themes)
    event_record(
        nomination=nomination,
        action=NominationEvent.Action.CREATED,
        actor=nominator,
        role=NominationEvent.Role.NOMINATOR,
    )
    return nomination, True


@transaction.atomic
def nomination_update(*, nomination, by, fields, themes, survey_answers):
    nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
    if nomination.nominator_id != by.pk:
        raise NominationError(_("Only the nominator can edit this nomination."))
    if not nomination.is_editable_by_nominator:
        raise NominationError(_("This nomination is under review and can no longer be edited."))
    given_before = nomination.consent_to_publish
    for name, value in fields.items():
        setattr(nomination, name, value)
    nomination.survey_answers = survey_answers
    _publication_consent_changed(nomination, given_before=given_before)
    nomination.save()
    nomination.themes.set(themes)
    return nomination


def publication_consent_text():
    """The words beside the consent box, in the language the nominator reads the form in."""
    field = Nomination._meta.get_field("consent_to_publish")
    return f"{capfirst(field.verbose_name)}: {field.help_text}"


def _publication_consent_changed(nomination, *, given_before):
    """Record when consent was given and the words agreed to; forget both when it is taken back.

    Returns whether anything changed (the caller saves).
    """
    if nomination.consent_to_publish and not given_before:
        nomination.publication_consent_at = timezone.now()
        nomination.publication_consent_text = publication_consent_text()
        return True
    if not nomination.consent_to_publish and nomination.publication_consent_at is not None:
        nomination.publication_consent_at = None
        nomination.publication_consent_text = ""
        return True
    return False


@transaction.atomic
def publication_consent_withdraw(*, nomination, by):
    """The nominator takes back consent to publication: the practice leaves the hub at once.

    Records the withdrawal, and the unpublishing where the practice was public, in the
    nomination's history. The public text is kept (coordinators may need it should consent
    be given again), but ``hub_practices`` never shows a practice without consent.
    """
    nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
    if nomination.nominator_id != by.pk:
        raise NominationError(_("Only the nominator can withdraw consent to publication."))
    if not nomination.consent_to_publish:
        raise NominationError(_("Consent to publication has already been withdrawn."))
    nomination.consent_to_publish = False
    nomination.publication_consent_at = None
    nomination.publication_consent_text = ""
    nomination.save(
        update_fields=[
            "consent_to_publish",
            "publication_consent_at",
            "publication_consent_text",
            "updated_at",
        ]
    )
    role = NominationEvent.Role.NOMINATOR
    event_record(
        nomination=nomination, action=NominationEvent.Action.CONSENT_WITHDRAWN, actor=by, role=role
    )
    practice = PublishedPractice.objects.filter(nomination=nomination, is_published=True).first()
    if practice is not None:
        practice.is_published = False
        practice.save(update_fields=["is_published", "updated_at"])
        event_record(
            nomination=nomination, action=NominationEvent.Action.UNPUBLISHED, actor=by, role=role
        )
    return nomination


def nomination_attach(*, nomination, by, upload, content_type):
    """Store an uploaded file; its size and type were checked by the form."""
    if not nomination.is_editable_by_nominator:
        raise NominationError(_("Attachments can only be added while the nomination is editable."))
    return Attachment.objects.create(
        nomination=nomination,
        file=upload,
        original_name=upload.name[:255],
        content_type=content_type,
        size=upload.size,
        uploaded_by=by,
    )


def nomination_missing(nomination):
    """What still has to be filled in before the nomination can be submitted.

    Returns the names of the model fields left empty and the required survey
    questions left unanswered. The submit check and the form's section list both ask
    it, so a section shown complete is one the submit check will not refuse.
    """
    fields = [name for name in REQUIRED_FOR_SUBMISSION if getattr(nomination, name) in (None, "")]
    if not nomination.themes.exists():
        fields.append("themes")
    if nomination.language and nomination.language != "en" and not nomination.english_summary:
        fields.append("english_summary")
    answers = nomination.survey_answers
    questions = [
        question
        for question in nomination.call.questions.all()
        if question.required and answers.get(str(question.pk)) in (None, "", [])
    ]
    return fields, questions


def nomination_missing_fields(nomination):
    """Labels of what still has to be filled in before the nomination can be submitted."""
    fields, questions = nomination_missing(nomination)
    return [str(Nomination._meta.get_field(name).verbose_name) for name in fields] + [
        question.text for question in questions
    ]


# --- the public knowledge hub ------------------------------------------------------------

SHOWCASE_OUTCOMES = (
    SelectionDecision.Outcome.TRANSNATIONAL,
    SelectionDecision.Outcome.NATIONAL,
)
#: The public text a coordinator edits; each change is recorded with the fields it touched.
PUBLIC_FIELDS = ("title", "summary", "results", "transferability", "links")


def practice_publishable(nomination):
    """Why ``nomination`` may not appear in the hub, or "" if it may."""
    decision = getattr(nomination, "decision", None)
    if decision is None or decision.outcome not in SHOWCASE_OUTCOMES:
        return _("Only practices selected for a showcase are published.")
    if not nomination.consent_to_publish:
        return _("The nominator did not consent to publication.")
    return ""


class PublicTextChanged(NominationError):
    """The page was drawn from a version of the public text that is no longer current."""

    def __init__(self, message=None):
        super().__init__(
            message
            or _(
                "Another coordinator changed this practice a moment ago; "
                "here is the text as it stands now."
            )
        )


def practice_version(practice_or_translation):
    """What a page sends back to say which version it was drawn from ("" before the first).

    ``updated_at`` changes with every write, so a page drawn from an older version is
    told (``PublicTextChanged``) rather than silently overwriting what came since.
    """
    if practice_or_translation is None or practice_or_translation.pk is None:
        return ""
    return practice_or_translation.updated_at.isoformat()


def _public_text_lock(nomination):
    """Serialise every write to one practice's public text on its nomination's row.

    Create, save, publish, unpublish and translate all take this lock first, then read
    the practice: so the row is created once, and each event is decided from the state
    as it really is (the same lock ``publication_consent_withdraw`` takes). The
    nomination is read again under the lock (consent, decision, cached practice).
    """
    nomination.refresh_from_db(from_queryset=Nomination.objects.select_for_update())


def practice_draft(nomination):
    """The public text as it stands, or a first draft copied from the nomination."""
    existing = PublishedPractice.objects.filter(nomination=nomination).first()
    if existing is not None:
        return existing
    # The public text is in the nomination's own language (its original, which
    # translations follow); an English summary is offered for the English translation.
    if nomination.language in ("", "en"):
        summary = nomination.english_summary.strip() or nomination.summary
    else:
        summary = nomination.summary or nomination.english_summary
    return PublishedPractice(
        nomination=nomination,
        title=nomination.title,
        summary=summary,
        results=nomination.results,
        transferability=nomination.transferability,
        links=nomination.links,
    )


@transaction.atomic
def practice_save(*, nomination, by, fields, publish=None, version=None):
    """Save the public text; ``publish`` True or False publishes or takes it out.

    Every change is recorded in the nomination's history with who made it; "published"
    and "unpublished" only when the state really changes. ``version`` is what the
    coordinator's page was drawn from (``practice_version``); if another coordinator
    wrote since, nothing is saved and ``PublicTextChanged`` says so. None skips the check.
    """
    _public_text_lock(nomination)
    reason = practice_publishable(nomination)
    practice = practice_draft(nomination)
    existed = practice.pk is not None
    if version is not None and version != practice_version(practice):
        raise PublicTextChanged()
    # Text is kept only for what may be published; what is out may still be taken down.
    if reason and (publish or not existed):
        raise NominationError(reason)
    changed = [name for name in PUBLIC_FIELDS if getattr(practice, name) != fields[name]]
    for name in PUBLIC_FIELDS:
        setattr(practice, name, fields[name])
    was_published = practice.is_published
    if publish is not None:
        practice.is_published = publish
    if existed and not changed and practice.is_published == was_published:
        return practice
    if practice.is_published and practice.first_published_at is None:
        practice.first_published_at = timezone.now()
    practice.save()
    if changed or not existed:
        practice_search_index(practice=practice)
    role = NominationEvent.Role.COORDINATOR
    if changed and existed:
        event_record(
            nomination=nomination,
            action=NominationEvent.Action.PUBLIC_TEXT_EDITED,
            actor=by,
            role=role,
            outcome=", ".join(changed),
        )
    if practice.is_published != was_published:
        event_record(
            nomination=nomination,
            action=NominationEvent.Action.PUBLISHED
            if practice.is_published
            else NominationEvent.Action.UNPUBLISHED,
            actor=by,
            role=role,
        )
    return practice


#: What a translation of the public text holds.
TRANSLATED_FIELDS = ("title", "summary", "results", "transferability")


def practice_translation_draft(practice, language):
    """The translation of ``practice`` into ``language`` as it stands, or a new empty one.

    A new English translation starts from the nominator's English summary.
    """
    existing = practice.translations.filter(language=language).first()
    if existing is not None:
        return existing
    summary = practice.nomination.english_summary if language == "en" else ""
    return PublishedPracticeTranslation(practice=practice, language=language, summary=summary)


@transaction.atomic
def practice_translation_save(*, practice, language, by, fields, version=None):
    """Add or change the translation of a practice's public text into ``language``.

    A translation with neither title nor summary is taken away. The change is recorded
    in the nomination's history (language and fields), and the search copies rebuilt.
    ``version`` is the translation's as the page was drawn (``practice_version``); if
    another coordinator wrote since, nothing is saved and ``PublicTextChanged`` says so.
    """
    _public_text_lock(practice.nomination)
    if language == practice.language or language not in dict(settings.LANGUAGES):
        raise NominationError(_("The public text cannot be translated into this language."))
    translation = practice_translation_draft(practice, language)
    existed = translation.pk is not None
    if version is not None and version != practice_version(translation):
        raise PublicTextChanged(
            _(
                "Another coordinator changed this translation a moment ago; "
                "here is the translation as it stands now."
            )
        )
    if not fields["title"].strip() and not fields["summary"].strip():
        if not existed:
            return None
        translation.delete()
        changed, translation = [], None
    else:
        changed = [name for name in TRANSLATED_FIELDS if getattr(translation, name) != fields[name]]
        if not changed:
            return translation
        for name in TRANSLATED_FIELDS:
            setattr(translation, name, fields[name])
        translation.save()
    practice_search_index(practice=practice)
    event_record(
        nomination=practice.nomination,
        action=NominationEvent.Action.PUBLIC_TEXT_TRANSLATED,
        actor=by,
        role=NominationEvent.Role.COORDINATOR,
        outcome=f"{language}: {', '.join(changed)}",
    )
    return translation


def practice_search_index(*, practice):
    """Rebuild the search copies of all the practice's versions (``nominations.search``)."""
    versions = practice.versions()
    values = {"search_text": search_text_for(versions)}
    if uses_full_text_search():
        values["search_vector"] = search_vector_for(versions)
    PublishedPractice.objects.filter(pk=practice.pk).update(**values)
