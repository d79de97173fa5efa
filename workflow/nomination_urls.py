from django.urls import path, re_path

from . import nomination_views as views
from .views import exports as export_views

app_name = "nominations"
urlpatterns = [
    path("", views.nomination_list, name="list"),
    path("calls/", views.call_list, name="calls"),
    path("overview/", views.nomination_overview, name="overview"),
    path("calls/<int:call_pk>/new/", views.nomination_create_view, name="create"),
    re_path(
        r"^calls/(?P<call_pk>[0-9]+)/export\.(?P<file_format>csv|xlsx)$",
        views.call_export,
        name="export",
    ),
    path("calls/<int:call_pk>/exports/", export_views.call_exports, name="exports"),
    path("exports/<int:pk>/progress/", export_views.export_progress, name="export_progress"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
    path("<int:pk>/", views.nomination_detail, name="detail"),
    path("<int:pk>/edit/", views.nomination_edit, name="edit"),
    path("<int:pk>/flow.svg", views.nomination_flow_chart, name="flow_chart"),
    path("<int:pk>/public/", views.practice_public_edit, name="public"),
    path(
        "<int:pk>/public/<str:language>/",
        views.practice_translation_edit,
        name="public_translation",
    ),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment",
    ),
]
