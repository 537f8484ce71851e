"""Writing the assessment: refreshing and rebuilding facts, and the towns' evaluations.

Facts are refreshed per case after every committed change (assessment.hooks), by a periodic
sweep of stale cases (a broker that was down only delays them), and rebuilt from the event log
by `manage.py rebuild_facts`. All three go through `_refresh_batch`, so they agree.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import selectors
from assessment.facts import attendance_by_case, compute_facts
from assessment.models import (
    CaseFact,
    ClosureCorrection,
    DispatchFact,
    FactMonth,
    PeriodCounts,
    TownEvaluation,
)
from assessment.periods import Period
from cases.access import access_case, scope_of
from cases.errors import IllegalTransition, InvalidInput, NotAllowed
from cases.models import Case, Deadline, Dispatch, Event, Status, SupervisionOrder
from core import leases
from teams.levels import level_words
from teams.models import Department, Region, Role, User

logger = logging.getLogger(__name__)

# What a refresh writes over a fact's row: all but its key (the row and its month) and the time.
CASE_FIELDS = [
    f.attname
    for f in CaseFact._meta.concrete_fields
    if f.attname not in ("case_id", "filed_at", "computed_at")
]
DISPATCH_FIELDS = [
    f.attname
    for f in DispatchFact._meta.concrete_fields
    if f.attname not in ("dispatch_id", "dispatched_at", "computed_at")
]


def _refresh_batch(*, case_ids: Sequence[int]) -> int:
    """Compute and store the facts of these cases, reading their rows in a bounded number of
    queries. Returns how many cases were written."""
    if not case_ids:
        return 0
    cases = list(Case.objects.filter(pk__in=case_ids))
    events: dict[int, list[Event]] = defaultdict(list)
    for event in Event.objects.of_cases(cases).order_by("created_at", "id"):
        events[event.case_id].append(event)
    dispatches: dict[int, list[Dispatch]] = defaultdict(list)
    for dispatch in Dispatch.objects.filter(case_id__in=case_ids).order_by("id"):
        dispatches[dispatch.case_id].append(dispatch)
    deadlines: dict[int, list[Deadline]] = defaultdict(list)
    for deadline in Deadline.objects.of_cases(cases).order_by("id"):
        deadlines[deadline.case_id].append(deadline)
    orders: dict[int, list[SupervisionOrder]] = defaultdict(list)
    for order in SupervisionOrder.objects.filter(case_id__in=case_ids).order_by("id"):
        orders[order.case_id].append(order)
    attendance = attendance_by_case(case_ids)
    corrections: dict[int, list[ClosureCorrection]] = defaultdict(list)
    for correction in ClosureCorrection.objects.filter(case_id__in=case_ids):
        corrections[correction.case_id].append(correction)
    now = timezone.now()
    case_rows, dispatch_rows = [], []
    for case in cases:
        computed = compute_facts(
            case=case,
            events=events[case.pk],
            dispatches=dispatches[case.pk],
            deadlines=deadlines[case.pk],
            attendance=attendance.get(case.pk, ()),
            orders=orders[case.pk],
            corrections=corrections[case.pk],
        )
        case_rows.append(CaseFact(case_id=case.pk, computed_at=now, **computed.case))
        dispatch_rows.extend(DispatchFact(computed_at=now, **row) for row in computed.dispatches)
    CaseFact.objects.bulk_create(
        case_rows,
        update_conflicts=True,
        # The pair the facts are partitioned by (its month) on PostgreSQL; a case's filing time
        # (and a dispatch's sending time) never changes, so it is one row a case.
        unique_fields=["case", "filed_at"],
        update_fields=[*CASE_FIELDS, "computed_at"],
    )
    if dispatch_rows:
        DispatchFact.objects.bulk_create(
            dispatch_rows,
            update_conflicts=True,
            unique_fields=["dispatch", "dispatched_at"],
            update_fields=[*DISPATCH_FIELDS, "computed_at"],
        )
    months = {_month_of(row.filed_at) for row in case_rows}
    months |= {_month_of(row.dispatched_at) for row in dispatch_rows}
    touch_fact_months(months=months)
    return len(case_rows)


def _month_of(moment) -> date:
    return timezone.localtime(moment).date().replace(day=1)


def touch_fact_months(*, months: Iterable[date]) -> None:
    """Give these months new tokens: what was counted from their facts is out of date.

    Written in the transaction that writes the facts: a reader that sees the new token sees the
    new facts; one that counted new facts under the old token stored them under a key nobody
    asks for any more. Months are locked in date order, after the cases, as every writer does."""
    months = sorted(set(months))
    if not months:
        return
    now = timezone.now()
    FactMonth.objects.bulk_create(
        [FactMonth(month=month, token=uuid.uuid4(), changed_at=now) for month in months],
        update_conflicts=True,
        unique_fields=["month"],
        update_fields=["token", "changed_at"],
    )


def refresh_case_facts(*, case_id: int) -> bool:
    """Recompute one case's facts, holding its row lock so that two refreshes of the same case
    (or a refresh racing a service) cannot store an older picture over a newer one."""
    with transaction.atomic():
        exists = (
            Case.objects.select_for_update(of=("self",))
            .filter(pk=case_id)
            .values_list("pk", flat=True)
            .first()
        )
        if exists is None:
            return False
        return _refresh_batch(case_ids=[case_id]) == 1


def refresh_cases_facts(*, case_ids: Sequence[int], chunk: int = 50) -> int:
    """Recompute the facts of many cases (a batch of timer firings), a chunk at a time under
    the chunk's row locks, taken in id order as every writer does. Returns how many were
    written."""
    ordered = sorted(set(case_ids))
    written = 0
    for start in range(0, len(ordered), chunk):
        with transaction.atomic():
            present = list(
                Case.objects.select_for_update(of=("self",))
                .filter(pk__in=ordered[start : start + chunk])
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            written += _refresh_batch(case_ids=present)
    return written


# How far back the stale-facts sweep reads events: every two minutes, and in its daily pass.
STALE_LOOKBACK = timedelta(days=1)
STALE_LOOKBACK_DAILY = timedelta(days=7)


def stale_case_ids(
    *,
    limit: int = 2000,
    lookback: timedelta = STALE_LOOKBACK,
    whole_history: bool = False,
) -> list[int]:
    """Cases whose facts are missing or older than the case: it has events within `lookback`
    the facts have not seen, or no fact row at all (the timer's overdue and late events do not
    touch updated_at), or a consultation check-in since.

    The frequent sweep reads only what changed within `lookback` (its events' own monthly
    partitions): over a megacity's history a pass over every case took 29 s of a worker every
    two minutes. `whole_history` (the daily pass) also finds any case in the history without
    a fact row, or changed after its facts (updated_at > computed_at) with no event."""
    found: list[int] = []

    def take(values) -> None:
        for case_id in values:
            if case_id not in found:
                found.append(case_id)

    if whole_history:
        take(
            Case.objects.filter(fact__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
    if whole_history and len(found) < limit:
        take(
            Case.objects.filter(updated_at__gt=F("fact__computed_at"))
            .order_by("pk")
            .values_list("pk", flat=True)[: limit - len(found)]
        )
    since = timezone.now() - lookback
    if len(found) < limit:
        take(
            Event.objects.filter(created_at__gte=since)
            .filter(Q(case__fact__isnull=True) | Q(id__gt=F("case__fact__last_event_id")))
            .order_by("case_id")
            .values_list("case_id", flat=True)
            .distinct()[: limit - len(found)]
        )
    if len(found) < limit:
        take(_checked_in_since(since=since, limit=limit - len(found)))
    return found[:limit]


def _checked_in_since(*, since, limit: int) -> list[int]:
    try:
        agenda_model = apps.get_model("consultation", "AgendaItem")
    except LookupError:
        return []
    return list(
        agenda_model.objects.filter(
            consultation__invitations__checked_in_at__gte=since,
            consultation__invitations__checked_in_at__gt=F("case__fact__computed_at"),
        )
        .order_by("case_id")
        .values_list("case_id", flat=True)
        .distinct()[:limit]
    )


def refresh_stale_facts(
    *, limit: int = 2000, batch_size: int = 200, whole_history: bool = False
) -> int:
    """The periodic safety net: refresh what the after-commit refresh missed; the daily pass
    (`whole_history`) looks back seven days and over every case (stale_case_ids)."""
    ids = stale_case_ids(
        limit=limit,
        lookback=STALE_LOOKBACK_DAILY if whole_history else STALE_LOOKBACK,
        whole_history=whole_history,
    )
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            _refresh_batch(case_ids=ids[start : start + batch_size])
    return len(ids)


def rebuild_all_facts(*, batch_size: int = 500, stdout=None) -> int:
    """Recompute every case's facts from its events, in batches of case ids (bounded memory:
    one batch of cases, events and dispatches at a time)."""
    total = 0
    last = 0
    while True:
        ids = list(
            Case.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        with transaction.atomic():
            total += _refresh_batch(case_ids=ids)
        last = ids[-1]
        if stdout is not None:
            stdout.write(f"{total} cases\n")
    return total


# --- the towns' monthly evaluation of departments -------------------------------------------


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def evaluable_months(*, today: date | None = None) -> list[date]:
    """The months a town may still evaluate: the current one and the one before."""
    current = first_of_month(today or timezone.localdate())
    previous = first_of_month(current - timedelta(days=1))
    return [current, previous]


def record_town_evaluation(
    *,
    user: User,
    town_id: int,
    department_id: int,
    month: date,
    score: Decimal | float | int | str,
    note: str = "",
) -> TownEvaluation:
    """A town committee rates a department's work in its town for a month. Given again, a new
    row replaces the month's current one (the table is append-only: core.db_roles), so every
    score ever given stays. Only the current and previous month are open."""
    if town_id not in scope_of(user).regions_of(Role.TOWN_COMMITTEE):
        raise NotAllowed(
            _("Only the %(town)s's committee can evaluate departments for the %(town)s.")
            % level_words()
        )
    town = Region.objects.filter(pk=town_id, level=Region.Level.TOWN).first()
    if town is None:
        raise NotAllowed()
    errors: dict[str, list[str]] = {}
    department = Department.objects.filter(
        Q(region_id=town.pk) | Q(region_id=town.parent_id), pk=department_id
    ).first()
    if department is None:
        errors["department"] = [
            _("Choose a department of this %(town)s or its %(city)s.") % level_words()
        ]
    month = first_of_month(month) if month else None
    if month is None or month not in evaluable_months():
        errors["month"] = [_("Only the current and the previous month can be evaluated.")]
    try:
        value = Decimal(str(score)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        value = None
    if value is None or not value.is_finite() or not (0 <= value <= 100):
        errors["score"] = [_("Enter a score from 0 to 100.")]
    if errors:
        raise InvalidInput(fields=errors)
    fields = {
        "town": town,
        "department": department,
        "month": month,
        "score": value,
        "evaluated_by": user,
        "note": (note or "").strip()[:2000],
    }
    try:
        return _add_town_evaluation(fields)
    except IntegrityError:
        # Another evaluation of the month was added meanwhile (the unique constraints let one
        # of two at once in): this one replaces it, so neither score is lost.
        return _add_town_evaluation(fields)


def _add_town_evaluation(fields: dict) -> TownEvaluation:
    with transaction.atomic():
        current = (
            TownEvaluation.current()
            .filter(town=fields["town"], department=fields["department"], month=fields["month"])
            .first()
        )
        return TownEvaluation.objects.create(**fields, replaces=current)


# --- stored counts ----------------------------------------------------------------------------

# The kinds of period whose overview is kept counted for every city and town. A year is
# counted by the page when asked (and cached while its facts do not change): recounting the
# current year of a busy city every half minute would cost more than the pages it saves.
KEPT_KINDS = ("month", "quarter")


def recount_period_counts(*, unit_type: str, unit_id: int, periods: Sequence[Period]) -> int:
    """Count and store the periods of one unit whose stored counts are missing or no longer
    current. Returns how many were counted.

    The state is read before counting: facts written meanwhile leave the stored state behind
    the facts, so the next run counts again; never the other way round."""
    periods = list(dict.fromkeys(periods))
    states = selectors.fact_states(periods)
    stored = {
        (start, end): state
        for start, end, state in selectors.stored_period_counts(
            unit_type=unit_type, unit_id=unit_id, periods=periods
        ).values_list("start", "end", "state")
    }
    stale = [
        period for period in periods if stored.get((period.start, period.end)) != states[period]
    ]
    if not stale:
        return 0
    counted = selectors.count_periods(unit_type, unit_id, stale)
    now = timezone.now()
    rows = [
        PeriodCounts(
            unit_type=unit_type,
            unit_id=unit_id,
            start=period.start,
            end=period.end,
            counts=counted[period],
            state=states[period],
            counted_at=now,
        )
        for period in sorted(stale, key=lambda period: (period.start, period.end))
    ]
    PeriodCounts.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["unit_type", "unit_id", "start", "end"],
        update_fields=["counts", "state", "counted_at"],
    )
    cache.set_many(
        {
            selectors.counts_key(unit_type, unit_id, period, states[period]): counted[period]
            for period in stale
        },
        selectors.COUNTS_CACHE_SECONDS,
    )
    return len(stale)


# One recount at a time across every worker: the beat asks for one every
# WHISTLE_COUNTS_KEEP_SECONDS, and over a megacity's history a recount after a busy minute
# takes longer than that (10 to 110 s at 20,000,000 cases), so overlapping recounts took every
# worker process while 10,000 clocks fell due. The lease outlasts any recount measured; one a
# dead worker left runs out after it.
RECOUNT_LEASE = "assessment.keep_overview_counts"
RECOUNT_LEASE_SECONDS = 900.0


def keep_overview_counts(*, today: date | None = None) -> int:
    """Periodic: keep the overview of every prefecture, city and town counted (this month's and
    quarter's, with their trends), so that a committee's or supervisor's overview reads stored
    counts instead of counting up to millions of facts while the city works. Only periods
    whose facts changed are counted again. Returns how many periods were counted; 0 at once
    while another worker's recount runs (it counts what changed meanwhile next time)."""
    holder = leases.new_holder()
    if not leases.hold_lease(name=RECOUNT_LEASE, holder=holder, seconds=RECOUNT_LEASE_SECONDS):
        return 0
    try:
        return _keep_overview_counts(today=today)
    finally:
        leases.release_lease(name=RECOUNT_LEASE, holder=holder)


def _keep_overview_counts(*, today: date | None) -> int:
    today = today or timezone.localdate()
    periods = [
        period
        for kind in KEPT_KINDS
        for period in selectors.overview_periods(kind=kind, anchor=today)
    ]
    units = Region.objects.filter(
        level__in=[Region.Level.PREFECTURE, Region.Level.CITY, Region.Level.TOWN]
    ).order_by("level", "pk")
    counted = 0
    for pk, level in units.values_list("pk", "level"):
        counted += recount_period_counts(unit_type=level, unit_id=pk, periods=periods)
    return counted


# --- corrections of closed periods -----------------------------------------------------------


def correct_closing(
    *, user: User, case_id: int, counts_from: datetime, reason: str
) -> ClosureCorrection:
    """The city's supervisor says from when a closed case counts as closed, and why (e.g. it
    was verified on site on the 30th and recorded on the 2nd). This is the only way a closed
    period's figures change after the fact: the facts take the correction, the period's page
    lists it with its reason."""
    case = access_case(user=user, pk=case_id)
    if case.city_id not in scope_of(user).regions_of(Role.SUPERVISOR):
        raise NotAllowed(_("Only the %(city)s's supervisors correct the figures.") % level_words())
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the figures are corrected.")]
    if counts_from is None:
        errors["counts_from"] = [_("Give the moment the case counts as closed from.")]
    elif counts_from > timezone.now():
        errors["counts_from"] = [_("The correction cannot be in the future.")]
    elif counts_from < case.filed_at:
        errors["counts_from"] = [_("The case cannot count as closed before it was filed.")]
    if errors:
        raise InvalidInput(fields=errors)
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
        if locked.status != Status.CLOSED:
            raise IllegalTransition(_("Only a closed case's closing can be corrected."))
        correction = ClosureCorrection.objects.create(
            case=locked,
            counts_from=counts_from,
            reason=reason[:2000],
            recorded_by=user,
            recorded_at=timezone.now(),
        )
        _refresh_batch(case_ids=[locked.pk])
        return correction
