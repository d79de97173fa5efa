from django.urls import path

from . import hub_views

app_name = "hub"
urlpatterns = [
    path("", hub_views.hub_list, name="list"),
    path("practices/<int:pk>/", hub_views.hub_detail, name="detail"),
    path("feed/", hub_views.LatestPracticesFeed(), name="feed"),
    path("practices.json", hub_views.hub_json, name="json"),
]
