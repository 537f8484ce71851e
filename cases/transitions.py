"""The transition table of DESIGN.md section 4: the only writer of a case's status and level.

Every service that changes a case calls `apply_transition` (status actions) or `record_event`
(actions that leave the status as it is) while holding the case's row lock; both write the
append-only event that is the case's trace.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cases.errors import IllegalTransition, StaleCase
from cases.models import Case, Dispatch, Event, Level, Status
from teams.models import User

S = Status


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the status stays as it is
    level: str | None = None  # the level the case moves to, if it moves
    from_levels: frozenset[str] | None = None  # only at these levels


OPEN = frozenset(
    {S.FILED, S.VILLAGE_HANDLING, S.DISPATCHED, S.IN_PROGRESS, S.IN_CONSULTATION, S.RESOLVED}
)

TRANSITIONS: dict[str, Transition] = {
    "accept": Transition(frozenset({S.FILED}), S.VILLAGE_HANDLING),
    "reject": Transition(frozenset({S.FILED}), S.REJECTED),
    "whistle": Transition(frozenset({S.FILED, S.VILLAGE_HANDLING}), S.DISPATCHED, Level.TOWN),
    "resolve_on_spot": Transition(frozenset({S.VILLAGE_HANDLING}), S.RESOLVED),
    # Per dispatch; the first report-in moves the case, later ones leave it in progress.
    "report_in": Transition(frozenset({S.DISPATCHED, S.IN_PROGRESS}), S.IN_PROGRESS),
    "resolve": Transition(frozenset({S.IN_PROGRESS}), S.RESOLVED),
    # A case nobody reported in on also goes to the committee when its handling time is up.
    "request_consultation": Transition(frozenset({S.IN_PROGRESS, S.DISPATCHED}), S.IN_CONSULTATION),
    "decide": Transition(frozenset({S.IN_CONSULTATION}), S.IN_PROGRESS),
    "escalate": Transition(
        frozenset({S.IN_CONSULTATION}), S.IN_CONSULTATION, Level.CITY, frozenset({Level.TOWN})
    ),
    # A committee closes a case at its consultation, with the reason recorded.
    "close": Transition(frozenset({S.IN_CONSULTATION}), S.CLOSED),
    "verify_pass": Transition(frozenset({S.RESOLVED}), S.CLOSED),
    # Back to handling: at the village for a case solved on the spot, else with the town.
    "verify_fail": Transition(frozenset({S.RESOLVED}), S.IN_PROGRESS),
    "suspend": Transition(OPEN, S.SUSPENDED),
    "resume": Transition(frozenset({S.SUSPENDED}), None),
    "reopen": Transition(frozenset({S.REJECTED, S.CLOSED}), S.FILED),
    "evaluate": Transition(frozenset({S.CLOSED}), S.CLOSED),
}


def allowed_actions(case: Case) -> set[str]:
    """The status actions the table allows from the case's current status and level."""
    return {
        action
        for action, transition in TRANSITIONS.items()
        if case.status in transition.sources
        and (transition.from_levels is None or case.level in transition.from_levels)
    }


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
    if transition is None or action not in allowed_actions(case):
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
    return Event.objects.create(
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
) -> Event:
    """Write an event for an action that leaves status and level as they are (assign, notes,
    postponements, lateness), bumping the version so open forms see the change."""
    if bump_version:
        case.version += 1
        case.save(update_fields=["version", "updated_at"])
    _refresh_facts_after_commit(case)
    return Event.objects.create(
        case=case,
        dispatch=dispatch,
        actor=actor,
        actor_label=actor_label,
        action=action,
        from_status=case.status,
        to_status=case.status,
        from_level=case.level,
        to_level=case.level,
        data=data or {},
        public=public,
        created_at=timezone.now(),
    )


def _refresh_facts_after_commit(case: Case) -> None:
    """The assessment's facts follow the trace: refresh them once this change is committed."""
    from assessment.hooks import enqueue_fact_refresh

    case_id = case.pk
    transaction.on_commit(lambda: enqueue_fact_refresh(case_id), robust=True)
