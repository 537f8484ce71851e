"""A year of history for the demo city (`manage.py seed_demo --history`), so that hot spots,
trends and rankings have something to show a newcomer.

Every case is walked through the real case services, with the clock moved to the moment each
step happens (time-machine), and the due timers fired at those moments as the beat would: the
events, clocks, lateness, notifications and assessment facts are exactly what a year of use
would have left. The mix follows the practice: about 70% solved by the village itself, 20% by
the town's team (with its departments, some of which never act), 10% by a committee
consultation; a few rejected, merged and reworked; a handful still open at the end, some
waiting for the city's market supervision bureau (the demo liaison) to report in.
"""

import io
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image

from assessment.services import rebuild_all_facts
from cases import batching
from cases.errors import CaseError
from cases.models import Case, Dispatch, Notification, Satisfaction
from cases.services import (
    Task,
    accept_case,
    add_dispatch,
    decide_consultation,
    evaluate_case,
    file_whistle,
    merge_case,
    reject_case,
    report_in,
    request_consultation,
    resolve_case,
    resolve_dispatch,
    resolve_on_spot,
    verify_case,
    whistle_to_town,
)
from cases.sweep import due_deadline_ids, fire_deadlines
from checklists.demo import DEMO_ITEM
from checklists.models import Item, ReplyTemplate
from teams.models import Department, Grid, Membership, Region, Role, User

HISTORY_DAYS = 365
HISTORY_CASES = 360  # about one a day across the demo city
# A city "has history" once it holds a case filed this long ago.
HISTORY_AGE = timedelta(days=30)
# The city bureau whose liaison is the demo's `liaison1`.
DEMO_BUREAU = "HN-MSB"

# What the grid workers write, by aspect of the item (Chinese: the demo city is Haining).
DESCRIPTIONS = {
    "ECO": ["河道漂浮垃圾较多", "村口有人焚烧秸秆", "小作坊污水直排河道"],
    "DOG": ["小区内有未牵绳大型犬", "流浪犬在学校门口聚集"],
    "MKT": ["路边摊贩售卖过期食品", "无证经营小餐馆"],
    "SAN": ["桥边垃圾堆积多日未清运", "垃圾分类点满溢", "公厕无人保洁"],
    "PLN": ["农田里新建违章建筑", "居民楼顶加盖彩钢棚", "擅自占用耕地堆放建材"],
    "TRF": ["路口车辆乱停影响通行", "占道经营堵塞人行道", "道路积水井盖缺失"],
}


class HistoryUnavailable(Exception):
    """The history needs the demo city and the time-machine package (a dev dependency)."""


@dataclass
class HistoryResult:
    built: bool
    outcomes: Counter = field(default_factory=Counter)
    interruptions: Counter = field(default_factory=Counter)

    @property
    def cases(self) -> int:
        return sum(self.outcomes.values())


def has_history(*, city: Region) -> bool:
    """Whether the city already holds cases older than a month (the history, or real use)."""
    return Case.objects.filter(city=city, filed_at__lt=timezone.now() - HISTORY_AGE).exists()


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (90, 140, 60)).save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


def _holders(role: str, place_field: str) -> dict[int, User]:
    """The first holder of `role` at each place, by the place's id."""
    holders: dict[int, User] = {}
    rows = Membership.objects.filter(role=role).select_related("user").order_by("user__username")
    for membership in rows:
        holders.setdefault(getattr(membership, f"{place_field}_id"), membership.user)
    return holders


