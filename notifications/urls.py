from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("read/", views.notification_mark_all_read, name="mark_all_read"),
    path("settings/", views.preferences, name="preferences"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/resend/", views.outbox_resend, name="resend"),
    path("outbox/bounces/<int:user_id>/clear/", views.outbox_bounce_clear, name="bounce_clear"),
]
