from django.contrib import admin
from modeltranslation.admin import TranslationStackedInline

from nominations.admin import CallAdmin
from nominations.admin_records import NominationLogMixin, RecordAdminMixin

from .models import (
    Bid,
    ConflictOfInterest,
    Expertise,
    ProfileChange,
    Review,
    ReviewerProfile,
    RubricCriterion,
    Unavailability,
)


class RubricCriterionInline(TranslationStackedInline):
    model = RubricCriterion
    extra = 0
    fields = ["position", "title", "description", "weight"]


# A call is edited with its rubric; the rubric belongs to reviewing, so it joins from here.
CallAdmin.inlines = [RubricCriterionInline, *CallAdmin.inlines]


class UnavailabilityInline(admin.TabularInline):
    model = Unavailability
    extra = 0


class ExpertiseInline(admin.TabularInline):
    model = Expertise
    extra = 0


class ProfileChangeInline(admin.TabularInline):
    """The profile's change log, as the profile page shows it: read-only."""

    model = ProfileChange
    extra = 0
    fields = ["changed_at", "changed_by", "changes"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "country", "organisation", "capacity", "is_active"]
    list_filter = ["country", "is_active", "expertise"]
    search_fields = ["user__email", "organisation"]
    autocomplete_fields = ["user"]
    inlines = [ExpertiseInline, UnavailabilityInline, ProfileChangeInline]


@admin.register(Bid)
class BidAdmin(NominationLogMixin, admin.ModelAdmin):
    list_display = ["reviewer", "nomination", "level", "updated_at"]
    list_filter = ["level", "nomination__call"]
    search_fields = ["reviewer__email", "nomination__title"]
    autocomplete_fields = ["reviewer", "nomination"]


@admin.register(ConflictOfInterest)
class ConflictOfInterestAdmin(NominationLogMixin, admin.ModelAdmin):
    list_display = ["reviewer", "nomination", "organisation", "declared_at"]
    search_fields = ["reviewer__email", "organisation"]
    autocomplete_fields = ["reviewer", "nomination"]


@admin.register(Review)
class ReviewAdmin(NominationLogMixin, RecordAdminMixin, admin.ModelAdmin):
    """A submitted or declined review, and its scores, are the record: read-only here."""

    list_display = ["nomination", "reviewer", "status", "assigned_at", "submitted_at"]
    list_filter = ["status"]
    list_select_related = ["nomination", "reviewer"]
    readonly_fields = ["nomination", "reviewer", "status", "replaces", "submitted_at"]

    def is_record(self, obj):
        return obj is not None and not obj.is_open

    def has_delete_permission(self, request, obj=None):
        # Reviews are assigned and removed by the workflow, which keeps their tasks in step.
        return False


class ReviewerProfileInline(admin.StackedInline):
    """Make someone a reviewer from their user page."""

    model = ReviewerProfile
    extra = 0
    exclude = ["expertise"]
    show_change_link = True  # expertise and unavailable periods: on the profile's own page