class _Cast:
    """Who acts where in the demo city: one user per place and role."""

    def __init__(self, city: Region) -> None:
        self.grids = list(
            Grid.objects.filter(village__parent__parent=city)
            .select_related("village")
            .order_by("code")
        )
        self.grid_workers = _holders(Role.GRID_WORKER, "grid")
        self.village_officers = _holders(Role.VILLAGE_OFFICER, "region")
        self.town_committees = _holders(Role.TOWN_COMMITTEE, "region")
        self.captains = _holders(Role.TEAM_CAPTAIN, "team")
        self.liaisons = _holders(Role.DEPARTMENT_LIAISON, "department")
        self.bureau = Department.objects.filter(code=DEMO_BUREAU).first()
        self.items = list(
            Item.objects.filter(active=True, whistleable=True)
            .exclude(code=DEMO_ITEM["code"])
            .select_related("aspect")
            .order_by("code")
        )
        self.reject_reasons = list(
            ReplyTemplate.objects.filter(action=ReplyTemplate.Action.REJECT).order_by("order")
        )

    def handler_user(self, dispatch: Dispatch) -> User | None:
        if dispatch.team_id:
            return self.captains.get(dispatch.team_id)
        return self.liaisons.get(dispatch.department_id)


class _Clock:
    """Moves the time-machine traveller and fires what fell due on the way, as the beat
    would."""

    def __init__(self, traveller) -> None:
        self.traveller = traveller

    def to(self, moment: datetime) -> None:
        self.traveller.move_to(moment, tick=False)
        while ids := due_deadline_ids(now=moment, limit=200):
            if not fire_deadlines(deadline_ids=ids, now=moment):
                break


def _office_moment(day: datetime, rng: random.Random) -> datetime:
    """A moment in office hours of `day` (Asia/Shanghai)."""
    local = timezone.localtime(day)
    return local.replace(hour=rng.randint(8, 16), minute=rng.randint(0, 59), second=0)


class _Story:
    """One case's life, step by step, each step a few hours after the one before."""

    def __init__(
        self,
        *,
        cast: _Cast,
        clock: _Clock,
        rng: random.Random,
        start: datetime,
        until: datetime,
        pace: float = 1.0,
    ):
        self.cast, self.clock, self.rng, self.now = cast, clock, rng, start
        self.pace = pace  # below 1 for urgent items and for the last cases
        self.until = until  # nothing happens after the moment the history is built

    def later(self, low: float = 0.5, high: float = 6.0) -> None:
        step = timedelta(hours=self.rng.uniform(low, high) * self.pace)
        self.now = min(self.now + step, self.until)
        self.clock.to(self.now)

    def file(self, grid: Grid, item: Item) -> Case:
        self.clock.to(self.now)
        lat, lng = _inside(grid)
        return file_whistle(
            user=self.cast.grid_workers[grid.pk],
            item=item,
            grid=grid,
            description=self.rng.choice(DESCRIPTIONS.get(item.aspect.code, ["现场发现问题"])),
            latitude=lat,
            longitude=lng,
        ).case

    def fresh(self, case: Case) -> Case:
        return Case.objects.get(pk=case.pk)

    def village_officer(self, case: Case) -> User:
        return self.cast.village_officers[case.village_id]

    def close(self, case: Case, *, evaluate: bool = True) -> None:
        self.later(1, 6)
        verify_case(user=self.cast.grid_workers[case.grid_id], case_id=case.pk, passed=True)
        if evaluate and self.rng.random() < 0.8:
            self.later(1, 48)
            satisfaction = self.rng.choices(
                [
                    Satisfaction.SATISFIED,
                    Satisfaction.BASICALLY_SATISFIED,
                    Satisfaction.UNSATISFIED,
                ],
                weights=[75, 18, 7],
            )[0]
            evaluate_case(
                user=self.cast.grid_workers[case.grid_id],
                case_id=case.pk,
                satisfaction=satisfaction,
            )

    def handle(self, case: Case, *, finish: bool = True, leave: Department | None = None) -> None:
        """The dispatched units report in (a department now and then never does); the team
        resolves; now and then verification fails and the team works again."""
        case = self.fresh(case)
        for dispatch in case.dispatches.filter(state=Dispatch.State.WAITING).order_by("pk"):
            if dispatch.department_id and self.rng.random() < 0.25:
                continue  # this department never acts
            if leave is not None and dispatch.department_id == leave.pk:
                continue  # still waiting for it
            user = self.cast.handler_user(dispatch)
            if user is None:
                continue
            # Mostly within the two working hours; now and then late.
            self.later(0.1, 0.6 if self.rng.random() < 0.9 else 5)
            report_in(user=user, dispatch_id=dispatch.pk)
            if dispatch.department_id and self.rng.random() < 0.6:
                self.later(0.1, 0.5)
                resolve_dispatch(
                    user=user,
                    dispatch_id=dispatch.pk,
                    note="已按职责完成处置",
                    legal_instrument_number=f"海市监责改〔{self.now.year}〕{dispatch.pk}号",
                )
        if not finish:
            return
        captain = self._captain(case)
        self.later(0.3, 1.5)
        resolve_case(user=captain, case_id=case.pk, note="已清理整改完毕", photos=[_photo()])
        if self.rng.random() < 0.12:  # rework: the grid worker finds it not fixed
            self.later(1, 6)
            verify_case(
                user=self.cast.grid_workers[case.grid_id],
                case_id=case.pk,
                passed=False,
                reason="现场核查问题仍然存在",
                photos=[_photo()],
            )
            self.later(0.5, 2)
            resolve_case(user=captain, case_id=case.pk, note="已再次整改", photos=[_photo()])
        self.close(case)

    def _captain(self, case: Case) -> User:
        dispatch = case.dispatches.filter(team__isnull=False).order_by("pk").first()
        return self.cast.captains[dispatch.team_id]

    def whistle(self, case: Case) -> Case:
        self.later(0.05, 0.4)
        accept_case(user=self.village_officer(case), case_id=case.pk)
        self.later(0.5, 4)
        return whistle_to_town(
            user=self.village_officer(case), case_id=case.pk, note="村级无法解决"
        )

    def with_bureau(self, case: Case) -> None:
        """The town adds the city's market supervision bureau (the demo liaison's)."""
        if self.cast.bureau is None or case.dispatches.filter(department=self.cast.bureau).exists():
            return
        self.later(0.05, 0.3)
        add_dispatch(
            user=self.cast.town_committees[case.town_id],
            case_id=case.pk,
            department_id=self.cast.bureau.pk,
            task="请市场监管局协同查处",
        )


