"""The transition table (docs/workflow.md): the only writer of a case's status and level.

Every service that changes a case calls `apply_transition` (status actions) or `record_event`
(actions that leave the status as it is) while holding the case's row lock; both write the
append-only event that is the case's trace, as the next link of its hash chain (cases.trace).
"""

from collections.abc import Iterator, Mapping
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cases import trace
from cases.errors import IllegalTransition, StaleCase
from cases.models import Case, Dispatch, Event, Status
from cases.signals import case_changed
from cases.workflow import REGISTRY, Transition
from teams.models import User

S = Status


class _Table(Mapping):
    """The status table: each step of the registry that moves a case, by its code. Read live,
    so a step another app declares from its AppConfig is in it too."""

    def _moves(self) -> dict[str, Transition]:
        return {code: step.moves for code, step in REGISTRY.steps.items() if step.moves}

    def __getitem__(self, code: str) -> Transition:
        return self._moves()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._moves())

    def __len__(self) -> int:
        return len(self._moves())

    def get(self, code: str, default: Transition | None = None) -> Transition | None:
        step = REGISTRY.steps.get(code)
        return step.moves if step is not None and step.moves is not None else default


TRANSITIONS: Mapping[str, Transition] = _Table()


def allowed_actions(case: Case) -> set[str]:
    """The steps the table allows from the case's current status and level."""
    return {code for code, step in REGISTRY.steps.items() if step.moves and step.moves.allows(case)}


def check_version(case: Case, expected_version: int | None) -> None:
    """Refuse a form or request that was loaded before the case last changed."""
    if expected_version is not None and int(expected_version) != case.version:
        raise StaleCase()


def apply_transition(
    *,
    case: Case,
    action: str,
    actor: User | None,
    actor_label: str = "",
    data: dict | None = None,
    dispatch: Dispatch | None = None,
    public: bool = False,
    target: str | None = None,
    level: str | None = None,
) -> Event:
    """Move the locked case by the table and write its event.

    `target` and `level` override the table's destination only where the table leaves it open
    (resume returns to the status before suspension; verify_fail and reopen pick the handling
    stage that fits the case)."""
    transition = TRANSITIONS.get(action)
    if transition is None or not transition.allows(case):
        raise IllegalTransition()
    from_status, from_level = case.status, case.level
    to_status = target or transition.target or case.status
    to_level = level or transition.level or case.level
    if action == "suspend":
        case.status_before_suspension = from_status
    if action == "resume":
        to_status = target or case.status_before_suspension or S.IN_PROGRESS
        case.status_before_suspension = ""
    case.status = to_status
    case.level = to_level
    case.version += 1
    now = timezone.now()
    update_fields = ["status", "level", "version", "status_before_suspension", "updated_at"]
    if to_status == S.RESOLVED and from_status != S.RESOLVED:
        case.resolved_at = now
        case.resolved_level = from_level
        update_fields += ["resolved_at", "resolved_level"]
    if to_status == S.CLOSED and from_status != S.CLOSED:
        case.closed_at = now
        update_fields.append("closed_at")
    case.save(update_fields=update_fields)
    _refresh_facts_after_commit(case)
    return _append(
        Event(
            case=case,
            dispatch=dispatch,
            actor=actor,
            actor_label=actor_label,
            action=action,
            from_status=from_status,
            to_status=to_status,
            from_level=from_level,
            to_level=to_level,
            data=data or {},
            public=public,
            created_at=now,
        ),
        first=False,
    )


def record_event(
    *,
    case: Case,
    action: str,
    actor: User | None,
    actor_label: str = "",
    data: dict | None = None,
    dispatch: Dispatch | None = None,
    public: bool = False,
    bump_version: bool = True,
    first: bool = False,
    at: datetime | None = None,
) -> Event:
    """Write an event for an action that leaves status and level as they are (assign, notes,
    postponements, lateness), bumping the version so open forms see the change.

    `first`: the case's first event (its filing), which comes from nothing and leaves the
    version of the new row as it is."""
    if bump_version and not first:
        case.version += 1
        case.save(update_fields=["version", "updated_at"])
    _refresh_facts_after_commit(case)
    return _append(
        Event(
            case=case,
            dispatch=dispatch,
            actor=actor,
            actor_label=actor_label,
            action=action,
            from_status="" if first else case.status,
            to_status=case.status,
            from_level="" if first else case.level,
            to_level=case.level,
            data=data or {},
            public=public,
            created_at=at or timezone.now(),
        ),
        first=first,
    )


def _append(event: Event, *, first: bool) -> Event:
    """Insert the event as the next link of its case's hash chain (cases.trace). The caller
    holds the case's row lock, so the last link cannot change meanwhile; a first event comes
    with a case no other transaction can see yet, and links to nothing."""
    event.case_filed_at = event.case.filed_at
    previous = "" if first else trace.last_link(case=event.case)
    trace.seal(event, previous=previous)
    event.save(force_insert=True)
    trace.linked(event)
    return event


def _refresh_facts_after_commit(case: Case) -> None:
    """Tell whoever follows the trace (the assessment's facts) once this change is committed."""
    publish_case_changed(case_id=case.pk)


def publish_case_changed(*, case_id: int) -> None:
    """The domain event `case_changed`, sent after commit; cases imports none of its
    receivers (docs/architecture.md)."""
    transaction.on_commit(lambda: case_changed.send(sender=Case, case_id=case_id), robust=True)
