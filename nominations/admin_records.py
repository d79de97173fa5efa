"""The admin's part in keeping the record: what the workflow wrote stays as it was written.

- ``RecordAdminMixin``: a model the workflow owns may be looked at in the admin, never added
  there, and changed or deleted only while ``is_record(obj)`` is false (a draft nomination,
  a review not yet submitted). The flow's own services are the only way to change a record.
- ``NominationLogMixin``: what the admin may still change on an object tied to one
  nomination is also written into that nomination's history (``ADMIN_CHANGED``, the admin as
  actor), where coordinators and leads read it. Objects tied to no nomination (calls,
  countries, themes, people) are traced by the admin's own log (``LogEntry``) alone.
"""

from django.conf import settings
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .models import NominationEvent
from .services import event_record


class RecordAdminMixin:
    """Look, never add; change and delete only what ``is_record`` says is not yet a record."""

    def is_record(self, obj):
        """Whether ``obj`` (None: the model as a whole) is past the point of editing."""
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return not self.is_record(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.is_record(obj) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if self.is_record(obj):
            opts = self.model._meta
            return [f.name for f in [*opts.fields, *opts.many_to_many] if f.editable]
        return super().get_readonly_fields(request, obj)

    def get_actions(self, request):
        # Deleting in bulk would skip the per-object check above.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class NominationLogMixin:
    """Every admin addition, change and deletion also goes into the nomination's history."""

    def nomination_of(self, obj):
        """The nomination ``obj`` belongs to, or None when it belongs to none."""
        return getattr(obj, "nomination", None)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._record(request, obj, entry.get_change_message)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if message:  # saved without a change: nothing to tell
            self._record(request, obj, entry.get_change_message)
        return entry

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._record(request, obj, lambda: _("Deleted."))
        return super().log_deletions(request, queryset)

    def _record(self, request, obj, describe):
        nomination = self.nomination_of(obj)
        if nomination is None:
            return
        # The history is read in every language; it is written in the site's own.
        with translation.override(settings.LANGUAGE_CODE):
            change = describe()
            if obj != nomination:
                change = _("%(model)s “%(object)s”: %(change)s") % {
                    "model": capfirst(obj._meta.verbose_name),
                    "object": obj,
                    "change": change,
                }
        event_record(
            nomination=nomination,
            action=NominationEvent.Action.ADMIN_CHANGED,
            actor=request.user,
            role=NominationEvent.Role.ADMIN,
            message=change,
        )
