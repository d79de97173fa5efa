"""Admins download or erase a person's data from the user list, as the person could."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from nominations.accounts import user_display
from nominations.models import ErasureRecord
from nominations.services import NominationError

from .personal_data import ErasureRefused, account_erase, erasure_blockers
from .privacy_views import export_response


class PersonalDataActions:
    """Admin actions for the user admin: "Download personal data" and "Erase personal data"."""

    actions = ["download_personal_data", "erase_personal_data"]

    @admin.action(description=gettext_lazy("Download personal data"), permissions=["change"])
    def download_personal_data(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, _("Choose exactly one person to download their data."), messages.ERROR
            )
            return None
        return export_response(user=queryset.get())

    @admin.action(description=gettext_lazy("Erase personal data"), permissions=["change"])
    def erase_personal_data(self, request, queryset):
        """Asks first, listing what would stop each erasure; erases on confirmation."""
        people = list(queryset.order_by("pk"))
        if request.POST.get("post") == "yes":
            erased = 0
            for person in people:
                try:
                    account_erase(user=person, by=request.user)
                except ErasureRefused as refused:
                    self.message_user(
                        request,
                        _("%(person)s was not erased: %(reasons)s")
                        % {"person": user_display(person), "reasons": " ".join(refused.reasons)},
                        messages.ERROR,
                    )
                except NominationError as error:
                    self.message_user(request, f"{user_display(person)}: {error}", messages.WARNING)
                else:
                    erased += 1
            if erased:
                self.message_user(
                    request,
                    ngettext("One account erased.", "%(count)s accounts erased.", erased)
                    % {"count": erased},
                    messages.SUCCESS,
                )
            return None
        return TemplateResponse(
            request,
            "admin/privacy/erase_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Erase personal data"),
                "opts": self.model._meta,
                "people": [(person, erasure_blockers(user=person)) for person in people],
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin):
    """The proof that each erasure was done: which account number, when, on whose request."""

    list_display = ["user_id", "erased_at", "by_admin"]
    list_filter = ["by_admin"]
    readonly_fields = ["user", "erased_at", "by_admin"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
