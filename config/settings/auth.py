"""Signing in: rate limits, two-factor authentication for staff roles, sessions.

Every way to sign in, the admin's included (config/urls.py), goes through allauth, so
the limits below cover them all. docs/operations.md ("Sessions and sign-in") explains
them to whoever runs Nomflow.
"""

from config.env import env

# Our adapter counts failed sign-ins per account *and address* (config/signin.py).
ACCOUNT_ADAPTER = "config.signin.AccountAdapter"

# allauth counts attempts in Django's cache (CACHES): shared by every web process when
# that is Redis, per process with the local-memory default.
ACCOUNT_RATE_LIMITS = {
    # Failed sign-ins (password or second-factor code). "ip": 10 a minute from one address,
    # whatever the accounts; "key": 5 in 5 minutes for one account from one address. The
    # key includes the address so that a stranger guessing an account's password locks out
    # only themselves, never the real person signing in from elsewhere.
    "login_failed": "10/m/ip,5/5m/key",
    # Every sign-in attempt, failed or not, from one address.
    "login": "30/m/ip",
}
# How many proxies in front of Nomflow append to X-Forwarded-For; the rate limits key on
# the client's address, so behind a proxy this must be set or everyone shares one address.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Two-factor authentication: an authenticator app (TOTP) or a security key / passkey
# (WebAuthn), with recovery codes as the fallback. Coordinators, leads and admins must
# enrol (config.signin.StaffSignInMiddleware); nominators and reviewers may.
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
# Security keys are bound to the host the page was served from (allauth takes the relying
# party id from the request), and browsers offer them on https only, or on http://localhost
# in development and the browser tests. fido2 accepts those origins by itself, so
# MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN (which accepts *any* origin) stays off everywhere.
# A key is a second factor after the password; signing in with a passkey alone
# (MFA_PASSKEY_LOGIN_ENABLED) stays off.
MFA_TOTP_ISSUER = "Nomflow"
# Accept the code of the 30-second period before and after the current one, so a phone
# whose clock is a little off, or a code typed as the period turns, still works.
MFA_TOTP_TOLERANCE = 1

# A session cookie lives two weeks (Django's default, stated here on purpose) unless the
# person signs out; staff roles are also signed out after STAFF_SESSION_IDLE_SECONDS
# without a request (sliding: every request starts the count again).
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
# People see their signed-in sessions (browser, address, when) and end the others at
# /accounts/sessions/. Tracking every request's activity would write a row per request,
# so sessions are recorded when they sign in only.
USERSESSIONS_TRACK_ACTIVITY = False