def _inside(grid: Grid) -> tuple[float, float]:
    """The centre of the grid's outline (a rectangle in the demo city)."""
    ring = grid.polygon["coordinates"][0]
    lngs = [point[0] for point in ring]
    lats = [point[1] for point in ring]
    return (min(lats) + max(lats)) / 2, (min(lngs) + max(lngs)) / 2


# The last cases, filed in the hour before the history is built: work waiting for the demo
# users (the liaison's bureau among it).
RECENT = ("open_bureau", "open_dispatched", "village_open", "open_bureau")


def _outcome(rng: random.Random) -> str:
    return rng.choices(
        ["on_spot", "team", "team_bureau", "consultation", "rejected", "merged"],
        weights=[62, 14, 5, 9, 7, 3],
    )[0]


def _live(story: _Story, outcome: str, grid: Grid, item: Item) -> None:
    cast = story.cast
    case = story.file(grid, item)
    if outcome == "rejected":
        story.later(0.05, 0.4)
        reason = story.rng.choice(cast.reject_reasons) if cast.reject_reasons else None
        reject_case(
            user=story.village_officer(case),
            case_id=case.pk,
            reason=reason.text_zh if reason else "不属于吹哨事项",
            redirect=reason.redirect_zh if reason else "",
        )
        return
    if outcome == "merged":
        story.later(0.02, 0.1)
        duplicate = story.file(grid, item)
        story.later(0.02, 0.1)
        merge_case(
            user=story.village_officer(duplicate), case_id=duplicate.pk, into_case_id=case.pk
        )
        outcome = "on_spot"
    if outcome in ("on_spot", "village_open"):
        story.later(0.05, 0.4)
        accept_case(user=story.village_officer(case), case_id=case.pk)
        if outcome == "village_open":
            return
        story.later(0.5, 5)
        resolve_on_spot(
            user=story.village_officer(case),
            case_id=case.pk,
            note="村里已现场处置",
            photos=[_photo()],
        )
        story.close(case)
        return
    case = story.whistle(case)
    if outcome in ("team_bureau", "open_bureau"):
        story.with_bureau(case)
    if outcome == "consultation":
        story.handle(case, finish=False)  # the units report in, then find it beyond them
        story.later(0.1, 0.5)
        request_consultation(
            user=story._captain(case), case_id=case.pk, reason="涉及多个部门职责，需镇里协调"
        )
        story.later(4, 30)
        department = case.dispatches.filter(department__isnull=False).order_by("pk").first()
        tasks = [
            Task(
                action="会同执法中队限期整改",
                due_at=story.now + timedelta(days=5),
                team_id=team_dispatch.team_id,
            )
            for team_dispatch in case.dispatches.filter(team__isnull=False)[:1]
        ]
        if department is not None:
            tasks.append(
                Task(
                    action="依职责出具处理意见",
                    due_at=story.now + timedelta(days=5),
                    department_id=department.department_id,
                )
            )
        decide_consultation(
            user=cast.town_committees[case.town_id],
            case_id=case.pk,
            decision="镇吹哨办协调：限期整改，各部门配合",
            tasks=tasks,
        )
    if outcome.startswith("open"):
        story.handle(case, finish=False, leave=cast.bureau)
    else:
        story.handle(case)


