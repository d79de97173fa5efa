from django.urls import path

from . import views
from .views import calls as call_views

app_name = "workflow"
urlpatterns = [
    path("", views.home, name="home"),
    path("tasks/", views.inbox, name="inbox"),
    path("tasks/<int:task_pk>/", views.task_detail, name="task"),
    path("calls/<int:call_pk>/reviewers/", views.bulk_assign, name="bulk_assign"),
    path("calls/led/", views.led_calls, name="led_calls"),
    path("calls/new/", call_views.call_new, name="call_new"),
    path("calls/<int:call_pk>/edit/", call_views.call_edit, name="call_edit"),
    path("calls/<int:call_pk>/copy/", call_views.call_copy, name="call_copy"),
    path("calls/<int:call_pk>/preview/", call_views.call_preview, name="call_preview"),
    path("calls/<int:call_pk>/board/", views.selection_board, name="board"),
    path("calls/<int:call_pk>/dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/", views.dashboard, name="dashboard_all"),
    path("calls/<int:call_pk>/pool/", views.pool, name="pool"),
    path("calls/<int:call_pk>/finalise/", views.selection_finalise_view, name="finalise"),
    path("tasks/<int:task_pk>/remove-reviewer/", views.review_remove_view, name="review_remove"),
]
