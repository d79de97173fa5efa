"""Settings shared by every environment.

With no environment variables set this runs the embedded default: SQLite,
a filesystem broker and email on the console (see config/env.py).
"""

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, VAR_DIR, env

from .storage import attachment_storage

SECRET_KEY = env("SECRET_KEY", default="django-insecure-nomflow-development-only")
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    # Before the admin, so that its admin classes and static files are found first.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",  # allauth's list of signed-in sessions
    "config.apps.NomflowStaticFilesConfig",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "anymail",
    "health_check",
    "viewflow",
    "viewflow.workflow",
    "nominations",
    "reviewers",
    "workflow",
    "notifications",
    # Sign-in rules: rate limits, two-factor for staff roles, idle sessions.
    "config.apps.SignInConfig",
]

MIDDLEWARE = [
    # First, so that every log line of a request, its error included, carries its id.
    "log_request_id.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "notifications.language.PersonLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "config.signin.StaffSignInMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workflow.context_processors.roles",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'nomflow.sqlite3'}"),
}
# Connections are kept for CONN_MAX_AGE seconds across requests and Celery tasks (a new
# PostgreSQL connection costs more than most of our requests), and checked with one cheap
# round trip before their first use in each request or task, so one the server dropped
# is replaced instead of failing the work (config/celery_app.py does this for tasks).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Sign-up: nominators register with their email address and must confirm it
# before they can sign in; staff roles are granted by admins (see README).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Sign-up asks first and last name, so that people are greeted by name, not by address.
ACCOUNT_FORMS = {"signup": "nominations.account_forms.SignupForm"}
# Confirming the address signs the person in when it is done in the browser that signed
# up (allauth checks the session), so a new nominator goes straight on to nominating.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# People know themselves by their email address; the username is internal.
ACCOUNT_USER_DISPLAY = "nominations.accounts.user_display"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="http")
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "workflow:home"
LOGOUT_REDIRECT_URL = "account_login"

LANGUAGE_CODE = "en"
# The interface languages: English (the source) and the partner countries' languages.
LANGUAGES = [
    ("en", _("English")),
    ("sv", _("Swedish")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("lv", _("Latvian")),
]
# Reference data (countries, themes, calls, rubrics, survey questions) has a column per
# language (nominations/translation.py, reviewers/translation.py). English is always
# filled in; a missing translation shows the English text, and the admin says which are
# missing.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
# ``Country.objects.create(name=…)`` fills the English column too, whatever language is
# active (a script, a test after a Swedish page): English is never left empty.
MODELTRANSLATION_AUTO_POPULATE = "default"
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))

# Attachments: what a nominator may upload, checked in nominations.forms.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
}
# How the attachment view hands over a file once it has checked who may read it:
# "django" streams it from Python (fine for development and small sites); "x-accel" answers
# with an empty response and X-Accel-Redirect, and nginx sends the file from an `internal`
# location mapped to MEDIA_ROOT (docs/operations.md). MEDIA_ROOT itself is never routed.
ATTACHMENT_SERVE = env.str("ATTACHMENT_SERVE", default="django")
if ATTACHMENT_SERVE not in {"django", "x-accel"}:
    raise ImproperlyConfigured('ATTACHMENT_SERVE must be "django" or "x-accel".')
ATTACHMENT_ACCEL_PREFIX = "/protected-media/"
# Where attachments are kept: MEDIA_ROOT, or with ATTACHMENT_STORAGE=s3 a private bucket that
# several machines share (config/settings/storage.py).
STORAGES = {
    "default": attachment_storage(env, serve=ATTACHMENT_SERVE),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Invitations (workflow/services/people.py): a link works this many days, and the invitee
# is reminded once, this many days before it expires, if they have not answered.
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=14)
INVITATION_REMINDER_DAYS = env.int("INVITATION_REMINDER_DAYS", default=3)
# Days a declined, withdrawn or expired invitation, or a finished spreadsheet import, is
# kept before the daily personal-data retention task deletes it (workflow/personal_data.py).
INVITATION_RETENTION_DAYS = env.int("INVITATION_RETENTION_DAYS", default=90)

# Django's cache holds the sign-in rate limits' counters (config/settings/auth.py), the
# second-factor codes already used and the workers' last runs (/health/deep/), so every
# process must share it: Redis in production (CACHE_URL=redis://…, through django-redis);
# by default files in var/cache, which the site and the worker of `make run` share.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    # With Redis down, each process falls back to its own memory instead of failing pages
    # or locking everyone out of signing in (config/cache.py).
    CACHES["default"]["BACKEND"] = "config.cache.RedisCacheWithFallback"
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1}
    )

from .auth import *  # noqa: E402
from .celery import *  # noqa: E402
from .email import *  # noqa: E402
from .observability import *  # noqa: E402
from .security import *  # noqa: E402
