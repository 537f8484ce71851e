"""Replay one span of a running replay's cases (started by policylab.helpers, not by hand)."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from policylab import services
from policylab.helpers import CANCELLED_STATUS
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
        self.stdout.write(json.dumps({"tally": tally.as_json(), "peak_mib": _peak_mib()}))


def _peak_mib() -> float | None:
    """This process's resident high-water mark (Linux), which its parent cannot read."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
