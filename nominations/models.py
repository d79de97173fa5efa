"""Calls, partner countries, themes, nominations and their history.

Countries, themes, survey questions and rubrics are data edited in the admin:
a fifth partner country or a new theme is an admin action, never a code change.
"""

import base64
import dataclasses
import hashlib
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

#: Languages a nomination may be written in (the call narrows this list).
CONTENT_LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("ca", _("Catalan")),
    ("eu", _("Basque")),
    ("gl", _("Galician")),
    ("fr", _("French")),
    ("lv", _("Latvian")),
    ("sv", _("Swedish")),
]


class Country(models.Model):
    code = models.CharField(_("ISO code"), max_length=2, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_partner = models.BooleanField(
        _("partner country"),
        default=True,
        help_text=_("Nominations can be made only from partner countries."),
    )
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="coordinated_countries",
        verbose_name=_("national coordinators"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self):
        return self.name


class Theme(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_priority = models.BooleanField(
        _("priority theme"),
        default=False,
        help_text=_("Shown first, e.g. spatial segregation and social exclusion."),
    )

    class Meta:
        ordering = ["-is_priority", "name"]
        verbose_name = _("theme")
        verbose_name_plural = _("themes")

    def __str__(self):
        return self.name


def default_reminder_days():
    return [7, 1]


def default_time_zone():
    return settings.TIME_ZONE


def validate_time_zone(value):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)s is not a time zone we know, e.g. Europe/Stockholm."),
            params={"value": value},
        ) from None


