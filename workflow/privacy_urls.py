from django.urls import path

from . import privacy_views

app_name = "privacy"
urlpatterns = [
    path("privacy/", privacy_views.privacy_policy, name="policy"),
    path("accessibility/", privacy_views.accessibility_statement, name="accessibility"),
    path("account/privacy/", privacy_views.account_privacy, name="account"),
    path("account/privacy/my-data.zip", privacy_views.account_data_download, name="download"),
    path("account/privacy/erase/", privacy_views.account_erase_view, name="erase"),
    path(
        "nominations/<int:pk>/withdraw-consent/",
        privacy_views.consent_withdraw,
        name="consent_withdraw",
    ),
]
