from django.contrib import admin

from nominations.admin_records import RecordAdminMixin

from .models import DeliveryEvent, Message, Notification, Preference


@admin.register(Message)
class MessageAdmin(RecordAdminMixin, admin.ModelAdmin):
    """The outbox is the record of what Nomflow sent to whom: read-only here."""

    list_display = ["created_at", "kind", "to_email", "status", "attempts", "delivery_status"]
    list_filter = ["status", "kind", "delivery_status"]
    search_fields = ["to_email", "subject", "idempotency_key"]
    readonly_fields = [f.name for f in Message._meta.fields]


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "language", "email_non_essential", "delivery", "bounced_at"]
    list_filter = ["delivery", "email_non_essential", "bounced_at"]
    search_fields = ["user__email"]


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(RecordAdminMixin, admin.ModelAdmin):
    """What the email provider reported: read-only here."""

    list_display = ["occurred_at", "event_type", "recipient", "message"]
    list_filter = ["event_type"]


admin.site.register(Notification)
