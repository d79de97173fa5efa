"""Admins configure calls, countries, themes, rubrics, survey questions and people here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from reviewers.models import RubricCriterion

from . import privacy_admin  # noqa: F401 - registers the erased accounts' list
from .models import (
    Attachment,
    Call,
    Country,
    Nomination,
    NominationEvent,
    SelectionDecision,
    SurveyQuestion,
    Theme,
)


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_partner"]
    list_filter = ["is_partner"]
    filter_horizontal = ["coordinators"]
    search_fields = ["name", "code"]


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "is_priority"]
    list_filter = ["is_priority"]
    search_fields = ["name"]


class SurveyQuestionInline(admin.TabularInline):
    model = SurveyQuestion
    extra = 0
    fields = ["position", "text", "kind", "required", "help_text", "choices"]


class RubricCriterionInline(admin.TabularInline):
    model = RubricCriterion
    extra = 0
    fields = ["position", "title", "description", "weight"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["title", "opens_at", "closes_at", "reviewers_per_nomination"]
    filter_horizontal = ["themes", "leads"]
    inlines = [RubricCriterionInline, SurveyQuestionInline]
    fieldsets = [
        (None, {"fields": ["title", "description", "languages", "themes", "leads"]}),
        (_("Dates"), {"fields": ["opens_at", "closes_at"]}),
        (
            _("Stages"),
            {
                "fields": [
                    "screening_days",
                    "revision_days",
                    "review_days",
                    "selection_days",
                ]
            },
        ),
        (
            _("Reviewer matching"),
            {"fields": ["reviewers_per_nomination", "assign_in_bulk", "bidding_enabled"]},
        ),
        (
            _("Selection"),
            {
                "fields": [
                    "require_two_leads",
                    "min_selected_per_country",
                    "min_selected_per_theme",
                ]
            },
        ),
        (_("Reminders"), {"fields": ["reminder_days", "escalation_grace_days"]}),
        (_("Personal data"), {"fields": ["retention_days"]}),
    ]


class NominationEventInline(admin.TabularInline):
    model = NominationEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "action", "actor", "actor_role", "outcome", "message"]

    def has_add_permission(self, request, obj=None):
        return False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    readonly_fields = ["original_name", "content_type", "size", "uploaded_by", "uploaded_at"]


@admin.register(Nomination)
class NominationAdmin(admin.ModelAdmin):
    """Read-mostly: a submitted nomination changes only through the workflow."""

    list_display = ["title", "call", "country", "stage", "nominator", "submitted_at"]
    list_filter = ["call", "stage", "country", "kind"]
    search_fields = ["title", "organisation", "nominator__email"]
    list_select_related = ["call", "country", "nominator"]
    readonly_fields = ["stage", "submitted_at", "nominator", "call", "survey_answers"]
    inlines = [AttachmentInline, NominationEventInline]


@admin.register(SelectionDecision)
class SelectionDecisionAdmin(admin.ModelAdmin):
    list_display = ["nomination", "outcome", "decided_by", "decided_at"]
    list_filter = ["outcome"]
    readonly_fields = ["nomination", "outcome", "rationale", "decided_by", "decided_at"]
