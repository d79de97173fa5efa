"""Invitations: /people/invitations/ for whoever invites, /people/invitations/<token>/ for
the invitee (config/urls.py includes these at people/)."""

from django.urls import path

from .views import people

app_name = "people"
urlpatterns = [
    path("invitations/", people.invitations, name="invitations"),
    path("invitations/<int:pk>/resend/", people.invitation_resend_view, name="resend"),
    path("invitations/<int:pk>/withdraw/", people.invitation_withdraw_view, name="withdraw"),
    path("invitations/<str:token>/", people.invitation_respond, name="invitation"),
]
