"""Load the demo call, its people and nominations at every stage; print the accounts."""

import textwrap

from django.core.management.base import BaseCommand

from workflow import demo


class Command(BaseCommand):
    help = (
        "Load demo data: partner countries, themes, an open call with rubric and survey, "
        "demo accounts and nominations at each stage. Safe to run again: if the demo call "
        "exists, only the accounts are printed."
    )

    def handle(self, *args, **options):
        if demo.demo_call() is None:
            call = demo.demo_load()
            self.stdout.write(self.style.SUCCESS(f"Loaded the demo call “{call.title}”."))
        else:
            self.stdout.write(
                f"The demo call “{demo.DEMO_CALL_TITLE}” already exists; nothing was changed."
            )
        demo.staff_authenticators_ensure()  # also for a demo loaded before two-factor sign-in
        self.print_accounts(demo.demo_accounts())
        self.stdout.write(
            "\nCoordinators, the lead and the admin also enter a code from an authenticator "
            f"app.\nAdd the demo key {demo.DEMO_TOTP_SECRET} to one (e.g. FreeOTP, Google "
            f"Authenticator, KeePassXC), or open\n{demo.demo_totp_url()}\n"
        )

    def print_accounts(self, rows):
        headers = ("Email", "Password", "Role", "What to try")
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(3)]
        hint_width = 70
        rule = "+".join("-" * (w + 2) for w in [*widths, hint_width])
        self.stdout.write("\nDemo accounts (log in with the email address):\n")
        self.stdout.write(rule)
        for n, row in enumerate([headers, *rows]):
            hint_lines = textwrap.wrap(row[3], hint_width) or [""]
            for i, hint in enumerate(hint_lines):
                cells = [str(c) if i == 0 else "" for c in row[:3]]
                line = " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
                self.stdout.write(f" {line} | {hint}")
            if n == 0 or n == len(rows):
                self.stdout.write(rule)
