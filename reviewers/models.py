"""Reviewer profiles, conflicts of interest, the rubric and the reviews themselves."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from nominations.models import Call, Country, Nomination, Theme


class ReviewerProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_profile"
    )
    country = models.ForeignKey(Country, on_delete=models.PROTECT, verbose_name=_("home country"))
    organisation = models.CharField(_("organisation"), max_length=200)
    expertise = models.ManyToManyField(
        Theme,
        blank=True,
        through="Expertise",
        through_fields=("profile", "theme"),
        verbose_name=_("expertise themes"),
    )
    languages = models.JSONField(
        _("languages read"), default=list, help_text=_('Language codes, e.g. ["en", "fr"].')
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=4, help_text=_("Most open reviews in one call at one time.")
    )
    is_active = models.BooleanField(_("available for new reviews"), default=True)

    class Meta:
        verbose_name = _("reviewer profile")
        verbose_name_plural = _("reviewer profiles")

    def __str__(self):
        return f"{self.user} ({self.country.code})"


class Expertise(models.Model):
    """A theme a reviewer knows, at the level they rate themselves (the matcher weighs it)."""

    class Level(models.IntegerChoices):
        SOME = 1, _("Some knowledge")
        EXPERIENCED = 2, _("Experienced")
        EXPERT = 3, _("Expert")

    profile = models.ForeignKey(
        ReviewerProfile, on_delete=models.CASCADE, related_name="expertise_levels"
    )
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="reviewer_expertise")
    level = models.PositiveSmallIntegerField(
        _("level"), choices=Level.choices, default=Level.EXPERIENCED
    )

    class Meta:
        ordering = ["profile", "-theme__is_priority", "theme__name"]
        verbose_name = _("expertise")
        verbose_name_plural = _("expertise")
        constraints = [
            models.UniqueConstraint(fields=["profile", "theme"], name="one_level_per_theme"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=3),
                name="expertise_level_between_one_and_three",
            ),
        ]

    def __str__(self):
        return f"{self.theme}: {self.get_level_display()}"


def expertise_set(profile, themes, level=Expertise.Level.EXPERIENCED):
    """Give ``profile`` exactly these themes, each at ``level`` (scripts, demo data, tests)."""
    profile.expertise.set(themes, through_defaults={"level": level})
    Expertise.objects.filter(profile=profile).exclude(level=level).update(level=level)


class ProfileChange(models.Model):
    """Who changed what on a reviewer's profile, and when: shown on the profile."""

    profile = models.ForeignKey(ReviewerProfile, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)
    #: [{"field": name, "old": text, "new": text}], the texts as they read when changed.
    changes = models.JSONField(_("changes"), default=list)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("profile change")
        verbose_name_plural = _("profile changes")

    def __str__(self):
        return f"{self.profile} · {self.changed_at:%Y-%m-%d %H:%M}"


class Unavailability(models.Model):
    """A period in which a reviewer cannot take a review (leave, fieldwork)."""

    profile = models.ForeignKey(
        ReviewerProfile, on_delete=models.CASCADE, related_name="unavailable_periods"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["starts_on"]
        verbose_name = _("unavailable period")
        verbose_name_plural = _("unavailable periods")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="unavailability_ends_after_it_starts",
            )
        ]

    def __str__(self):
        return f"{self.profile}: {self.starts_on} – {self.ends_on}"


class Bid(models.Model):
    """A reviewer's wish to review a nomination, where the call allows bidding."""

    class Level(models.IntegerChoices):
        WILLING = 1, _("I could review it")
        EAGER = 2, _("I would like to review it")

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bids"
    )
    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="bids")
    level = models.PositiveSmallIntegerField(_("interest"), choices=Level.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("bid")
        verbose_name_plural = _("bids")
        constraints = [
            models.UniqueConstraint(
                fields=["reviewer", "nomination"], name="one_bid_per_nomination"
            )
        ]

    def __str__(self):
        return f"{self.reviewer} → {self.nomination}: {self.get_level_display()}"


class ConflictOfInterest(models.Model):
    """A reviewer declares they must not review one nomination, or any from one organisation."""

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conflicts"
    )
    nomination = models.ForeignKey(
        Nomination, null=True, blank=True, on_delete=models.CASCADE, related_name="conflicts"
    )
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    declared_at = models.DateTimeField(_("declared"), auto_now_add=True)

    class Meta:
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nomination__isnull=False) | ~models.Q(organisation=""),
                name="conflict_names_a_nomination_or_organisation",
            )
        ]

    def __str__(self):
        return f"{self.reviewer}: {self.nomination or self.organisation}"


class RubricCriterion(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="criteria")
    title = models.CharField(_("criterion"), max_length=120)
    description = models.TextField(_("what reviewers should look for"), blank=True)
    weight = models.DecimalField(_("weight"), max_digits=4, decimal_places=2, default=Decimal(1))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["call", "position", "pk"]
        verbose_name = _("rubric criterion")
        verbose_name_plural = _("rubric criteria")

    def __str__(self):
        return self.title


class Review(models.Model):
    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        DRAFT = "draft", _("Draft saved")
        SUBMITTED = "submitted", _("Submitted")
        DECLINED = "declined", _("Declined")

    OPEN_STATUSES = (Status.ASSIGNED, Status.DRAFT)

    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ASSIGNED
    )
    comment = models.TextField(_("overall comment"), blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )
    assigned_at = models.DateTimeField(_("assigned"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "pk"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            # A reviewer who declined is never asked again for the same nomination.
            models.UniqueConstraint(
                fields=["nomination", "reviewer"], name="one_review_per_reviewer_and_nomination"
            )
        ]
        indexes = [
            # A reviewer's load (their open reviews, in a call) is counted for every reviewer
            # by the pool page and the matcher: from this index, not from every review they
            # ever gave, whose heap pages grow with the programme.
            models.Index(
                fields=["reviewer", "nomination"],
                condition=models.Q(status__in=["assigned", "draft"]),
                name="open_reviews_by_reviewer",
            )
        ]

    def __str__(self):
        return f"{self.nomination} / {self.reviewer}"

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES


class CriterionScore(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(RubricCriterion, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["criterion__position", "criterion_id"]
        verbose_name = _("criterion score")
        verbose_name_plural = _("criterion scores")
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="one_score_per_criterion"),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=1, score__lte=5),
                name="score_between_one_and_five",
            ),
        ]

    def __str__(self):
        return f"{self.criterion}: {self.score}"


class ScoreSummary(models.Model):
    """A nomination's scores on one criterion in its submitted reviews: sum, count, range.

    Derived data, so that the selection board ranks a call from a few rows a nomination
    rather than from every score: ``review_mark_submitted`` adds a review's scores in the
    statement that marks it submitted, and ``score_summaries_rebuild`` recomputes them
    from the raw scores (the migration's backfill, and any path that would ever take a
    submitted review back). A row exists only where at least one score is given.
    """

    nomination = models.ForeignKey(
        Nomination, on_delete=models.CASCADE, related_name="score_summaries"
    )
    criterion = models.ForeignKey(RubricCriterion, on_delete=models.CASCADE, related_name="+")
    total = models.PositiveIntegerField(_("sum of scores"))
    count = models.PositiveIntegerField(_("scores given"))
    high = models.PositiveSmallIntegerField(_("highest score"))
    low = models.PositiveSmallIntegerField(_("lowest score"))

    class Meta:
        verbose_name = _("score summary")
        verbose_name_plural = _("score summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["nomination", "criterion"], name="one_summary_per_criterion"
            )
        ]

    def __str__(self):
        return f"{self.nomination_id} / {self.criterion_id}: {self.total}/{self.count}"
