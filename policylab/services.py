"""Writing the policy lab: scenarios, replays (queued, run by a Celery task, cancelled).

Nothing here writes a live row: a scenario is a copy of the rules, and a replay writes only
its own rows (policylab.models).
"""

import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import indicators as formulas
from assessment import scoring
from assessment import selectors as assessment_selectors
from assessment.periods import MAX_CUSTOM_DAYS, Period
from checklists.models import Item
from core.errors import ServiceError
from policylab import access
from policylab.errors import LabError, ReplayState
from policylab.models import Replay, ReplayCaseFact, ReplayDispatchFact, Scenario
from policylab.replay import Cancelled, Tally, cohort, replay_period, replay_span
from policylab.rules import Rules, limits_in_force, parse_rules, rules_of, scheme_in_force
from teams.levels import level_words
from teams.models import Department, Region, User
from teams.service_areas import teams_serving, teams_within

logger = logging.getLogger(__name__)

MAX_NAME = 100


def _name(value: str) -> str:
    name = (value or "").strip()
    if not name:
        raise LabError(fields={"name": [_("Give it a name.")]})
    if len(name) > MAX_NAME:
        raise LabError(fields={"name": [_("At most %(max)s characters.") % {"max": MAX_NAME}]})
    return name


# --- scenarios ------------------------------------------------------------------------------


def create_scenario(*, user: User, city: Region, name: str, note: str = "") -> Scenario:
    """A new scenario for the city, starting from the rules in force: every item's limits,
    the yellow light of each limit, no calendar change, the scoring scheme in force."""
    if city.pk not in access.require_lab(user):
        raise access.NotInLab()
    return Scenario.objects.create(
        city=city,
        name=_name(name),
        note=note.strip(),
        limits=limits_in_force(),
        scheme=scheme_in_force(),
        created_by=user,
    )


def update_scenario(
    *,
    user: User,
    scenario_id: int,
    name: str,
    note: str,
    limits: list[dict],
    holidays: list,
    workdays: list,
    yellow_at_percent: int | None,
    scheme: dict,
) -> Scenario:
    """Change a scenario's rules; every error is listed (by field) and nothing is changed.
    Replays already run keep the rules they ran under."""
    errors: dict[str, list[str]] = {}
    checked_name, rules = "", None
    try:
        checked_name = _name(name)
    except ServiceError as error:
        errors.update(error.fields)
    try:
        rules = parse_rules(
            limits=limits,
            holidays=holidays,
            workdays=workdays,
            yellow_at_percent=yellow_at_percent,
            scheme=scheme,
        )
    except ServiceError as error:
        errors.update(error.fields)
    named = {}
    for row in limits:
        try:
            named[int(row["item"])] = row.get("stage")
        except (KeyError, TypeError, ValueError):
            continue
    known = set(Item.objects.filter(pk__in=list(named)).values_list("pk", flat=True))
    for item, stage in sorted(named.items()):
        if item not in known:
            errors.setdefault(f"limit_{item}_{stage}", []).append(
                _("There is no checklist item %(item)s.") % {"item": item}
            )
    if errors or rules is None:
        raise LabError(fields=errors)
    with transaction.atomic():
        scenario = access.access_scenario(user=user, pk=scenario_id, for_update=True)
        stored = rules.as_json()
        scenario.name = checked_name
        scenario.note = (note or "").strip()
        scenario.limits = stored["limits"]
        scenario.holidays = stored["holidays"]
        scenario.workdays = stored["workdays"]
        scenario.yellow_at_percent = stored["yellow_at_percent"]
        scenario.scheme = stored["scheme"]
        scenario.save()
    return scenario


def delete_scenario(*, user: User, scenario_id: int) -> None:
    """Delete a scenario and its replays (a running replay is cancelled first)."""
    with transaction.atomic():
        scenario = access.access_scenario(user=user, pk=scenario_id, for_update=True)
        if scenario.replays.filter(state__in=(Replay.State.QUEUED, Replay.State.RUNNING)).exists():
            raise ReplayState(_("A replay of this scenario is still running: cancel it first."))
        scenario.delete()


