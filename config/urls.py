from django.contrib import admin
from django.urls import include, path

from config.health import DeepHealthView, NodeHealthView
from config.signin import admin_login
from notifications.language import language_choose

urlpatterns = [
    path("health/", NodeHealthView.as_view(), name="health"),
    path("health/deep/", DeepHealthView.as_view(), name="health-deep"),
    path("", include("workflow.urls")),
    path("nominations/", include("workflow.nomination_urls")),
    path("notifications/", include("notifications.urls")),
    path("reviewers/", include("reviewers.urls")),
    path("people/", include("workflow.people_urls")),
    path("hub/", include("nominations.hub_urls")),
    # The privacy page, and each person's own data: /privacy/ and /account/privacy/.
    path("", include("workflow.privacy_urls")),
    path("accounts/", include("allauth.urls")),
    # Providers' delivery, bounce and complaint webhooks; off without ANYMAIL_WEBHOOK_SECRET.
    path("anymail/", include("notifications.webhooks")),
    # Django's set_language, remembering a signed-in person's choice (notifications/language.py).
    path("i18n/setlang/", language_choose, name="set_language"),
    # The admin signs in through allauth like everyone else: same rate limits, second factor.
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
]
# No route serves MEDIA_ROOT, not even with DEBUG on: attachments are read only through
# workflow.nomination_views.attachment_download, which checks who may see them.
