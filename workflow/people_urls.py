"""Invitations: /people/invitations/ for whoever invites, /people/invitations/<token>/ for
the invitee (config/urls.py includes these at people/)."""

from django.urls import path, re_path

from .views import people, people_import

app_name = "people"
urlpatterns = [
    path("invitations/", people.invitations, name="invitations"),
    path("invitations/<int:pk>/resend/", people.invitation_resend_view, name="resend"),
    path("invitations/<int:pk>/withdraw/", people.invitation_withdraw_view, name="withdraw"),
    path("invitations/<str:token>/", people.invitation_respond, name="invitation"),
    # Inviting from a spreadsheet: the template, the upload, its preview, the run, the report.
    path("import/", people_import.import_start, name="import"),
    re_path(
        r"^import/template\.(?P<file_format>csv|xlsx)$",
        people_import.import_template,
        name="import_template",
    ),
    path("import/<int:batch_pk>/", people_import.import_detail, name="import_detail"),
    path("import/<int:batch_pk>/confirm/", people_import.import_confirm, name="import_confirm"),
    path("import/<int:batch_pk>/progress/", people_import.import_progress, name="import_progress"),
    path("import/<int:batch_pk>/report.csv", people_import.import_report, name="import_report"),
]
