"""One connection to the email backend, reused across the messages a process sends.

Django's ``EmailMessage.send()`` opens a connection, sends one message and closes it:
for SMTP that is a TCP connection, EHLO and QUIT per message, for an anymail provider a
new HTTP session. An ``EmailSession`` opens the backend's connection on its first send
and keeps it for the sends after it, which SMTP and every anymail backend support
(``open()`` / ``close()``).

It is closed and opened again after ``EMAIL_SESSION_MAX_MESSAGES`` sends, or before a send
that comes more than ``EMAIL_SESSION_IDLE_SECONDS`` after the previous one (a relay drops
connections left idle, and a send on a dropped connection would fail and count as an
attempt), and after any failed send, whose connection may be in any state.

A Celery worker process keeps one (``worker_session``) for all the sends it runs; a sweep
uses one for its batch; anything else sends on a connection of its own, as before.
"""

import logging
import time

from django.conf import settings
from django.core.mail import get_connection

logger = logging.getLogger(__name__)


class EmailSession:
    def __init__(self, *, max_messages=None, idle_seconds=None):
        self.max_messages = max_messages or settings.EMAIL_SESSION_MAX_MESSAGES
        self.idle_seconds = (
            idle_seconds if idle_seconds is not None else (settings.EMAIL_SESSION_IDLE_SECONDS)
        )
        self._connection = None
        self._sent = 0
        self._last_used = 0.0
        #: Connections opened so far: what the tests and the benchmark read.
        self.opened = 0

    def send(self, email):
        """Send ``email`` on the open connection, opening one if needed; raise on failure.

        Opening is part of the send, so a relay that cannot be reached fails this
        message's attempt exactly as a refusal would.
        """
        if self._connection is not None and (
            self._sent >= self.max_messages
            or time.monotonic() - self._last_used > self.idle_seconds
        ):
            self.close()
        try:
            if self._connection is None:
                self._connection = get_connection(fail_silently=False)
                self._connection.open()
                self._sent = 0
                self.opened += 1
            email.connection = self._connection
            email.send()
        except Exception:
            self.close()
            raise
        self._sent += 1
        self._last_used = time.monotonic()

    def close(self):
        """Close the connection, ignoring a relay that has already gone."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.close()
        except Exception as error:  # a broken connection: nothing more to say to it
            logger.info("Closing the email connection failed: %r", error)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


_worker_session = None


def worker_session():
    """The email session of this worker process, created on first use."""
    global _worker_session
    if _worker_session is None:
        _worker_session = EmailSession()
    return _worker_session


def worker_session_close():
    """Say goodbye to the relay (QUIT) when the worker process ends."""
    if _worker_session is not None:
        _worker_session.close()
