"""Where the site is: every absolute link Nomflow writes comes from ``SITE_URL``.

Links in emails and feeds are built when they are sent or served, never stored: a
message written by a worker, a demo loader or a test then points at the site as it
is configured now, not at whatever host wrote it.
"""

from urllib.parse import urlsplit

from django.conf import settings


def absolute_url(path=""):
    """``path`` (``/tasks/3/``) as an absolute link on the configured site."""
    return f"{settings.SITE_URL.rstrip('/')}{path}" if path else settings.SITE_URL


def on_site(url):
    """``url`` moved onto the configured site: its path and query kept, its host replaced."""
    bits = urlsplit(url)
    path = bits.path + (f"?{bits.query}" if bits.query else "")
    return absolute_url(path or "/")


def site_domain():
    """The configured site's host (and port), as account emails name it."""
    return urlsplit(settings.SITE_URL).netloc