def build_history(
    *, city: Region, cases: int = HISTORY_CASES, days: int = HISTORY_DAYS, seed: int = 20
) -> HistoryResult:
    """Walk `cases` cases of the last `days` days through the services (skipped when the city
    already has history), then rebuild the assessment facts from their events."""
    try:
        import time_machine
    except ImportError as error:  # pragma: no cover - a dev dependency, installed by make run
        raise HistoryUnavailable("seed_demo --history needs time-machine") from error
    if has_history(city=city):
        return HistoryResult(built=False)
    cast = _Cast(city)
    if not cast.grids or not cast.items:
        raise HistoryUnavailable("the demo city has no grids or checklist items")
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localtime(now).date()
    first_day = today - timedelta(days=days)
    result = HistoryResult(built=True)
    # All or nothing: a history cut short would pass for one and block the next run.
    with (
        batching.batch_scope() as scope,
        time_machine.travel(
            timezone.make_aware(datetime.combine(first_day, time(9))), tick=False
        ) as traveller,
        transaction.atomic(),
    ):
        clock = _Clock(traveller)
        plan = [
            (
                _office_moment(
                    timezone.make_aware(
                        datetime.combine(first_day + timedelta(days=days * n / cases), time(12))
                    ),
                    rng,
                ),
                _outcome(rng),
            )
            for n in range(cases)
        ]
        plan = [(start, outcome) for start, outcome in plan if start < now - timedelta(days=2)]
        plan += [
            (now - timedelta(minutes=60 - 12 * n), outcome) for n, outcome in enumerate(RECENT)
        ]
        for start, outcome in plan:
            grid = rng.choice(cast.grids)
            item = rng.choice(cast.items)
            if outcome == "open_bureau" and cast.bureau is not None:
                grid = next(g for g in cast.grids if g.village.parent.code == "HN-XS")
            # Urgent items have limits of minutes; the last cases must fit in the last hour.
            pace = 0.1 if item.urgency == Item.Urgency.URGENT else 1.0
            if start > now - timedelta(days=1):
                pace = 0.05
            story = _Story(cast=cast, clock=clock, rng=rng, start=start, until=now, pace=pace)
            try:
                _live(story, outcome, grid, item)
            except CaseError as error:
                # A timer moved the case on first: it stays as the timer left it.
                result.interruptions[f"{outcome} {item.code}: {error}"[:120]] += 1
                outcome = "interrupted"
            result.outcomes[outcome] += 1
        transaction.on_commit(scope.pending.clear)  # the facts are rebuilt below; no mail
    # A year-old notification is history, not news.
    Notification.objects.filter(
        Q(case__city=city) & Q(case__filed_at__lt=timezone.now() - timedelta(days=3))
    ).update(read_at=timezone.now())
    rebuild_all_facts()
    return result
