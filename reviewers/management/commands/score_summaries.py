"""Compare the board's score summaries with the raw scores, and repair those that differ."""

from django.core.management.base import BaseCommand, CommandError

from nominations.models import Nomination
from reviewers.services import score_summaries_differing, score_summaries_repair


class Command(BaseCommand):
    help = (
        "Check that every nomination's score summaries (what the selection board ranks by) "
        "equal the scores of its submitted reviews, and rebuild those that differ. Run it "
        "once after a release that adds the summaries, when every node serves the new code."
    )

    def add_arguments(self, parser):
        parser.add_argument("--call", type=int, help="only the nominations of this call (id)")
        parser.add_argument(
            "--check",
            action="store_true",
            help="only report the nominations whose summaries differ; exit 1 if any does",
        )

    def handle(self, *args, call=None, check=False, **options):
        nominations = Nomination.objects.all()
        if call is not None:
            nominations = nominations.filter(call_id=call)
        ids = nominations.values("pk")
        if check:
            differing = score_summaries_differing(nominations=ids)
            if differing:
                raise CommandError(
                    f"{len(differing)} nominations' score summaries differ from their scores: "
                    f"{', '.join(map(str, differing))}. Run without --check to rebuild them."
                )
            self.stdout.write(self.style.SUCCESS("Every score summary equals its scores."))
            return
        repaired = score_summaries_repair(nominations=ids)
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt the score summaries of {len(repaired)} nominations"
                + (f": {', '.join(map(str, repaired))}." if repaired else ".")
            )
        )