class Call(models.Model):
    """One nomination round with its stages' time limits, rubric and survey."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    languages = models.JSONField(
        _("languages"),
        default=list,
        help_text=_('Codes of the languages nominations may be written in, e.g. ["en", "sv"].'),
    )
    themes = models.ManyToManyField(Theme, related_name="calls", verbose_name=_("themes"))
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    # Each stage's deadline is counted from the day its task is created, so a
    # nomination submitted late in the call gets the same time as an early one.
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_(
            "Deadlines are whole days in this time zone: a task is due at the end of its "
            "last day, e.g. Europe/Riga."
        ),
    )
    screening_days = models.PositiveSmallIntegerField(_("days for national screening"), default=14)
    revision_days = models.PositiveSmallIntegerField(
        _("days for the nominator's changes"), default=14
    )
    review_days = models.PositiveSmallIntegerField(_("days for a peer review"), default=21)
    selection_days = models.PositiveSmallIntegerField(_("days for selection"), default=14)
    reviewers_per_nomination = models.PositiveSmallIntegerField(
        _("reviewers per nomination"), default=2, validators=[MinValueValidator(1)]
    )
    leads = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="led_calls", verbose_name=_("leads")
    )
    reminder_days = models.JSONField(
        _("reminders, days before a deadline"),
        default=default_reminder_days,
        help_text=_(
            "Whoever must act is reminded this many days before the deadline, e.g. [7, 1]."
        ),
    )
    selection_finalised_at = models.DateTimeField(_("selection final since"), null=True, blank=True)
    selection_finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("selection made final by"),
    )
    min_selected_per_country = models.PositiveSmallIntegerField(
        _("selected per country, at least"),
        default=0,
        help_text=_("A balance target for the selection board; 0 for none."),
    )
    min_selected_per_theme = models.PositiveSmallIntegerField(
        _("selected per theme, at least"),
        default=0,
        help_text=_("A balance target for the selection board; 0 for none."),
    )
    require_two_leads = models.BooleanField(
        _("two leads decide each selection"),
        default=False,
        help_text=_(
            "Four eyes: one lead proposes each decision and another confirms it or sends it "
            "back; no lead decides alone."
        ),
    )
    assign_in_bulk = models.BooleanField(
        _("assign reviewers in bulk"),
        default=False,
        help_text=_(
            "Accepted nominations wait for a coordinator to assign the whole call's "
            "reviewers at once, instead of getting them on acceptance."
        ),
    )
    bidding_enabled = models.BooleanField(
        _("reviewers may bid"),
        default=False,
        help_text=_(
            "Reviewers may say which nominations they would like to review; the matching "
            "prefers them when expertise and load are equal."
        ),
    )
    escalation_grace_days = models.PositiveSmallIntegerField(
        _("days overdue before escalating"),
        default=3,
        help_text=_(
            "An overdue review or nominator's change is then reported to the national "
            "coordinators, an overdue screening or search for reviewers to the leads, an "
            "overdue selection to the people named below."
        ),
    )
    selection_escalation_people = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="selection_escalations",
        verbose_name=_("overdue selections go to"),
        help_text=_(
            "Who follows up a selection still overdue after the grace period. "
            "If nobody is named, the site's administrators."
        ),
    )
    retention_days = models.PositiveIntegerField(
        _("days to keep contact details"),
        default=730,
        help_text=_(
            "After the call closes, the contact details of practices that were not "
            "selected (not selected, not accepted at screening, never submitted) are "
            "erased once this many days have passed. Selected practices keep theirs."
        ),
    )

    class Meta:
        ordering = ["-opens_at"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="call_closes_after_it_opens",
            )
        ]

    def __str__(self):
        return self.title

    def is_open(self, now=None):
        now = now or timezone.now()
        return self.opens_at <= now < self.closes_at

    def language_choices(self):
        names = dict(CONTENT_LANGUAGES)
        return [(code, names.get(code, code)) for code in self.languages]


class SurveyQuestion(models.Model):
    class Kind(models.TextChoices):
        SHORT_TEXT = "short_text", _("Short text")
        LONG_TEXT = "long_text", _("Long text")
        SINGLE_CHOICE = "single_choice", _("Single choice")
        MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
        NUMBER = "number", _("Number")
        YES_NO = "yes_no", _("Yes or no")

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    required = models.BooleanField(_("required"), default=False)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("One choice per line, for the choice kinds.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["call", "position", "pk"]
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")

    def __str__(self):
        return self.text

    @property
    def choice_list(self):
        """The choices in the active language (English where not translated)."""
        return _lines(self.choices)

    @property
    def choice_pairs(self):
        """(stored value, label) per choice: answers keep the English line, in any language.

        Each language lists the same choices in the same order; a translation that lists
        a different number of them is not used.
        """
        values = _lines(getattr(self, "choices_en", None) or self.choices)
        labels = self.choice_list
        if len(labels) != len(values):
            labels = values
        return list(zip(values, labels, strict=True))

    def choice_label(self, value):
        """A stored answer as the reader's language says it."""
        return dict(self.choice_pairs).get(value, value)