def scenario_rules(scenario: Scenario) -> Rules:
    return rules_of(
        {
            "limits": scenario.limits,
            "holidays": scenario.holidays,
            "workdays": scenario.workdays,
            "yellow_at_percent": scenario.yellow_at_percent,
            "scheme": scenario.scheme,
        }
    )


# --- replays --------------------------------------------------------------------------------


def request_replay(
    *, user: User, scenario_id: int, place_id: int, period: Period, name: str
) -> Replay:
    """Queue a replay of the scenario over the place's cases of the period (run by a Celery
    task after commit). Refused with a clear message: a period not yet begun or too long, a
    place outside the scenario's city, a period with no cases."""
    scenario = access.access_scenario(user=user, pk=scenario_id)
    place = access.access_place(user=user, pk=place_id)
    if access.city_of(place) != scenario.city_id:
        raise LabError(
            fields={"place": [_("The place is not in the scenario's %(city)s.") % level_words()]}
        )
    if period.start > timezone.localdate():
        raise LabError(
            fields={"period": [_("The period has not begun: there is nothing to replay.")]}
        )
    if (period.end - period.start).days > MAX_CUSTOM_DAYS:
        raise LabError(fields={"period": [_("A replay covers at most ten years.")]})
    if not cohort(region=place, period=period).exists():
        raise LabError(
            fields={
                "period": [
                    _(
                        "No case of %(place)s was filed or dispatched in %(period)s: "
                        "nothing to replay."
                    )
                    % {"place": place.name, "period": str(period)}
                ]
            }
        )
    rules = scenario_rules(scenario)
    replay = Replay.objects.create(
        scenario=scenario,
        name=_name(name or f"{scenario.name} · {place.name} · {period}"),
        region=place,
        period_kind=period.kind,
        period_start=period.start,
        period_end=period.end,
        rules=rules.as_json(),
        requested_by=user,
    )
    from policylab import tasks

    transaction.on_commit(lambda: tasks.run_replay.delay(replay.pk))
    return replay


def cancel_replay(*, user: User, replay_id: int) -> Replay:
    """Ask a queued or running replay to stop; the task stops after its current chunk and
    removes what it wrote. A queued replay is cancelled at once."""
    with transaction.atomic():
        replay = access.access_replay(user=user, pk=replay_id, for_update=True)
        if replay.state not in (Replay.State.QUEUED, Replay.State.RUNNING):
            raise ReplayState(_("Only a queued or running replay can be cancelled."))
        replay.cancel_requested = True
        fields = ["cancel_requested"]
        if replay.state == Replay.State.QUEUED:
            replay.state = Replay.State.CANCELLED
            replay.finished_at = timezone.now()
            fields += ["state", "finished_at"]
        replay.save(update_fields=fields)
    return replay


def rename_replay(*, user: User, replay_id: int, name: str) -> Replay:
    with transaction.atomic():
        replay = access.access_replay(user=user, pk=replay_id, for_update=True)
        replay.name = _name(name)
        replay.save(update_fields=["name"])
    return replay


def delete_replay(*, user: User, replay_id: int) -> None:
    with transaction.atomic():
        replay = access.access_replay(user=user, pk=replay_id, for_update=True)
        if replay.state in (Replay.State.QUEUED, Replay.State.RUNNING):
            raise ReplayState(_("The replay is still running: cancel it first."))
        replay.delete()


