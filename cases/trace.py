"""The hash chain of a case's events: tamper evidence for the trace (docs/security.md).

Each event stores `chain_hash`, a SHA-256 of its canonical content and of the previous event's
`chain_hash` in the same case (the one with the next lower id; the first event links to "").
An edited, removed or inserted event breaks the link at that point and every check of the
chain (`manage.py verify_trace`) names it. With WHISTLE_TRACE_KEY set the link is an HMAC-SHA256
under that key, kept outside the database and its backups: then not even a database superuser
who knows this algorithm can rewrite a chain so that it verifies again. Removing a case's
last events leaves a whole, shorter chain: the heads recorded earlier (`heads`, kept with each
backup) show that.

The chain follows the ids, not the times: events are written in a transaction that holds the
case's row lock (every writer goes through cases.transitions), so a case's ids grow in the
order its events were written, and the previous link read under that lock is the last one.
"""

import hashlib
import hmac
import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Max, OuterRef, Subquery

from cases.models import Case, Event

VERSION = "whistle-trace-v1"

# The immutable fields, in the order they are serialised. The id is not among them (it is not
# known before the insert); it orders the chain instead.
FIELDS = (
    "case_id",
    "dispatch_id",
    "actor_id",
    "actor_label",
    "action",
    "from_status",
    "to_status",
    "from_level",
    "to_level",
    "data",
    "public",
    "created_at",
)


def _plain(value: Any) -> Any:
    """JSON as the database gives it back: an integral float reads back as an int from
    PostgreSQL's jsonb (1e20 -> 100000000000000000000), so both are written as the int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: dict[str, Any], previous: str, *, stored: bool = False) -> bytes:
    """The bytes that are hashed: the version, the previous link and the fields, as compact
    JSON with sorted keys. `data` goes through a JSON round trip first, as the database
    stores it (tuples become lists, integer keys strings), unless it was read from there
    (`stored`)."""
    data = values["data"] if stored else json.loads(json.dumps(values["data"]))
    data = _plain(data)
    row = [VERSION, previous]
    for name in FIELDS:
        if name == "data":
            row.append(data)
        elif name == "created_at":
            row.append(_moment(values[name]))
        else:
            row.append(values[name])
    return json.dumps(
        row, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode()


def link(values: dict[str, Any], previous: str, *, stored: bool = False) -> str:
    """The chain hash of an event with these field values after the link `previous`."""
    message = canonical(values, previous, stored=stored)
    key = settings.WHISTLE_TRACE_KEY
    if key:
        return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def event_values(event: Any) -> dict[str, Any]:
    """The hashed fields of an event (a model instance, also a migration's historical one)."""
    return {name: getattr(event, name) for name in FIELDS}


# The last links of the cases a timer batch holds locked, read in one statement
# (last_links_read_together), and kept up to date as the batch appends (linked).
_known_links: ContextVar[dict[int, str] | None] = ContextVar("trace_known_links", default=None)


def last_link(*, case: Case) -> str:
    """The chain hash of the case's last event ("" before its first). Read under the case's
    row lock, which every writer of events holds."""
    known = _known_links.get()
    if known is not None and case.pk in known:
        return known[case.pk]
    return (
        Event.objects.of_case(case).order_by("-id").values_list("chain_hash", flat=True).first()
    ) or ""


def linked(event: Event) -> None:
    """The event was appended: it is its case's last link now."""
    known = _known_links.get()
    if known is not None and event.case_id in known:
        known[event.case_id] = event.chain_hash


@contextmanager
def last_links_read_together(cases: Collection[Case]) -> Iterator[None]:
    """Within the block, last_link of these cases comes from one statement read on entry,
    not one read per event: a timer batch appends to a hundred cases. The caller holds their
    row locks for the whole block (and took them before entering it, so that the read sees
    every event committed before), every event of the block is appended through
    cases.transitions, which keeps the links current (linked), and a failure rolls the whole
    block back (the timer's batch is one transaction), never a savepoint inside it alone."""
    last = Event.objects.filter(case_filed_at=OuterRef("filed_at"), case_id=OuterRef("pk"))
    links = Case.objects.filter(pk__in=[case.pk for case in cases]).values_list(
        "pk", Subquery(last.order_by("-id").values("chain_hash")[:1])
    )
    token = _known_links.set({pk: link or "" for pk, link in links})
    try:
        yield
    finally:
        _known_links.reset(token)


def seal(event: Event, *, previous: str) -> Event:
    """Set the event's chain hash, before it is inserted."""
    event.chain_hash = link(event_values(event), previous)
    return event


@dataclass(frozen=True)
class Break:
    """The first broken link of one case's chain."""

    case_id: int
    number: str
    event_id: int
    action: str
    expected: str
    found: str


@dataclass
class Tally:
    cases: int = 0
    events: int = 0


def broken_links(
    *, tally: Tally | None = None, case_ids: list[int] | None = None
) -> Iterator[Break]:
    """Check every chain (or those of `case_ids`) and yield the first broken link of each case
    whose chain does not verify. Streams the events by case and id, in chunks."""
    tally = tally if tally is not None else Tally()
    events = Event.objects.order_by("case_id", "id")
    if case_ids is not None:
        events = events.filter(case_id__in=case_ids)
    rows = events.values_list("id", "chain_hash", *FIELDS).iterator(chunk_size=5000)
    current, previous, broken = None, "", False
    for event_id, found, *fields in rows:
        values = dict(zip(FIELDS, fields, strict=True))
        case_id = values["case_id"]
        if case_id != current:
            current, previous, broken = case_id, "", False
            tally.cases += 1
        tally.events += 1
        expected = link(values, previous, stored=True)
        if not broken and not hmac.compare_digest(expected, found):
            broken = True
            number = Case.objects.filter(pk=case_id).values_list("number", flat=True).first()
            yield Break(case_id, number or "?", event_id, values["action"], expected, found)
        # Go on from the stored link: one edit is one break, not a break at every later event.
        previous = found


def heads(*, case_ids: list[int] | None = None) -> dict[int, tuple[int, str]]:
    """Each case's last event, (id, chain hash): an anchor to keep outside the database (a
    backup keeps one). Later, `missing_heads` shows a chain cut back since (its last events
    removed: what is left is a whole chain) or rebuilt (which the chain itself shows only
    with WHISTLE_TRACE_KEY)."""
    events = Event.objects.all()
    if case_ids is not None:
        events = events.filter(case_id__in=case_ids)
    last = events.values("case_id").annotate(last=Max("id")).values("last")
    rows = Event.objects.filter(id__in=Subquery(last)).values_list("case_id", "id", "chain_hash")
    return {case_id: (event_id, chain_hash) for case_id, event_id, chain_hash in rows}


def missing_heads(recorded: dict[int, tuple[int, str]]) -> Iterator[Break]:
    """The recorded heads that are no longer in their case's chain as they were."""
    event_ids = [event_id for event_id, _chain_hash in recorded.values()]
    found = {}
    for start in range(0, len(event_ids), 5000):
        rows = Event.objects.filter(id__in=event_ids[start : start + 5000]).values_list(
            "id", "case_id", "action", "chain_hash"
        )
        found.update({row[0]: row[1:] for row in rows})
    for case_id, (event_id, chain_hash) in sorted(recorded.items()):
        now = found.get(event_id)
        if now is not None and (now[0], now[2]) == (case_id, chain_hash):
            continue
        number = Case.objects.filter(pk=case_id).values_list("number", flat=True).first()
        action = now[1] if now is not None else ""
        yield Break(case_id, number or "?", event_id, action, chain_hash, now[2] if now else "")
