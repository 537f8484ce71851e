"""The rule of a dispatch's current clock, written out in Python as the check of the copy the
dispatch keeps (cases.timers.sync_dispatch_board): every test that touches the database ends
by comparing the two (tests/conftest.py), so a service that changes a clock and forgets the
copy fails whatever it was testing."""

from collections import defaultdict

from cases.models import OPEN_STATUSES, Deadline, Dispatch
from checklists.models import Stage


def _latest(deadlines: list[Deadline]) -> Deadline | None:
    return max(deadlines, key=lambda d: (d.started_at, d.pk), default=None)


def expected_clock(dispatch: Dispatch, running: list[Deadline]) -> Deadline | None:
    """The clock the dispatch shows, from the case's clocks not yet met."""
    own = [d for d in running if d.dispatch_id == dispatch.pk]
    if dispatch.state == Dispatch.State.WAITING:
        return _latest([d for d in own if d.stage == Stage.REPORT_IN])
    if dispatch.state == Dispatch.State.REPORTED:
        # Not the committee's review of a suspended case: the unit's clocks stand still.
        return _latest([d for d in own if d.stage != Stage.REPORT_IN]) or _latest(
            [d for d in running if d.dispatch_id is None and d.stage != Stage.SUSPENSION_REVIEW]
        )
    return None


def stale_board_copies() -> list[str]:
    """The dispatches whose copy differs from the rule, described: `on_board` (waiting or
    reported in, on an open case) for every dispatch, and the clock's times for active ones."""
    dispatches = list(Dispatch.objects.select_related("case"))
    active = [d for d in dispatches if d.state in (Dispatch.State.WAITING, Dispatch.State.REPORTED)]
    running: dict[int, list[Deadline]] = defaultdict(list)
    for deadline in Deadline.objects.filter(
        case_id__in={d.case_id for d in active}, met_at__isnull=True
    ):
        running[deadline.case_id].append(deadline)
    stale = []
    for dispatch in dispatches:
        on_board = dispatch in active and dispatch.case.status in OPEN_STATUSES
        if dispatch.on_board != on_board:
            stale.append(f"dispatch {dispatch.pk} ({dispatch.state}): on_board {on_board}")
    for dispatch in active:
        clock = expected_clock(dispatch, running[dispatch.case_id])
        expected = (
            (clock.pk, clock.due_at, clock.warn_at, clock.paused_at) if clock else (None,) * 4
        )
        stored = (
            dispatch.clock_deadline_id,
            dispatch.clock_due_at,
            dispatch.clock_warn_at,
            dispatch.clock_paused_at,
        )
        if stored != expected:
            stale.append(f"dispatch {dispatch.pk} ({dispatch.state}): {stored} != {expected}")
    return stale
