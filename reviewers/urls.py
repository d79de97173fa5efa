from django.urls import path

from . import views

app_name = "reviewers"
urlpatterns = [
    path("interests/", views.interests, name="interests"),
    path("conflicts/organisation/", views.organisation_conflict_add, name="organisation_conflict"),
    path("conflicts/<int:pk>/remove/", views.conflict_remove, name="conflict_remove"),
    path("profile/", views.profile, name="profile"),
    path("profile/<int:pk>/", views.profile_edit, name="profile_edit"),
    path("country/", views.country_reviewers, name="country"),
]
