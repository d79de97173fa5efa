"""viewflow's processes and tasks, read-only: they change only as the flow runs."""

from django.contrib import admin
from viewflow.workflow.admin import ProcessAdmin, TaskAdmin
from viewflow.workflow.models import Process, Task

from nominations.admin_records import RecordAdminMixin

admin.site.unregister(Process)
admin.site.unregister(Task)


@admin.register(Process)
class ProcessRecordAdmin(RecordAdminMixin, ProcessAdmin):
    pass


@admin.register(Task)
class TaskRecordAdmin(RecordAdminMixin, TaskAdmin):
    pass