def run_replay(*, replay_id: int) -> str:
    """The task's work: claim the queued replay, replay its period chunk by chunk (progress
    after each, stopping when cancelled), then count its indicators and rankings beside the
    live ones. Returns the final state."""
    with transaction.atomic():
        now = timezone.now()
        replay = (
            Replay.objects.select_for_update()
            .filter(_claimable(now), pk=replay_id, cancel_requested=False)
            .first()
        )
        if replay is None:
            return "skipped"  # cancelled before it started, or already run by another worker
        if replay.state == Replay.State.RUNNING:
            _discard(replay_id)  # a worker died mid-run: start again from nothing
        replay.state = Replay.State.RUNNING
        replay.started_at = replay.progress_at = now
        replay.cases_done = 0
        replay.save(update_fields=["state", "started_at", "progress_at", "cases_done"])
    replay = Replay.objects.select_related("region", "requested_by").get(pk=replay_id)
    period = replay_period_of(replay)

    try:
        rules = rules_of(replay.rules)
        tally = replay_period(
            replay=replay,
            rules=rules,
            period=period,
            now=replay.started_at,
            progress=_progress(replay_id),
            started=lambda total: Replay.objects.filter(pk=replay_id).update(cases_total=total),
            processes=settings.WHISTLE_REPLAY_PROCESSES,
        )
        summary = {
            "tally": tally.as_json(),
            "live": summarise(replay=replay, period=period, facts=None, scheme=scoring.InForce),
            "scenario": summarise(
                replay=replay,
                period=period,
                facts=replay_facts(replay),
                scheme=rules.scheme if rules.scheme is not None else scoring.InForce,
            ),
            "counted_at": timezone.now().isoformat(),
        }
    except Cancelled:
        _discard(replay_id)
        Replay.objects.filter(pk=replay_id).update(
            state=Replay.State.CANCELLED, finished_at=timezone.now()
        )
        return Replay.State.CANCELLED
    except Exception as error:
        logger.exception("Replay %s failed", replay_id)
        _discard(replay_id)
        Replay.objects.filter(pk=replay_id).update(
            state=Replay.State.FAILED, finished_at=timezone.now(), error=str(error)[:2000]
        )
        return Replay.State.FAILED
    Replay.objects.filter(pk=replay_id).update(
        state=Replay.State.DONE,
        finished_at=timezone.now(),
        summary=summary,
        cases_done=F("cases_total"),
    )
    return Replay.State.DONE


def replay_helper_span(*, replay_id: int, low: int, high: int, changed: set[tuple]) -> Tally:
    """A helper process's share of a running replay: its cases with ids from `low` to `high`
    (policylab.helpers). It stops at the next chunk when a cancel is asked or when the
    process that started it is gone (a worker that died: the replay is run again)."""
    replay = Replay.objects.select_related("region").get(pk=replay_id, state=Replay.State.RUNNING)
    rows = cohort(region=replay.region, period=replay_period_of(replay))
    return replay_span(
        replay=replay,
        rules=rules_of(replay.rules),
        rows=rows,
        case_ids=list(
            rows.filter(case_id__gte=low, case_id__lte=high)
            .order_by("case_id")
            .values_list("case_id", flat=True)
        ),
        changed=changed,
        now=replay.started_at,
        progress=_progress(replay_id, parent=os.getppid()),
    )


def _progress(replay_id: int, *, parent: int | None = None) -> Callable[[int], None]:
    """After each chunk: add the cases done since the last call (`done` counts this process's
    cases) to the replay's row, and raise Cancelled when a cancel is asked (or, for a helper,
    when its `parent` process is gone)."""
    reported = 0

    def progress(done: int) -> None:
        nonlocal reported
        Replay.objects.filter(pk=replay_id).update(
            cases_done=F("cases_done") + (done - reported), progress_at=timezone.now()
        )
        reported = done
        if Replay.objects.filter(pk=replay_id, cancel_requested=True).exists() or (
            parent is not None and os.getppid() != parent
        ):
            raise Cancelled()

    return progress


# A running replay without progress for this long lost its worker; a queued one this old lost
# its message (the broker was down): resume_stalled_replays queues them again.
STALLED = timedelta(minutes=10)


def _claimable(now: datetime) -> Q:
    return Q(state=Replay.State.QUEUED) | Q(
        state=Replay.State.RUNNING, progress_at__lt=now - STALLED
    )


