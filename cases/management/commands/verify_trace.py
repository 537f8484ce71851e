"""Check the hash chain of every case's events (cases.trace): exit status 1 on a break."""

import json
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cases import trace
from cases.models import Case

HEADS_FORMAT = "whistle-trace-heads-v1"


class Command(BaseCommand):
    help = (
        "Recompute the hash chain of every case's events and name the first broken link of "
        "each case whose chain does not verify (an edited, removed or inserted event). Exit "
        "status 1 when any chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--case", action="append", dest="numbers", metavar="NUMBER", help=_("only this case")
        )
        parser.add_argument(
            "--save-heads",
            type=Path,
            metavar="FILE",
            help=_("when every chain verifies, write each case's last link to FILE"),
        )
        parser.add_argument(
            "--heads",
            type=Path,
            metavar="FILE",
            help=_("also check that the last links written to FILE earlier are still there"),
        )

    def handle(self, *args, numbers=None, save_heads=None, heads=None, **options):
        case_ids = None
        if numbers:
            found = dict(Case.objects.filter(number__in=numbers).values_list("number", "pk"))
            missing = [number for number in numbers if number not in found]
            if missing:
                raise CommandError(_("No such case: %(numbers)s") % {"numbers": ", ".join(missing)})
            case_ids = list(found.values())
        tally = trace.Tally()
        broken = [self._report(link) for link in trace.broken_links(tally=tally, case_ids=case_ids)]
        if heads is not None:
            for link in trace.missing_heads(self._read_heads(heads, case_ids)):
                broken.append(self._report(link, head=True))
        summary = _("%(cases)s cases, %(events)s events checked.") % {
            "cases": tally.cases,
            "events": tally.events,
        }
        if broken:
            raise CommandError(
                _("%(summary)s %(broken)s chains are broken.")
                % {"summary": summary, "broken": len(broken)}
            )
        if save_heads is not None:
            anchor = {
                "format": HEADS_FORMAT,
                "taken_at": datetime.now(UTC).isoformat(),
                "heads": {
                    str(case): list(head) for case, head in trace.heads(case_ids=case_ids).items()
                },
            }
            save_heads.write_text(json.dumps(anchor, indent=0) + "\n")
        self.stdout.write(
            self.style.SUCCESS(_("%(summary)s Every chain verifies.") % {"summary": summary})
        )

    def _read_heads(self, path: Path, case_ids: list[int] | None) -> dict[int, tuple[int, str]]:
        try:
            anchor = json.loads(path.read_text())
            if anchor.get("format") != HEADS_FORMAT:
                raise ValueError(anchor.get("format"))
            recorded = {
                int(case): (int(event), str(h)) for case, (event, h) in anchor["heads"].items()
            }
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CommandError(
                _("%(file)s is not a file of last links: %(error)s")
                % {"file": path, "error": error}
            ) from None
        if case_ids is not None:
            recorded = {case: head for case, head in recorded.items() if case in case_ids}
        return recorded

    def _report(self, link: trace.Break, *, head: bool = False) -> trace.Break:
        if head:
            message = _(
                "Case %(number)s (id %(case)s): the last link recorded earlier, event %(event)s, "
                "is no longer in its chain: expected %(expected)s, found %(found)s"
            )
        else:
            message = _(
                "Case %(number)s (id %(case)s): event %(event)s (%(action)s) does not match its "
                "chain: expected %(expected)s, found %(found)s"
            )
        self.stderr.write(
            message
            % {
                "number": link.number,
                "case": link.case_id,
                "event": link.event_id,
                "action": link.action,
                "expected": link.expected,
                "found": link.found or "-",
            }
        )
        return link
