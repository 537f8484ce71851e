"""The facts of one case, computed from its event log and its rows (docs/architecture.md,
Facts and indicators).

`compute_facts` is a pure function of what it is given (plus the working calendar, for the
handling time in working hours): the incremental refresh and the full rebuild both call it on
the same inputs, so they cannot disagree.

Definitions (the indicators in assessment.indicators build on these):
- accepted: a village officer took the whistle into handling (accepted it, or whistled it on
  themselves); a whistle the screening or village-handling timer sent up, or the hotline
  routed straight to the town, was not accepted by the village.
- rejected: the case stands rejected (or merged as a duplicate) now.
- closed: the case stands closed now (verified on site, or closed by a committee);
  closed_at: when it closed, or the moment a ClosureCorrection (with its reason) says it
  counts from (closing_corrected). A period counts a case closed only if closed_at is before
  the period's end, so a case closed after its month lands in the later figures and the
  closed month does not move (assessment.indicators).
- first_closed_at: its first closing (corrected by a correction recorded before it was
  undone); reopened_at: when that closing was undone (a reopening, a spot check's "not
  actually resolved"). A period also counts the case closed if its first closing stood at the
  period's end, so a reopening after the period does not take it out of it. The closing's
  figures (closed_level, solved_by, handling_seconds, closed_on_time) are those of the last
  closing, kept when the case is reopened.
- overdue_at: when its first own limit passed (a period counts it overdue only before its end).
- closed_level: the administrative level it closed at (the level view): the level of the last
  resolution before a verified close (village = solved on the spot), or the committee's level
  for a close at a consultation (the prefecture's, four levels, for a case that climbed there).
- max_level: the highest level the case reached (village, town, city, or the prefecture when
  its committee is on the escalation chain, teams.levels.on_chain); escalated: it climbed to
  the city (`escalate`), and maybe on to the prefecture (`escalate_to_prefecture`).
- solved_by: WHO solved it (the 70/20/10 of the practice), for closed cases: "village" when the
  village solved it itself (its last resolution was on the spot), "consultation" when, since it
  was last reopened, a town, city or prefecture committee took it up (a consultation was
  requested, the case was put on an agenda, escalated, decided or closed there), "team"
  otherwise (the town's teams and departments it was whistled to).
- overdue (late): a deadline of one of the case's own stages (screening, village handling, the
  committee's re-dispatch after a return, handling, a dispatch's task, town, city or
  prefecture consultation, on-site verification) passed before it was met: its timer fired, or
  it was met late. late_count: how many such deadlines passed (each firing counts).
  Report-in lateness is a dispatch fact (late), not this.
- closed_on_time: closed and never overdue.
- reworked / rework_count: failed on-site verifications; reworked_at: the first one.
- postponed: a postponement of one of its deadlines was approved; postponed_at: the first.
- satisfaction / rated_at: the last rating given and when (kept when the case is reopened);
  a period counts a rating, rework or postponement only if it came before the period's end.
- suspended: parked (挂账) at the end of the calendar month it was filed in (local time), by a
  suspension made before any of its limits had passed; once so, for good (a later resume does
  not bring it back, a later suspension does not take it out), so a closed month's closure
  rates do not move. was_suspended: parked at any time.
- handling_seconds: working seconds from filing to the last resolution (or to the committee's
  close), for closed cases only.
- merged: rejected as a duplicate and merged into the case it repeats (its `reject` step
  names the case); supporters: the "me too" (附议) steps on it (`support`).

Per dispatch, what its own unit did (a unit is charged only for that):
- reworked / rework_count / reworked_at (the first): failed on-site verifications of a
  resolution this dispatch took part in: it had reported in (and was still on the case) when
  the case was resolved. A unit on the case that never reported in is not charged with the
  rework of what others resolved.

Per dispatch, its return (退回) and the committee's ruling, from the steps on it:
- returned: the unit handed it back before its report-in limit (`return_dispatch`); it is
  neither late nor unanswered (the response rate leaves it out).
- return_upheld / return_overruled: the committee's ruling (`uphold_return`,
  `overrule_return`); only an overruled return is held against the unit.

Per dispatch, what the committees and supervisors did to press its unit:
- urged / urge_count: the `urge` steps on the dispatch (催办).
- supervised: a supervision order (督办) was issued on it (its SupervisionOrder rows).
- supervision_late: one of its orders was met after its deadline (an order still open past
  its deadline is not late yet: the facts do not read the clock).

Per dispatch, the spot checks (抽查) of the case it reported resolved, from the steps on it:
- spot_checked: a revisit's outcome was recorded on it (`spot_check_confirmed`,
  `spot_check_failed`).
- false_reply: the revisit found the case not actually resolved (`spot_check_failed`, 虚假回复);
  the case went back to the same unit with a new dispatch, whose own facts start afresh.
A case reopened by a spot check is open again (closed: as after `reopen`).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from assessment.models import ClosureCorrection, SolvedBy
from cases import calendar
from cases.models import Case, Deadline, Dispatch, Event, Level, Status, SupervisionOrder
from checklists.models import Stage

# Stages whose overrun makes a case overdue (report-in is judged per dispatch); the committee's
# re-dispatch after a return is part of the handling.
HANDLING_STAGES = frozenset(
    {
        Stage.VILLAGE_HANDLING,
        Stage.REDISPATCH,
        Stage.HANDLING,
        Stage.TOWN_CONSULTATION,
        Stage.CITY_CONSULTATION,
        Stage.PREFECTURE_CONSULTATION,  # four levels, its committee on the chain
    }
)
# Every stage whose overrun makes the case late: the handling stages, the village's screening
# (a timer whistle) and the grid worker's on-site verification.
LATE_STAGES = HANDLING_STAGES | {Stage.SCREENING, Stage.VERIFICATION}
RESOLVING_ACTIONS = frozenset({"resolve", "resolve_on_spot"})
# A spot check's revisit of the dispatch's reply: confirmed, or not actually resolved.
SPOT_CHECK_OUTCOMES = frozenset({"spot_check_confirmed", "spot_check_failed"})
LEVEL_ORDER = {Level.VILLAGE: 0, Level.TOWN: 1, Level.CITY: 2, Level.PREFECTURE: 3}
# The steps that send a case up to a higher committee: to the city, and from the city on to
# the prefecture (four levels); either makes the case escalated.
ESCALATING_STEPS = frozenset({"escalate", "escalate_to_prefecture"})
# A town, city or prefecture committee took the case up (who solved it: a consultation).
CONSULTATION_STEPS = frozenset(
    {"request_consultation", "consultation_called", "decide", "close", *ESCALATING_STEPS}
)
# Steps that take one dispatch off the case; "transfer" (the whole case) ends them all.
DISPATCH_ENDING_STEPS = frozenset({"cancel_dispatch", "return_dispatch", "transfer_dispatch"})


@dataclass(frozen=True)
class Attendance:
    """One invitation of a handler to a consultation that had the case on its agenda."""

    invitee: tuple[str, int]  # ("department", id) or ("team", id)
    checked_in_at: datetime | None
    late: bool


@dataclass
class Computed:
    case: dict
    dispatches: list[dict] = field(default_factory=list)


def missed(*, due_at: datetime, met_at: datetime | None, fired_at: datetime | None) -> bool:
    """A deadline passed before it was met: its timer fired, or it was met late (the one
    definition; the policy lab judges its replayed deadlines by it too)."""
    if fired_at is not None:
        return True
    return met_at is not None and met_at > due_at


def _missed(deadline: Deadline) -> bool:
    return missed(due_at=deadline.due_at, met_at=deadline.met_at, fired_at=deadline.fired_at)


def parked_in_time(*, case: Case, events: Sequence[Event], first_missed: list) -> bool:
    """Parked at the end of its filing month, by a suspension made before any limit passed:
    the closure rates leave it out for good, so nothing done later moves a closed month."""
    filed = timezone.localtime(case.filed_at)
    month_end = (filed.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    status, parked_at = None, None
    for event in events:
        if event.created_at >= month_end:
            break
        if event.to_status:
            if event.to_status == Status.SUSPENDED and status != Status.SUSPENDED:
                parked_at = event.created_at
            status = event.to_status
    if status != Status.SUSPENDED or parked_at is None:
        return False
    return not first_missed or parked_at < first_missed[0]


def compute_facts(
    *,
    case: Case,
    events: Sequence[Event],
    dispatches: Iterable[Dispatch],
    deadlines: Iterable[Deadline],
    attendance: Iterable[Attendance] = (),
    orders: Iterable[SupervisionOrder] = (),
    corrections: Iterable[ClosureCorrection] = (),
) -> Computed:
    """The CaseFact and DispatchFact values (as field dicts, without computed_at)."""
    events = sorted(events, key=lambda e: (e.created_at, e.pk))
    deadlines = list(deadlines)
    orders = list(orders)
    actions = [e.action for e in events]
    status = events[-1].to_status if events and events[-1].to_status else case.status
    closed = status == Status.CLOSED

    closing = None
    # The last closing, kept when the case is reopened (its figures stay in the period that
    # counted it), with the resolution it closed and its place in the log.
    kept, kept_resolution, kept_index = None, None, -1
    first_closing, reopened_at = None, None
    last_resolution = None
    for index, event in enumerate(events):
        if event.action in RESOLVING_ACTIONS:
            last_resolution = event
        if event.to_status == Status.CLOSED and event.from_status != Status.CLOSED:
            closing = event
            kept, kept_resolution, kept_index = event, last_resolution, index
            first_closing = first_closing or event
        elif (
            event.from_status == Status.CLOSED
            and event.to_status
            and event.to_status != Status.CLOSED
            and first_closing is not None
            and reopened_at is None
        ):
            reopened_at = event.created_at
        if event.action == "reopen":
            closing = None
    if closed and closing is None:
        kept = None  # closed without a closing step in the log: nothing to describe
    closed_level = ""
    end_of_handling = None
    if kept is not None:
        if kept.from_status == Status.RESOLVED and kept_resolution is not None:
            closed_level = kept_resolution.from_level
            end_of_handling = kept_resolution.created_at
        else:
            closed_level = kept.from_level
            end_of_handling = kept.created_at

    solved_by = _solved_by(events[: kept_index + 1]) if kept is not None else ""

    # The last rating given, kept when the case is reopened (a period counts it from rated_at).
    satisfaction, rated_at = "", None
    for event in events:
        if event.action == "evaluate":
            satisfaction = (event.data or {}).get("satisfaction", "")
            rated_at = event.created_at if satisfaction else None

    levels = [Level.VILLAGE] + [e.to_level for e in events if e.to_level]
    max_level = max(levels, key=lambda level: LEVEL_ORDER.get(level, 0))
    missed = sorted(d.due_at for d in deadlines if d.stage in LATE_STAGES and _missed(d))
    overdue = bool(missed)
    rework_count = actions.count("verify_fail")
    rejection = next((e for e in reversed(events) if e.action == "reject"), None)
    merged = (
        status == Status.REJECTED
        and rejection is not None
        and bool((rejection.data or {}).get("merged_into"))
    )
    handling_seconds = None
    if end_of_handling is not None:
        handling_seconds = calendar.seconds_between(
            start=case.filed_at, end=end_of_handling, working=True
        )

    closed_at = closing.created_at if closed and closing is not None else None
    corrections = list(corrections)
    correction = _correction_of(closing=closed_at, corrections=corrections)
    first_closed_at = None
    if first_closing is not None:
        first_correction = _correction_of(
            closing=first_closing.created_at, corrections=corrections, until=reopened_at
        )
        first_closed_at = (
            first_correction.counts_from
            if first_correction is not None
            else first_closing.created_at
        )
    first_rework = next((e for e in events if e.action == "verify_fail"), None)
    postponement = next(
        (e for e in events if e.action == "decide_postponement" and (e.data or {}).get("approved")),
        None,
    )
    values = {
        "city_id": case.city_id,
        "town_id": case.town_id,
        "village_id": case.village_id,
        "grid_id": case.grid_id,
        "item_id": case.item_id,
        "reporter_id": case.reporter_id,
        "filed_at": case.filed_at,
        "accepted": any(
            e.action == "accept" or (e.action == "whistle" and e.actor_id is not None)
            for e in events
        ),
        "rejected": status == Status.REJECTED,
        "closed": closed,
        "closed_at": correction.counts_from if correction is not None else closed_at,
        "closing_corrected": correction is not None,
        "first_closed_at": first_closed_at,
        "reopened_at": reopened_at,
        "closed_level": closed_level,
        "solved_by": solved_by,
        "resolved_at": last_resolution.created_at if last_resolution is not None else None,
        "overdue": overdue,
        "overdue_at": missed[0] if missed else None,
        "late_count": len(missed),
        "closed_on_time": kept is not None and not overdue,
        "reworked": rework_count > 0,
        "reworked_at": first_rework.created_at if first_rework is not None else None,
        "rework_count": rework_count,
        "postponed": postponement is not None,
        "postponed_at": postponement.created_at if postponement is not None else None,
        "suspended": parked_in_time(case=case, events=events, first_missed=missed[:1]),
        "was_suspended": "suspend" in actions,
        "whistled": "whistle" in actions,
        "escalated": not ESCALATING_STEPS.isdisjoint(actions),
        "max_level": max_level,
        "satisfaction": satisfaction,
        "rated_at": rated_at,
        "handling_seconds": handling_seconds,
        "merged": merged,
        "supporters": actions.count("support"),
        "last_event_id": max((e.pk for e in events), default=0),
    }
    reworks = _reworks_by_dispatch(events)
    return Computed(
        case=values,
        dispatches=[
            _dispatch_facts(
                case=case,
                dispatch=dispatch,
                events=events,
                rework=reworks.get(dispatch.pk, (0, None)),
                deadlines=deadlines,
                attendance=attendance,
                orders=[order for order in orders if order.dispatch_id == dispatch.pk],
            )
            for dispatch in dispatches
        ],
    )


def _correction_of(
    *,
    closing: datetime | None,
    corrections: Iterable[ClosureCorrection],
    until: datetime | None = None,
) -> ClosureCorrection | None:
    """The correction of a closing: the latest one recorded since it (an older one was about
    an earlier closing, before a reopening) and, for a closing since undone, before `until`."""
    if closing is None:
        return None
    applying = [
        c
        for c in corrections
        if c.recorded_at >= closing and (until is None or c.recorded_at < until)
    ]
    return max(applying, key=lambda c: (c.recorded_at, c.pk), default=None)


def _solved_by(events: Sequence[Event]) -> str:
    """Who solved a closed case: the village itself, the town's teams, or a committee's
    consultation (since it was last reopened)."""
    consulted = False
    on_the_spot = False
    for event in events:
        if event.action == "reopen":
            consulted = on_the_spot = False
        elif event.action in CONSULTATION_STEPS:
            consulted = True
        elif event.action in RESOLVING_ACTIONS:
            on_the_spot = event.action == "resolve_on_spot"
    if on_the_spot:
        return SolvedBy.VILLAGE
    return SolvedBy.CONSULTATION if consulted else SolvedBy.TEAM


def _reworks_by_dispatch(events: Sequence[Event]) -> dict[int, tuple[int, datetime]]:
    """dispatch id -> (failed verifications of resolutions it took part in, when the first
    failed): the dispatches reported in and still on the case when the case was resolved."""
    reported: set[int] = set()
    resolvers: set[int] = set()
    counts: dict[int, tuple[int, datetime]] = {}
    for event in events:
        if event.action == "report_in" and event.dispatch_id:
            reported.add(event.dispatch_id)
        elif event.action in DISPATCH_ENDING_STEPS and event.dispatch_id:
            reported.discard(event.dispatch_id)
        elif event.action == "transfer":
            reported.clear()
        elif event.action == "resolve":
            resolvers = set(reported)
        elif event.action == "resolve_on_spot":
            resolvers = set()
        elif event.action == "verify_fail":
            for dispatch_id in resolvers:
                count, first = counts.get(dispatch_id, (0, event.created_at))
                counts[dispatch_id] = (count + 1, first)
    return counts


def _dispatch_facts(
    *,
    case: Case,
    dispatch: Dispatch,
    events: Sequence[Event],
    rework: tuple[int, datetime | None],
    deadlines: Sequence[Deadline],
    attendance: Iterable[Attendance],
    orders: Sequence[SupervisionOrder],
) -> dict:
    rework_count, reworked_at = rework
    urge_count = sum(1 for e in events if e.action == "urge" and e.dispatch_id == dispatch.pk)
    own = {e.action for e in events if e.dispatch_id == dispatch.pk}
    late = dispatch.late or "report_in_late" in own
    reported_on_time = (
        dispatch.reported_in_at is not None
        and not late
        and dispatch.reported_in_at <= dispatch.report_in_due
    )
    invitee = (
        ("team", dispatch.team_id) if dispatch.team_id else ("department", dispatch.department_id)
    )
    invitations = [a for a in attendance if a.invitee == invitee]
    return {
        "dispatch_id": dispatch.pk,
        "case_fact_id": case.pk,
        "team_id": dispatch.team_id,
        "department_id": dispatch.department_id,
        "city_id": case.city_id,
        "town_id": case.town_id,
        "village_id": case.village_id,
        "grid_id": case.grid_id,
        "reporter_id": case.reporter_id,
        "origin": dispatch.origin,
        "dispatched_at": dispatch.dispatched_at,
        "report_in_due": dispatch.report_in_due,
        "reported_in_at": dispatch.reported_in_at,
        "reported_on_time": reported_on_time,
        "late": late,
        "cancelled": dispatch.state == Dispatch.State.CANCELLED,
        "returned": "return_dispatch" in own,
        "return_upheld": "uphold_return" in own,
        "return_overruled": "overrule_return" in own,
        "resolved_at": dispatch.resolved_at,
        "reworked": rework_count > 0,
        "reworked_at": reworked_at,
        "rework_count": rework_count,
        "task_due_at": dispatch.due_at,
        "task_overdue": any(
            d.dispatch_id == dispatch.pk and d.stage == Stage.HANDLING and _missed(d)
            for d in deadlines
        ),
        "consultation_invited": bool(invitations),
        "consultation_attended": any(a.checked_in_at is not None for a in invitations),
        "consultation_late": any(a.late for a in invitations),
        "urged": urge_count > 0,
        "urge_count": urge_count,
        "supervised": bool(orders),
        "supervision_late": any(order.met_late for order in orders),
        "spot_checked": bool(own & SPOT_CHECK_OUTCOMES),
        "false_reply": "spot_check_failed" in own,
    }


def attendance_by_case(case_ids: Sequence[int]) -> Mapping[int, list[Attendance]]:
    """Invitations of departments and teams to consultations on these cases' agendas.

    Read from the consultation app when it is installed; empty otherwise."""
    from django.apps import apps

    try:
        agenda_model = apps.get_model("consultation", "AgendaItem")
        invitation_model = apps.get_model("consultation", "Invitation")
    except LookupError:
        return {}
    consultations: dict[int, list[int]] = {}
    for case_id, consultation_id in agenda_model.objects.filter(case_id__in=case_ids).values_list(
        "case_id", "consultation_id"
    ):
        consultations.setdefault(consultation_id, []).append(case_id)
    if not consultations:
        return {}
    result: dict[int, list[Attendance]] = {}
    rows = invitation_model.objects.filter(
        consultation_id__in=list(consultations), user__isnull=True
    ).values_list("consultation_id", "department_id", "team_id", "checked_in_at", "late")
    for consultation_id, department_id, team_id, checked_in_at, late in rows:
        invitee = ("team", team_id) if team_id else ("department", department_id)
        for case_id in consultations[consultation_id]:
            result.setdefault(case_id, []).append(
                Attendance(invitee=invitee, checked_in_at=checked_in_at, late=bool(late))
            )
    return result
