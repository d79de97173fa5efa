"""Admins configure calls, countries, themes, rubrics, survey questions and people here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline

from .admin_records import NominationLogMixin, RecordAdminMixin
from .admin_translations import MissingTranslationsMixin, translated_search_fields
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
class CountryAdmin(MissingTranslationsMixin, TranslationAdmin):
    list_display = ["name", "code", "is_partner", "missing_translations_column"]
    list_filter = ["is_partner"]
    filter_horizontal = ["coordinators"]
    search_fields = [*translated_search_fields("name"), "code"]
    fields = ["missing_translations", "name", "code", "is_partner", "coordinators"]
    readonly_fields = ["missing_translations"]


@admin.register(Theme)
class ThemeAdmin(MissingTranslationsMixin, TranslationAdmin):
    list_display = ["name", "is_priority", "missing_translations_column"]
    list_filter = ["is_priority"]
    search_fields = translated_search_fields("name")
    fields = ["missing_translations", "name", "description", "is_priority"]
    readonly_fields = ["missing_translations"]


class SurveyQuestionInline(TranslationStackedInline):
    # Stacked: a question's text, help and choices in five languages are too wide for a row.
    model = SurveyQuestion
    extra = 0
    fields = ["position", "text", "kind", "required", "help_text", "choices"]


@admin.register(Call)
class CallAdmin(MissingTranslationsMixin, TranslationAdmin):
    list_display = [
        "title",
        "opens_at",
        "closes_at",
        "reviewers_per_nomination",
        "missing_translations_column",
    ]
    filter_horizontal = ["themes", "leads", "selection_escalation_people"]
    # The reviewers app adds the rubric's inline in front (reviewers/admin.py).
    inlines = [SurveyQuestionInline]
    readonly_fields = ["missing_translations"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "missing_translations",
                    "title",
                    "description",
                    "languages",
                    "themes",
                    "leads",
                ]
            },
        ),
        (_("Dates"), {"fields": ["opens_at", "closes_at", "time_zone"]}),
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
        (
            _("Reminders"),
            {
                "fields": [
                    "reminder_days",
                    "escalation_grace_days",
                    "selection_escalation_people",
                ]
            },
        ),
        (_("Personal data"), {"fields": ["retention_days"]}),
    ]

    def translated_objects(self, obj):
        # The call's note covers its rubric and survey too, edited on the same page.
        return [obj, *obj.criteria.all(), *obj.questions.all()]


class NominationEventInline(RecordAdminMixin, admin.TabularInline):
    """The history, append-only: shown, never added to, changed or deleted here."""

    model = NominationEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "actor", "actor_role", "outcome_label", "message"]
    readonly_fields = ["created_at", "action", "actor", "actor_role", "outcome_label", "message"]

    def get_readonly_fields(self, request, obj=None):
        # The record's fields as RecordAdminMixin lists them, and the outcome in words.
        fields = list(super().get_readonly_fields(request, obj))
        return fields if "outcome_label" in fields else [*fields, "outcome_label"]

    @admin.display(description=_("outcome"))
    def outcome_label(self, event):
        return event.outcome_display


class AttachmentInline(RecordAdminMixin, admin.TabularInline):
    """Attachments come only through the nominator's form, which checks what they are."""

    model = Attachment
    extra = 0
    readonly_fields = ["original_name", "content_type", "size", "uploaded_by", "uploaded_at"]


@admin.register(Nomination)
class NominationAdmin(NominationLogMixin, RecordAdminMixin, admin.ModelAdmin):
    """A draft's own fields may be corrected here, and the correction goes into its history;
    a submitted nomination changes only through the workflow.
    """

    list_display = ["title", "call", "country", "stage", "nominator", "submitted_at"]
    list_filter = ["call", "stage", "country", "kind"]
    search_fields = ["title", "organisation", "nominator__email"]
    list_select_related = ["call", "country", "nominator"]
    readonly_fields = ["stage", "submitted_at", "nominator", "call", "survey_answers"]
    inlines = [AttachmentInline, NominationEventInline]

    def nomination_of(self, obj):
        return obj

    def is_record(self, obj):
        return obj is not None and obj.stage != Nomination.Stage.DRAFT

    def has_delete_permission(self, request, obj=None):
        # The history outlives nothing it records (NominationEvent.nomination is PROTECT):
        # only a draft without any history may go.
        return (
            obj is not None
            and not obj.events.exists()
            and super().has_delete_permission(request, obj)
        )


@admin.register(SelectionDecision)
class SelectionDecisionAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Decisions are made, proposed and confirmed only in the workflow (four eyes)."""

    list_display = ["nomination", "outcome", "decided_by", "confirmed_by", "decided_at"]
    list_filter = ["outcome"]
