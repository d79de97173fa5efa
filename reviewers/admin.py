from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .models import ConflictOfInterest, Review, ReviewerProfile


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "country", "organisation", "capacity", "is_active"]
    list_filter = ["country", "is_active", "expertise"]
    search_fields = ["user__email", "organisation"]
    filter_horizontal = ["expertise"]
    autocomplete_fields = ["user"]


@admin.register(ConflictOfInterest)
class ConflictOfInterestAdmin(admin.ModelAdmin):
    list_display = ["reviewer", "nomination", "organisation", "declared_at"]
    search_fields = ["reviewer__email", "organisation"]
    autocomplete_fields = ["reviewer", "nomination"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["nomination", "reviewer", "status", "assigned_at", "submitted_at"]
    list_filter = ["status"]
    list_select_related = ["nomination", "reviewer"]
    readonly_fields = ["nomination", "reviewer", "status", "replaces", "submitted_at"]


class ReviewerProfileInline(admin.StackedInline):
    """Make someone a reviewer from their user page."""

    model = ReviewerProfile
    extra = 0
    filter_horizontal = ["expertise"]


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class UserWithRolesAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, ReviewerProfileInline]
    list_filter = [*UserAdmin.list_filter, "reviewer_profile__country"]
