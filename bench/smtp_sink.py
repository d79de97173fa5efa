"""A local SMTP sink for bench/send_throughput.py, run as its own process.

It accepts every message on 127.0.0.1:PORT and prints one line per message,
``MSG <X-Nomflow-Message> <unix time> <connection>``, so the benchmark can count what
arrived, when, whether anything arrived twice, and over how many SMTP connections
(numbered as they deliver their first message). Nothing is stored.
"""

import argparse
import email
import itertools
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class CountingHandler:
    def __init__(self):
        self.connections = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        # aiosmtpd keeps one session object per connection.
        if not hasattr(session, "nomflow_connection"):
            session.nomflow_connection = next(self.connections)
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        key = message.get("X-Nomflow-Message", "-")
        print(f"MSG {key} {time.time():.6f} {session.nomflow_connection}", flush=True)
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    controller = Controller(CountingHandler(), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"READY {args.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
