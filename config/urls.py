from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("workflow.urls")),
    path("nominations/", include("nominations.urls")),
    path("notifications/", include("notifications.urls")),
    path("reviewers/", include("reviewers.urls")),
    path("hub/", include("nominations.hub_urls")),
    path("accounts/", include("allauth.urls")),
    # Providers' delivery, bounce and complaint webhooks, protected by ANYMAIL_WEBHOOK_SECRET.
    path("anymail/", include("anymail.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
