"""An HTTP client that walks Nomflow's pages as a person behind the TLS proxy would.

Plain ``requests`` with the cookies kept by hand: production's cookies are Secure, and the
walker talks HTTP to gunicorn while saying, as the proxy does, that the request came over
HTTPS (``X-Forwarded-Proto``). Every page's stylesheets, scripts and images are fetched
too, once each.
"""

import hashlib
import hmac
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

#: Links a walker never follows: they sign out, switch language, or change data on GET.
SKIPPED_PREFIXES = ("/accounts/logout", "/i18n/", "/accounts/2fa/", "/accounts/email")
SKIPPED_PARTS = (
    "/delete/",
    "/remove",
    "/erase",
    "/history/",
    "?_changelist_filters",
    "?o=",
    "?q=",
    "?e=",
)


class PageParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.assets, self.inputs, self.forms = [], [], {}, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "link" and "stylesheet" in (attrs.get("rel") or "") and attrs.get("href"):
            self.assets.append(attrs["href"])
        elif tag in ("script", "img") and attrs.get("src"):
            self.assets.append(attrs["src"])
        elif tag == "input" and attrs.get("name"):
            self.inputs[attrs["name"]] = attrs.get("value", "")


@dataclass
class Walk:
    pages: int = 0
    assets: int = 0
    requests: int = 0
    failures: list = field(default_factory=list)
    visited: set = field(default_factory=set)


class Walker:
    def __init__(self, base_url, *, totp_secret=None, walk=None):
        self.base_url = base_url.rstrip("/")
        host = urlsplit(self.base_url).netloc
        self.origin = f"https://{host}"
        self.cookies = {}
        self.totp_secret = totp_secret
        self.walk = walk if walk is not None else Walk()
        self.seen_assets = set()
        self.who = "anonymous"

    # --- one request -------------------------------------------------------------------

    def request(self, method, path, *, data=None, follow=True):
        """One request (and its redirects, within the site); returns the last response."""
        for _ in range(10):
            response = requests.request(
                method,
                self.base_url + path,
                data=data,
                cookies=self.cookies,
                headers={
                    "X-Forwarded-Proto": "https",
                    "Origin": self.origin,
                    "Referer": self.origin + path,
                    "Accept-Language": "en",
                },
                allow_redirects=False,
                timeout=30,
            )
            self.walk.requests += 1
            self.cookies.update(response.cookies.get_dict())
            if not (follow and response.is_redirect):
                return response
            location = urlsplit(urljoin(self.origin + path, response.headers["Location"]))
            if f"{location.scheme}://{location.netloc}" != self.origin:
                return response
            method, data = "GET", None
            path = location.path + (f"?{location.query}" if location.query else "")
        raise AssertionError(f"too many redirects from {path}")

    def get(self, path):
        return self.request("GET", path)

    def post_form(self, path, fields):
        """POST ``fields`` with the CSRF token of the form page at ``path``."""
        page = self.get(path)
        parser = PageParser()
        parser.feed(page.text)
        assert "csrfmiddlewaretoken" in parser.inputs, (path, page.status_code, page.url)
        return self.request(
            "POST",
            path,
            data={"csrfmiddlewaretoken": parser.inputs["csrfmiddlewaretoken"], **fields},
        )

    # --- signing in --------------------------------------------------------------------

    def sign_in(self, email, password):
        self.who = email
        response = self.post_form("/accounts/login/", {"login": email, "password": password})
        if "/2fa/authenticate" in response.url:
            assert self.totp_secret, f"{email} needs a second factor and no secret was given"
            path = urlsplit(response.url).path
            response = self.post_form(path, {"code": self.unused_code(email)})
        assert response.status_code == 200, (email, response.status_code, response.url)
        assert "/accounts/" not in response.url, f"{email} could not sign in: {response.url}"
        return response

    #: Codes already given, per account: a code is accepted once, as a person's app shows a
    #: new one every 30 seconds; the next period's is accepted too (MFA_TOTP_TOLERANCE).
    used_codes = set()

    def unused_code(self, email):
        for periods_ahead in (0, 1):
            code = totp_now(self.totp_secret, at=time.time() + 30 * periods_ahead)
            if (email, code) not in self.used_codes:
                self.used_codes.add((email, code))
                return code
        time.sleep(30)
        return self.unused_code(email)

    # --- walking -----------------------------------------------------------------------

    def crawl(self, start_paths, *, limit):
        """Breadth-first over the site's links from ``start_paths``, ``limit`` pages at most."""
        queue, seen = deque(start_paths), set(start_paths)
        visited = 0
        while queue and visited < limit:
            path = queue.popleft()
            response = self.get(path)
            visited += 1
            self.walk.pages += 1
            self.walk.visited.add((self.who, path))
            if response.status_code != 200:
                self.walk.failures.append(f"{path}: {response.status_code}")
                continue
            if "text/html" not in response.headers.get("Content-Type", ""):
                continue
            parser = PageParser()
            parser.feed(response.text)
            self.fetch_assets(path, parser.assets)
            for href in parser.links:
                link = self.site_path(path, href)
                if link and link not in seen:
                    seen.add(link)
                    queue.append(link)
        return visited

    def site_path(self, page_path, href):
        target = urlsplit(urljoin(self.origin + page_path, href))
        if f"{target.scheme}://{target.netloc}" != self.origin:
            return None
        path = target.path + (f"?{target.query}" if target.query else "")
        if path.startswith(SKIPPED_PREFIXES) or any(part in path for part in SKIPPED_PARTS):
            return None
        if path.startswith("/static/") or path.startswith("/anymail/"):
            return None
        return path

    def fetch_assets(self, page_path, assets):
        for src in assets:
            path = self.site_path(page_path, src) or ""
            url = urljoin(self.origin + page_path, src)
            if not path and not url.startswith(self.origin):
                self.walk.failures.append(f"{page_path}: asset from elsewhere {src}")
                continue
            path = urlsplit(url).path
            if path in self.seen_assets:
                continue
            self.seen_assets.add(path)
            response = self.request("GET", path)
            self.walk.assets += 1
            if response.status_code != 200 or not response.content:
                self.walk.failures.append(f"{page_path}: asset {path} {response.status_code}")


def totp_now(secret_base32, *, period=30, digits=6, at=None):
    """RFC 6238 with SHA-1: what an authenticator app shows for ``secret_base32``."""
    import base64

    key = base64.b32decode(secret_base32.upper() + "=" * (-len(secret_base32) % 8))
    counter = int((at if at is not None else time.time()) // period)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(code).zfill(digits)
