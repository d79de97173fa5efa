"""A URL that fails, for the tests of what a server error leaves in the logs."""

from django.urls import include, path


def failing_view(request):
    raise RuntimeError("the kind of bug a partner would report")


urlpatterns = [
    path("boom/", failing_view),
    path("", include("config.urls")),
]