def resume_stalled_replays(*, now: datetime | None = None) -> int:
    """Queue again the replays whose worker died or whose message was lost (the beat calls it);
    run_replay claims each once. A stalled replay whose cancel was asked is cancelled here."""
    now = now or timezone.now()
    stalled = Replay.objects.filter(
        Q(state=Replay.State.QUEUED, created_at__lt=now - STALLED)
        | Q(state=Replay.State.RUNNING, progress_at__lt=now - STALLED)
    )
    cancelled = list(stalled.filter(cancel_requested=True).values_list("pk", flat=True))
    for replay_id in cancelled:
        _discard(replay_id)
    Replay.objects.filter(pk__in=cancelled).update(state=Replay.State.CANCELLED, finished_at=now)
    ids = list(stalled.filter(cancel_requested=False).values_list("pk", flat=True))
    from policylab import tasks

    for replay_id in ids:
        transaction.on_commit(lambda replay_id=replay_id: tasks.run_replay.delay(replay_id))
    return len(ids)


def _discard(replay_id: int) -> None:
    ReplayDispatchFact.objects.filter(replay_id=replay_id).delete()
    ReplayCaseFact.objects.filter(replay_id=replay_id).delete()


def replay_period_of(replay: Replay) -> Period:
    return Period(start=replay.period_start, end=replay.period_end, kind=replay.period_kind)


def replay_facts(replay: Replay) -> formulas.Facts:
    """The replay's facts, for the indicators (assessment.indicators, Facts)."""
    return formulas.Facts(
        cases=ReplayCaseFact.objects.filter(replay=replay),
        dispatches=ReplayDispatchFact.objects.filter(replay=replay),
    )


RANKED_TYPES = ("town", "village", "team", "department")


def ranked_units(place: Region) -> dict[str, list[int]]:
    """The units the report ranks in a place: its towns (for a city), villages, the towns'
    teams and the departments of the city and its towns."""
    if place.level == Region.Level.CITY:
        towns = list(
            Region.objects.filter(parent=place, level=Region.Level.TOWN).values_list(
                "pk", flat=True
            )
        )
        city_id = place.pk
    else:
        towns = [place.pk]
        city_id = place.parent_id
    return {
        "town": towns if place.level == Region.Level.CITY else [],
        "village": list(
            Region.objects.filter(parent_id__in=towns, level=Region.Level.VILLAGE).values_list(
                "pk", flat=True
            )
        ),
        "team": list(
            (
                teams_within(cities=[place.pk])
                if place.level == Region.Level.CITY
                else teams_serving(towns=towns)
            ).values_list("pk", flat=True)
        ),
        "department": list(
            Department.objects.filter(region_id__in=[city_id, *towns]).values_list("pk", flat=True)
        ),
    }


def summarise(
    *,
    replay: Replay,
    period: Period,
    facts: formulas.Facts | None,
    scheme: "scoring.SchemeLike | type[scoring.InForce] | None",
) -> dict:
    """The place's indicators, escalations per level and every ranked unit's score and rank,
    counted on the live facts (facts=None) or the replay's, as JSON."""
    place = replay.region
    result = formulas.compute(
        unit_type=place.level, unit_id=place.pk, period=period, params={}, facts=facts
    )
    indicators = {
        key: {"n": value.numerator, "d": value.denominator, "v": value.value}
        for key, value in result["indicators"].items()
    }
    rows = (facts or formulas.live_facts()).cases.filter(
        filed_at__gte=period.start_at,
        filed_at__lt=period.end_at,
        rejected=False,
        **{formulas.REGION_FIELDS[place.level]: place.pk},
    )
    levels = {
        "cases": rows.count(),
        "whistled": rows.filter(whistled=True).count(),
        "escalated": rows.filter(escalated=True).count(),
        "overdue": rows.filter(overdue=True).count(),
    }
    rankings = {}
    for unit_type, unit_ids in ranked_units(place).items():
        if not unit_ids:
            continue
        ranked = assessment_selectors.ranking(
            user=replay.requested_by,
            unit_type=unit_type,
            period=period,
            facts=facts,
            scheme=scheme,
            unit_ids=unit_ids,
        )
        rankings[unit_type] = [
            {
                "id": row.unit_id,
                "score": row.score,
                "rank": row.rank,
                "indicator_score": row.indicator_score,
                "deductions": row.deductions,
            }
            for row in ranked
        ]
    return {
        "indicators": indicators,
        "counts": {k: v for k, v in result["counts"].items() if isinstance(v, int | float)},
        "levels": levels,
        "rankings": rankings,
    }
