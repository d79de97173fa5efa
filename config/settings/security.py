"""Headers that limit what a page may do in the browser, in every configuration.

The Content-Security-Policy allows scripts, styles, fonts and requests from Nomflow's own
origin only: no inline script or style, no plugin, no framing. A page that needs more
must change its markup, not this policy (the browser tests run under it and fail on any
violation). The Permissions-Policy switches off browser features no page uses; security
keys (WebAuthn) keep their default, this origin only.
"""

from csp.constants import NONE, SELF

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: for the QR code of the two-factor enrolment page.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "usb": [],
}
