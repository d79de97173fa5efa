"""The admin pieces that span apps: people with their roles and personal-data actions,
and viewflow's processes and tasks, read-only (they change only as the flow runs)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from viewflow.workflow.admin import ProcessAdmin, TaskAdmin
from viewflow.workflow.models import Process, Task

from nominations.admin_records import RecordAdminMixin
from reviewers.admin import ReviewerProfileInline

from . import privacy_admin  # noqa: F401 - registers the erased accounts' list
from .privacy_admin import PersonalDataActions

admin.site.unregister(Process)
admin.site.unregister(Task)


@admin.register(Process)
class ProcessRecordAdmin(RecordAdminMixin, ProcessAdmin):
    pass


@admin.register(Task)
class TaskRecordAdmin(RecordAdminMixin, TaskAdmin):
    pass


# People: their reviewer profile alongside, and their data downloaded or erased as they could.
admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class UserWithRolesAdmin(PersonalDataActions, UserAdmin):
    inlines = [*UserAdmin.inlines, ReviewerProfileInline]
    list_filter = [*UserAdmin.list_filter, "reviewer_profile__country"]
