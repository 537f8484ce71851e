"""Replay one span of a running replay's cases (started by policylab.helpers, not by hand)."""

import json
import sys

from django.core.management.base import BaseCommand

from policylab import services
from policylab.helpers import CANCELLED_STATUS, peak_mib
from policylab.replay import Cancelled


class Command(BaseCommand):
    help = "Replay one span of a running replay's cases (a helper of the replay's task)."

    def add_arguments(self, parser):
        parser.add_argument("replay", type=int)
        parser.add_argument("low", type=int)
        parser.add_argument("high", type=int)

    def handle(self, *args, replay: int, low: int, high: int, **options):
        changed = {tuple(kind) for kind in json.load(sys.stdin)}
        try:
            tally = services.replay_helper_span(
                replay_id=replay, low=low, high=high, changed=changed
            )
        except Cancelled:
            sys.exit(CANCELLED_STATUS)
        self.stdout.write(json.dumps({"tally": tally.as_json(), "peak_mib": peak_mib()}))