def _lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class Nomination(models.Model):
    """A best practice put forward in a call.

    A draft may be half-filled; completeness is checked when it is submitted
    (nominations.services.nomination_missing_fields).
    """

    class Kind(models.TextChoices):
        TOOL = "tool", _("Tool")
        METHOD = "method", _("Method")
        PROGRAMME = "programme", _("Programme")
        APPROACH = "approach", _("Approach")

    class Sector(models.TextChoices):
        PUBLIC = "public", _("Public")
        PRIVATE = "private", _("Private")
        CIVIL_SOCIETY = "civil_society", _("Civil society")

    class Stage(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCREENING = "screening", _("National screening")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        REVIEW = "review", _("Peer review")
        SELECTION = "selection", _("Selection")
        REJECTED = "rejected", _("Not accepted")
        DECIDED = "decided", _("Decided")

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="nominations")
    nominator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="nominations"
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.DRAFT, db_index=True
    )

    title = models.CharField(_("title of the practice"), max_length=200)
    kind = models.CharField(_("kind of practice"), max_length=20, choices=Kind.choices, blank=True)
    country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="nominations",
        verbose_name=_("country"),
    )
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    organisation_sector = models.CharField(
        _("organisation's sector"), max_length=20, choices=Sector.choices, blank=True
    )
    themes = models.ManyToManyField(
        Theme, blank=True, related_name="nominations", verbose_name=_("themes")
    )
    language = models.CharField(_("language it is written in"), max_length=8, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    english_summary = models.TextField(
        _("summary in English"),
        blank=True,
        help_text=_("Required when the nomination is not written in English."),
    )
    problem = models.TextField(_("problem it addresses"), blank=True)
    target_group = models.TextField(_("target group"), blank=True)
    results = models.TextField(_("results and evidence"), blank=True)
    year_started = models.PositiveSmallIntegerField(
        _("year started"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
    )
    transferability = models.TextField(_("transferability to other countries"), blank=True)
    links = models.TextField(_("links"), blank=True, help_text=_("One address per line."))
    conflicts_declared = models.TextField(
        _("who should not review it"),
        blank=True,
        help_text=_(
            "Organisations or people with a conflict of interest, one per line: an "
            "organisation's name or a person's email address. They will not be asked to review."
        ),
    )
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    consent_to_publish = models.BooleanField(
        _("consent to publish"),
        default=False,
        help_text=_("The practice may appear in the public knowledge hub if selected."),
    )
    #: When the nominator gave consent, and the words they agreed to, as the form showed them.
    publication_consent_at = models.DateTimeField(
        _("consent to publish given"), null=True, blank=True
    )
    publication_consent_text = models.TextField(_("consent text agreed to"), blank=True)
    #: Set once the contact details were erased (retention period over, or the nominator
    #: erased their account); the retention sweep skips these.
    contact_anonymised_at = models.DateTimeField(_("contact details erased"), null=True, blank=True)
    survey_answers = models.JSONField(_("survey answers"), default=dict, blank=True)
    # The form carries a one-time token so that a double click or a resent
    # POST finds the draft it already created instead of making a second one.
    client_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")

    def __str__(self):
        return self.title

    @property
    def is_editable_by_nominator(self):
        """Only drafts and nominations sent back for changes may be edited."""
        return self.stage in {self.Stage.DRAFT, self.Stage.CHANGES_REQUESTED}

    @property
    def language_name(self):
        return dict(CONTENT_LANGUAGES).get(self.language, self.language)

    @property
    def next_step(self):
        """What happens next, as the nominator reads it; empty once the journey has ended."""
        return NEXT_STEP.get(self.stage, "")

    @property
    def link_list(self):
        return [line.strip() for line in self.links.splitlines() if line.strip()]


#: What happens next at each stage, as the nominator reads it.
NEXT_STEP = {
    Nomination.Stage.DRAFT: _("Complete your nomination and submit it before the call closes."),
    Nomination.Stage.SCREENING: _("Your country's national coordinator screens the nomination."),
    Nomination.Stage.CHANGES_REQUESTED: _("Make the requested changes and submit again."),
    Nomination.Stage.REVIEW: _("Peer reviewers from other partner countries score the nomination."),
    Nomination.Stage.SELECTION: _("The project leads decide on the selection."),
}


def attachment_upload_to(attachment, filename):
    """Store under a random name: the nominator's file name is kept in ``original_name``.

    An unguessable path means a leaked or guessed URL finds nothing, and a name chosen
    by the uploader never reaches the file system.
    """
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.original_name


class SelectionDecision(models.Model):
    class Outcome(models.TextChoices):
        TRANSNATIONAL = "transnational", _("Selected for the transnational showcase")
        NATIONAL = "national", _("Selected for the national showcase")
        NOT_SELECTED = "not_selected", _("Not selected")

    nomination = models.OneToOneField(Nomination, on_delete=models.CASCADE, related_name="decision")
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    rationale = models.TextField(_("rationale"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    #: The second lead, where the call requires two.
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    decided_at = models.DateTimeField(_("decided"), default=timezone.now)

    class Meta:
        verbose_name = _("selection decision")
        verbose_name_plural = _("selection decisions")
        constraints = [
            # Four eyes, kept by the database too: whatever path writes a decision
            # (the flow, the admin, a script), no lead confirms their own proposal.
            models.CheckConstraint(
                condition=models.Q(confirmed_by__isnull=True)
                | ~models.Q(confirmed_by=models.F("decided_by")),
                name="decision_confirmed_by_another_lead",
            ),
        ]

    def __str__(self):
        return f"{self.nomination}: {self.get_outcome_display()}"


class SelectionProposal(models.Model):
    """A lead's proposed decision, waiting for a second lead where the call needs two."""

    nomination = models.OneToOneField(
        Nomination, on_delete=models.CASCADE, related_name="selection_proposal"
    )
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=SelectionDecision.Outcome.choices
    )
    rationale = models.TextField(_("rationale"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    #: Goes up with every change to the proposal. A confirmation names the version the
    #: second lead saw, so a proposal changed in between is never confirmed unseen.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("proposed decision")
        verbose_name_plural = _("proposed decisions")

    def __str__(self):
        return f"{self.nomination}: {self.get_outcome_display()} ({self.proposed_by})"


class PublishedPractice(models.Model):
    """A selected practice as the public knowledge hub shows it.

    The public text starts as a copy of the nomination's (its English summary when
    it has one) and is then the coordinators' to edit; it shows only while
    ``is_published`` and the nominator's consent to publish both hold.
    """

    nomination = models.OneToOneField(
        Nomination, on_delete=models.CASCADE, related_name="published_practice"
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"))
    results = models.TextField(_("results and evidence"), blank=True)
    transferability = models.TextField(_("transferability to other countries"), blank=True)
    links = models.TextField(_("links"), blank=True, help_text=_("One address per line."))
    is_published = models.BooleanField(_("published"), default=False)
    first_published_at = models.DateTimeField(_("first published"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    #: Every version's title, summary and results (the original's and each translation's)
    #: in lowercase without accents, kept by ``practice_search_index``: what the search
    #: matches words against on any database (``darbnica`` finds ``darbnīca``).
    search_text = models.TextField(blank=True, editable=False)
    #: The same versions as a PostgreSQL full-text vector, each stemmed in its own
    #: language; empty on other databases.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-first_published_at", "-pk"]
        verbose_name = _("published practice")
        verbose_name_plural = _("published practices")
        indexes = [
            models.Index(fields=["is_published", "-first_published_at"]),
            GinIndex(fields=["search_vector"], name="published_practice_search"),
        ]

    def __str__(self):
        return self.title

    @property
    def link_list(self):
        return [line.strip() for line in self.links.splitlines() if line.strip()]

    @property
    def language(self):
        """The language the public text was first written in: the nomination's."""
        return self.nomination.language or settings.LANGUAGE_CODE

    def versions(self):
        """The original text first, then each translation, as ``PracticeText``.

        Reads ``translations`` through the prefetch cache when there is one.
        """
        original = PracticeText(
            language=self.language,
            title=self.title,
            summary=self.summary,
            results=self.results,
            results_language=self.language,
            transferability=self.transferability,
            transferability_language=self.language,
            is_original=True,
        )
        return [original] + [
            version.as_text(original)
            for version in self.translations.all()
            if version.language != original.language
        ]

    def version_in(self, language):
        """The text in ``language`` where it exists, else the original."""
        versions = self.versions()
        return next((v for v in versions if v.language == language), versions[0])


@dataclasses.dataclass(frozen=True)
class PracticeText:
    """One language's version of a practice's public text.

    A translation may leave results or transferability empty: the original's are shown
    then, in the original language (``results_language``, ``transferability_language``).
    """

    language: str
    title: str
    summary: str
    results: str
    results_language: str
    transferability: str
    transferability_language: str
    is_original: bool = False


class PublishedPracticeTranslation(models.Model):
    """A coordinator's translation of a practice's public text into an interface language.

    Our own table rather than modeltranslation columns: the original is in the
    nomination's language, which may be none of the interface languages (Catalan,
    Basque), and a visitor whose language is missing reads the original, not English.
    """

    practice = models.ForeignKey(
        PublishedPractice, on_delete=models.CASCADE, related_name="translations"
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"))
    results = models.TextField(_("results and evidence"), blank=True)
    transferability = models.TextField(_("transferability to other countries"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["language"]
        verbose_name = _("translation of a published practice")
        verbose_name_plural = _("translations of published practices")
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "language"], name="one_translation_per_language"
            )
        ]

    def __str__(self):
        return f"{self.practice_id} {self.language}"

    def as_text(self, original):
        return PracticeText(
            language=self.language,
            title=self.title,
            summary=self.summary,
            results=self.results or original.results,
            results_language=self.language if self.results else original.language,
            transferability=self.transferability or original.transferability,
            transferability_language=(self.language if self.transferability else original.language),
        )


class NominationEvent(models.Model):
    """One recorded action on a nomination: who, what, when, outcome and reason."""

    class Action(models.TextChoices):
        CREATED = "created", _("Draft started")
        SUBMITTED = "submitted", _("Submitted")
        RESUBMITTED = "resubmitted", _("Resubmitted with changes")
        SCREENING_ACCEPTED = "screening_accepted", _("Accepted for peer review")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        REJECTED = "rejected", _("Not accepted at screening")
        REVIEWERS_ASSIGNED = "reviewers_assigned", _("Peer review started")
        REVIEW_SUBMITTED = "review_submitted", _("Review submitted")
        REVIEW_DECLINED = "review_declined", _("Review declined")
        REVIEWER_REPLACED = "reviewer_replaced", _("Replacement reviewer assigned")
        NO_REVIEWER_AVAILABLE = "no_reviewer_available", _("No eligible reviewer available")
        REVIEWER_ADDED_BY_HAND = "reviewer_added_by_hand", _("Reviewer assigned by a coordinator")
        REVIEWER_REMOVED = "reviewer_removed", _("Reviewer removed by a coordinator")
        REVIEWERS_SETTLED = "reviewers_settled", _("Peer review goes on with fewer reviewers")
        REVIEWS_COMPLETE = "reviews_complete", _("Peer review complete")
        DECIDED = "decided", _("Selection decided")
        DECISION_PROPOSED = "decision_proposed", _("Decision proposed by a lead")
        DECISION_RETURNED = "decision_returned", _("Proposed decision sent back by a lead")
        PUBLISHED = "published", _("Published in the knowledge hub")
        UNPUBLISHED = "unpublished", _("Taken out of the knowledge hub")
        PUBLIC_TEXT_EDITED = "public_text_edited", _("Public text edited")
        PUBLIC_TEXT_TRANSLATED = "public_text_translated", _("Public text translated")
        ADMIN_CHANGED = "admin_changed", _("Changed by an administrator")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent to publication withdrawn")
        CONTACT_ERASED = "contact_erased", _("Contact details erased")

    #: Steps a nominator sees in their timeline; review-level steps would
    #: reveal how many people reviewed and when, so they stay with staff.
    NOMINATOR_VISIBLE = frozenset(
        {
            Action.CREATED,
            Action.SUBMITTED,
            Action.RESUBMITTED,
            Action.SCREENING_ACCEPTED,
            Action.CHANGES_REQUESTED,
            Action.REJECTED,
            Action.REVIEWERS_ASSIGNED,
            Action.REVIEWS_COMPLETE,
            Action.DECIDED,
            Action.PUBLISHED,
            Action.UNPUBLISHED,
            Action.CONSENT_WITHDRAWN,
            Action.CONTACT_ERASED,
        }
    )

    class Role(models.TextChoices):
        NOMINATOR = "nominator", _("Nominator")
        COORDINATOR = "coordinator", _("National coordinator")
        REVIEWER = "reviewer", _("Reviewer")
        LEAD = "lead", _("Lead")
        ADMIN = "admin", _("Administrator")
        SYSTEM = "system", _("Nomflow")

    # The history is append-only: a nomination with a history cannot be deleted.
    nomination = models.ForeignKey(Nomination, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    message = models.TextField(_("reason or message"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("nomination event")
        verbose_name_plural = _("nomination history")

    def __str__(self):
        return f"{self.nomination_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_visible_to_nominator(self):
        return self.action in self.NOMINATOR_VISIBLE

    @property
    def outcome_display(self):
        """The outcome as the reader's language says it.

        A selection outcome is stored as its code (``transnational``) and an edit of the
        public text as the names of the fields edited, so that the history is read in
        the reader's language, not in the language of whoever acted.
        """
        if self.action in SELECTION_EVENT_ACTIONS and self.outcome in SelectionDecision.Outcome:
            return SelectionDecision.Outcome(self.outcome).label
        if self.action == self.Action.PUBLIC_TEXT_EDITED and self.outcome:
            return ", ".join(_public_field_name(name) for name in self.outcome.split(", "))
        if self.action == self.Action.PUBLIC_TEXT_TRANSLATED and ": " in self.outcome:
            # "fr: title, summary", or "fr: " for a translation taken away.
            code, names = self.outcome.split(": ", 1)
            language = translation.gettext(get_language_info(code)["name"])
            fields = ", ".join(_public_field_name(name) for name in names.split(", ") if name)
            return f"{language}: {fields or _('translation taken away')}"
        return self.outcome


#: History steps whose outcome is a ``SelectionDecision.Outcome`` code.
SELECTION_EVENT_ACTIONS = frozenset(
    {
        NominationEvent.Action.DECIDED,
        NominationEvent.Action.DECISION_PROPOSED,
        NominationEvent.Action.DECISION_RETURNED,
    }
)


def _public_field_name(name):
    try:
        return str(PublishedPractice._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


class ErasureRecord(models.Model):
    """That an account was erased, when and on whose request; the identity itself is gone.

    The user row stays (history, reviews and decisions point at it) but holds no name,
    address or password any more; this row is the proof that the erasure was done.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="erasure"
    )
    erased_at = models.DateTimeField(_("erased"), default=timezone.now)
    by_admin = models.BooleanField(
        _("done by an administrator"),
        default=False,
        help_text=_("False when the person erased their own account."),
    )

    class Meta:
        ordering = ["-erased_at"]
        verbose_name = _("erased account")
        verbose_name_plural = _("erased accounts")

    def __str__(self):
        return f"#{self.user_id} {self.erased_at:%Y-%m-%d}"


def default_invitation_expiry():
    return timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)


class Invitation(models.Model):
    """Someone asked by email to take a role: lead of a call, coordinator, reviewer.

    The link's token is never stored. Each sending draws a random ``nonce``, kept only in
    the outbox message; the token is an HMAC of it under ``SECRET_KEY`` (``token_for``),
    and the invitation keeps the token's SHA-256 (``token_hash``). Neither a copy of the
    database nor the outbox therefore opens an invitation, and a new sending (a resend)
    replaces the hash, so the link sent before stops working. The rules live in
    ``workflow/services/people.py``.
    """

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead of a call")
        COORDINATOR = "coordinator", _("National coordinator")
        REVIEWER = "reviewer", _("Reviewer")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Expired")

    #: The key salt of the links' HMAC: another salt would make other tokens.
    TOKEN_SALT = "nomflow.invitation.token"  # noqa: S105 - a name, not a secret

    email = models.EmailField(_("email"), help_text=_("Stored in lower case."))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    country = models.ForeignKey(
        Country,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("country"),
    )
    call = models.ForeignKey(
        Call,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("call"),
    )
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="invitations_sent",
        verbose_name=_("invited by"),
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    message = models.TextField(_("personal message"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), default=default_invitation_expiry)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    #: When it stopped being pending: accepted, declined, withdrawn or expired.
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_accepted",
        verbose_name=_("accepted by"),
    )
    token_hash = models.CharField(max_length=64, unique=True)
    sent_count = models.PositiveSmallIntegerField(_("times sent"), default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    resent_at = models.DateTimeField(_("sent again"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            # Inviting again while one is pending finds that one (a repeated bulk upload).
            # NULLs count as equal here, which a plain unique constraint would not do.
            models.UniqueConstraint(
                "email",
                "role",
                Coalesce("country", 0),
                Coalesce("call", 0),
                condition=models.Q(status="pending"),
                name="one_pending_invitation_per_role",
            ),
            # A lead leads a call; a coordinator a country; a reviewer is from a country,
            # and may be asked for one call.
            models.CheckConstraint(
                condition=(
                    models.Q(role="lead", call__isnull=False, country__isnull=True)
                    | models.Q(role="coordinator", country__isnull=False, call__isnull=True)
                    | models.Q(role="reviewer", country__isnull=False)
                ),
                name="invitation_role_has_its_place",
            ),
        ]
        indexes = [
            # The daily job's query: pending invitations by expiry.
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="pending"),
                name="invitation_pending_expiry",
            ),
        ]

    def __str__(self):
        return f"{self.email}: {self.get_role_display()}"

    @classmethod
    def token_for(cls, nonce):
        """The link's token for a sending's ``nonce``: URL-safe, 43 characters."""
        digest = salted_hmac(cls.TOKEN_SALT, nonce, algorithm="sha256").digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    @staticmethod
    def hash_token(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def place(self):
        """What the role is for: the call, the country, or both (a reviewer for a call)."""
        return " · ".join(str(place) for place in (self.country, self.call) if place)


class InvitationImport(models.Model):
    """A spreadsheet of people to invite, as checked at upload and as carried out.

    Uploading only checks and stores the rows with what each would do; nothing is sent
    until the uploader confirms. Each row is carried out once (its ``done_at``), so a
    second confirm, a retried task or the same file uploaded again invites nobody twice.
    """

    class Status(models.TextChoices):
        CHECKED = "checked", _("Checked, waiting for confirmation")
        RUNNING = "running", _("Sending invitations")
        DONE = "done", _("Done")

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="invitation_imports",
        verbose_name=_("uploaded by"),
    )
    file_name = models.CharField(_("file name"), max_length=255)
    #: SHA-256 of the file's bytes: the same file uploaded again is recognised.
    content_hash = models.CharField(max_length=64, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.CHECKED
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invitation import")
        verbose_name_plural = _("invitation imports")

    def __str__(self):
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class InvitationImportRow(models.Model):
    """One row of an uploaded spreadsheet: what it asks, what it will do, what it did."""

    class Outcome(models.TextChoices):
        NEW = "new", _("New invitation")
        ROLE_ADDED = "role_added", _("Role added to an existing person")
        ALREADY_INVITED = "already_invited", _("Already invited")
        ERROR = "error", _("Error")

    batch = models.ForeignKey(InvitationImport, on_delete=models.CASCADE, related_name="rows")
    #: The row's number in the spreadsheet (the header is row 1).
    number = models.PositiveIntegerField(_("row"))
    #: The cells as written, by column key (``email``, ``role``, ``country``…).
    cells = models.JSONField(default=dict)
    email = models.CharField(_("email"), max_length=254, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=20, blank=True)
    country = models.ForeignKey(Country, null=True, blank=True, on_delete=models.SET_NULL)
    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL)
    language = models.CharField(_("language"), max_length=8, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    theme_ids = models.JSONField(default=list)
    planned = models.CharField(_("planned"), max_length=20, choices=Outcome.choices)
    #: Why the row cannot be carried out: ``[{"code": …, "params": {…}}]``, worded when shown.
    errors = models.JSONField(default=list)
    done_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(_("result"), max_length=20, choices=Outcome.choices, blank=True)
    result_message = models.TextField(blank=True)
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["batch", "number"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="one_import_row_per_number")
        ]

    def __str__(self):
        return f"{self.batch_id}:{self.number} {self.email}"
