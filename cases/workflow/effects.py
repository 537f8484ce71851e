"""The clocks a step starts, meets, pauses or resumes, and the people it tells: declared on the
steps, applied by perform() after the action's own code, in the order declared."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

from cases import notifications, numbering, timers
from cases.models import Dispatch, Level, SupervisionOrder
from cases.workflow.spec import Effect, Notice
from checklists.models import Stage

if TYPE_CHECKING:
    from cases.perform import Context
    from teams.models import User


def _stage_names(stages: Iterable[str]) -> str:
    return ", ".join(str(Stage(stage).label) for stage in stages)


@dataclass(frozen=True)
class Meet(Effect):
    """These stages' clocks are done (all of the case's clocks when no stage is named)."""

    stages: tuple[str, ...] = ()

    def apply(self, ctx: "Context") -> None:
        timers.meet_deadlines(case=ctx.case, stages=list(self.stages) if self.stages else None)

    def describe(self) -> str:
        return f"meets {_stage_names(self.stages)}" if self.stages else "meets every clock"


@dataclass(frozen=True)
class MeetDispatch(Effect):
    """The dispatch's own clocks are done (those of these stages, or all of them)."""

    stages: tuple[str, ...] = ()

    def apply(self, ctx: "Context") -> None:
        stages = list(self.stages) if self.stages else None
        timers.meet_deadlines(case=ctx.case, stages=stages, dispatch=ctx.dispatch)

    def describe(self) -> str:
        what = _stage_names(self.stages) if self.stages else "every clock"
        return f"meets the dispatch's {what}"


@dataclass(frozen=True)
class StartDispatch(Effect):
    """Start a stage's clock on the action's dispatch, from the item's time limit (the
    committee's re-dispatch clock on a returned dispatch: off the boards, it shows on none)."""

    stage: str

    def apply(self, ctx: "Context") -> None:
        deadline = timers.start_deadline(
            case=ctx.case, stage=self.stage, dispatch=ctx.dispatch, start=ctx.now
        )
        if deadline is not None:
            ctx.started.append(deadline)

    def describe(self) -> str:
        return f"starts {Stage(self.stage).label} on the dispatch"


@dataclass(frozen=True)
class Start(Effect):
    """Start a stage's clock from the item's time limit. `stage=None`: the stage the action's
    code chose (ctx.next_stage), where the table leaves it open."""

    stage: str | None = None

    def apply(self, ctx: "Context") -> None:
        stage = self.stage or ctx.next_stage
        if stage:
            deadline = timers.start_deadline(case=ctx.case, stage=stage, start=ctx.clock_start)
            if deadline is not None:
                ctx.started.append(deadline)

    def describe(self) -> str:
        if self.stage is None:
            return "starts the clock of the stage it returns to"
        return f"starts {Stage(self.stage).label}"


@dataclass(frozen=True)
class StartConsultation(Effect):
    """The consultation clock of the committee at the case's level."""

    def apply(self, ctx: "Context") -> None:
        timers.start_deadline(case=ctx.case, stage=consultation_stage(ctx))

    def describe(self) -> str:
        return "starts the town (or, for a city case, the city) consultation"


@dataclass(frozen=True)
class Pause(Effect):
    def apply(self, ctx: "Context") -> None:
        timers.pause_deadlines(case=ctx.case)

    def describe(self) -> str:
        return "pauses every running clock, keeping the time left"


@dataclass(frozen=True)
class Resume(Effect):
    def apply(self, ctx: "Context") -> None:
        timers.resume_deadlines(case=ctx.case)

    def describe(self) -> str:
        return "resumes the paused clocks with the time they had left"


@dataclass(frozen=True)
class TakeNumber(Effect):
    """The city's next readable number, written on the new case. Last but for the notices,
    which show it: the city's counter stays locked until the filing commits."""

    def apply(self, ctx: "Context") -> None:
        case = ctx.case
        ctx.case.number = numbering.number_case(
            case_id=case.pk,
            city_id=case.city_id,
            city_code=case.city.code,
            year=timezone.localtime(case.filed_at).year,
        )

    def describe(self) -> str:
        return "takes the city's next case number"


@dataclass(frozen=True)
class MeetSupervision(Effect):
    """The open supervision orders are met: those of the action's dispatch, or (`whole_case`)
    every one of the case's. Met late when after the order's deadline (assessment/facts.py)."""

    whole_case: bool = False

    def apply(self, ctx: "Context") -> None:
        orders = SupervisionOrder.objects.filter(case=ctx.case, met_at__isnull=True)
        if not self.whole_case:
            orders = orders.filter(dispatch=ctx.dispatch)
        orders.update(met_at=ctx.now)

    def describe(self) -> str:
        if self.whole_case:
            return "meets the case's open supervision orders"
        return "meets the dispatch's open supervision orders"


def consultation_stage(ctx: "Context") -> str:
    """A case the city (or the prefecture) has taken up (escalated, decided, back in handling)
    returns to it."""
    return {
        Level.CITY: Stage.CITY_CONSULTATION,
        Level.PREFECTURE: Stage.PREFECTURE_CONSULTATION,
    }.get(ctx.case.level, Stage.TOWN_CONSULTATION)


# Who is told.


def grid_workers(ctx: "Context") -> list["User"]:
    return notifications.grid_workers(ctx.case.grid)


def village_officers(ctx: "Context") -> list["User"]:
    return notifications.village_officers(ctx.case.village)


def screening_village_officers(ctx: "Context") -> list["User"]:
    """The village officers, who screen the new whistle; none when it goes straight to the town
    (a hotline item's rule, the whistle level: they are told of that instead,
    cases.workflow.routing)."""
    if ctx.data.get("route"):
        return []
    return village_officers(ctx)


def town_committee(ctx: "Context") -> list["User"]:
    return notifications.town_committee(ctx.case.town)


def city_committee(ctx: "Context") -> list["User"]:
    return notifications.city_committee(ctx.case.city)


def prefecture_committee(ctx: "Context") -> list["User"]:
    return notifications.prefecture_committee(ctx.case.city)


def committee_at_level(ctx: "Context") -> list["User"]:
    if ctx.case.level == Level.CITY:
        return notifications.city_committee(ctx.case.city)
    if ctx.case.level == Level.PREFECTURE:
        return notifications.prefecture_committee(ctx.case.city)
    return notifications.town_committee(ctx.case.town)


def reporter(ctx: "Context") -> list["User"]:
    return [ctx.case.reporter] if ctx.case.reporter_id else []


def dispatch_handlers(ctx: "Context") -> list["User"]:
    return notifications.handlers_of_dispatch(ctx.dispatch)


def handlers_still_on_case(ctx: "Context") -> list["User"]:
    return [
        person
        for dispatch in ctx.case.dispatches.exclude(state__in=Dispatch.GONE_STATES)
        for person in notifications.handlers_of_dispatch(dispatch)
    ]


def chosen(ctx: "Context") -> list["User"]:
    """The people the action's code named (ctx.recipients)."""
    return list(ctx.recipients)


def notice(kind: str, to, *, who: str, data=None) -> Notice:
    return Notice(kind=kind, to=to, data=data, who=who)
