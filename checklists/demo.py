"""The demo's checklist part: an item whose limits are a few minutes and the reply templates,
built idempotently by rollout.demo for `manage.py seed_demo`, e2e tests and benchmarks, and
where the demo item is offered (the demo cities only)."""

from collections.abc import Iterable

from django.db.models import Exists, Q, QuerySet

from checklists.models import Aspect, Item, ReplyTemplate, Stage, TimeLimit, TimeUnit
from teams.demo import DEMO_CITY_CODES, upsert
from teams.models import DepartmentKind, Region, Team

# A checklist item whose every limit is a few natural minutes, so that someone trying
# `make run` can watch a whistle left alone climb from the village to the town to the city.
DEMO_ITEM = {
    "code": "DEMO-01",
    "aspect": "SAN",
    "name_zh": "演示：快速升级",
    "name_en": "Demo: fast escalation",
    "description_zh": (
        "演示用事项：各环节时限只有几分钟。上报后无人处理，村里不受理，"
        "案件会在筛查时限到期时由计时器吹哨到镇，再在几分钟内升级到市。"
    ),
    "description_en": (
        "For demonstrations: every limit is a few minutes. File the whistle and leave it "
        "alone: at the screening limit the timer whistles it to the town, and within minutes "
        "it climbs to the city."
    ),
}
# The kind of the demo city's bureau whose liaison is the demo's `liaison1` (HN-MSB).
DEMO_DEPARTMENT_KIND = "market_supervision"
DEMO_ITEM_MINUTES = {
    Stage.SCREENING: 2,
    Stage.VILLAGE_HANDLING: 2,
    Stage.REPORT_IN: 2,
    Stage.REDISPATCH: 3,
    Stage.HANDLING: 3,
    Stage.TOWN_CONSULTATION: 3,
    Stage.CITY_CONSULTATION: 3,
    Stage.PREFECTURE_CONSULTATION: 3,
    Stage.VERIFICATION: 5,
    Stage.SUSPENSION_REVIEW: 10,
}


def build_demo_item() -> Item | None:
    """The fast-escalation demo item with its natural-minute limits, one per stage (None without the
    aspect it belongs to)."""
    aspect = Aspect.objects.filter(code=DEMO_ITEM["aspect"]).first()
    if aspect is None:
        return None
    item = upsert(
        Item,
        lookup={"code": DEMO_ITEM["code"]},
        values={
            "aspect": aspect,
            "name_zh": DEMO_ITEM["name_zh"],
            "name_en": DEMO_ITEM["name_en"],
            "description_zh": DEMO_ITEM["description_zh"],
            "description_en": DEMO_ITEM["description_en"],
            "urgency": Item.Urgency.ORDINARY,
            "whistleable": True,
            "default_team_kinds": [Team.Kind.COMPREHENSIVE.value],
            "order": 99,
            "active": True,
        },
    )
    # The demo's department takes part too, so that its liaison (`liaison1`) gets work from a
    # fresh demo whistle; cases.selectors.default_handlers takes the demo item's departments
    # at the city level (the bureau), not the town's branch.
    kind = DepartmentKind.objects.filter(code=DEMO_DEPARTMENT_KIND).first()
    if kind is not None:
        item.default_department_kinds.set([kind])
    for stage, minutes in DEMO_ITEM_MINUTES.items():
        upsert(
            TimeLimit,
            lookup={"item": item, "stage": stage},
            values={"amount": minutes, "unit": TimeUnit.NATURAL_MINUTES},
        )
    return item


# Reasons and replies offered in the forms (ReplyTemplate), for every item, in both languages.
DEMO_REPLIES = (
    {
        "code": "reject-civil-dispute",
        "action": ReplyTemplate.Action.REJECT,
        "text_zh": "属于民事或经济纠纷，不在吹哨事项清单内。",
        "text_en": "A civil or economic dispute: not on the whistle list.",
        "redirect_zh": "请向村（社区）人民调解委员会申请调解，或向人民法院起诉。",
        "redirect_en": "Ask the village mediation committee, or take it to the people's court.",
    },
    {
        "code": "reject-hotline",
        "action": ReplyTemplate.Action.REJECT,
        "text_zh": "属于个人诉求，请通过12345热线反映。",
        "text_en": "A personal request: please call the 12345 hotline.",
        "redirect_zh": "拨打12345政务服务便民热线。",
        "redirect_en": "Call the 12345 government service hotline.",
    },
    {
        "code": "return-not-our-duty",
        "action": ReplyTemplate.Action.RETURN_DISPATCH,
        "text_zh": "该事项不属于本单位职责，请按职责清单改派。",
        "text_en": "This matter is not our duty: please dispatch it by the list of duties.",
    },
    {
        "code": "verify-not-fixed",
        "action": ReplyTemplate.Action.VERIFY,
        "text_zh": "现场核查问题仍然存在，请继续整改并上传整改后照片。",
        "text_en": "Checked on site: the problem is still there. Keep working and add photos.",
    },
    {
        "code": "urge-report-in",
        "action": ReplyTemplate.Action.URGE,
        "text_zh": "请立即报到并反馈处置进展。",
        "text_en": "Report in now and tell us how the handling is going.",
    },
)


def build_demo_replies() -> None:
    """The demo reply templates, offered in the rejection, return, verification and urge
    forms."""
    for order, reply in enumerate(DEMO_REPLIES):
        values = {key: value for key, value in reply.items() if key != "code"}
        upsert(
            ReplyTemplate,
            lookup={"code": reply["code"]},
            values={"redirect_zh": "", "redirect_en": "", **values, "order": order},
        )


# --- where the demo item is offered ------------------------------------------------------------
# The demo cities are teams.demo.DEMO_CITY_CODES, built by `seed_demo`. Their fast-escalation
# item is offered, and may be filed, only for places of those cities: a deployment's real
# cities never see it among their items, even when the demo was seeded in the same database.


def is_demo_item(item: Item) -> bool:
    return item.code == DEMO_ITEM["code"]


def demo_city_ids() -> frozenset[int]:
    return frozenset(
        Region.objects.filter(code__in=DEMO_CITY_CODES, level=Region.Level.CITY).values_list(
            "pk", flat=True
        )
    )


def items_for_cities(items: QuerySet[Item], *, city_ids: Iterable[int | None]) -> QuerySet[Item]:
    """The items offered to places of these cities: the demo item only if one of them is a
    demo city."""
    if demo_city_ids() & {pk for pk in city_ids if pk is not None}:
        return items
    return items.exclude(code=DEMO_ITEM["code"])


def offered_in_city(item: Item, *, city_id: int | None) -> bool:
    """Whether the item may be filed for a place of this city."""
    return not is_demo_item(item) or city_id in demo_city_ids()


def items_for_grids(items: QuerySet[Item], *, grids: QuerySet) -> QuerySet[Item]:
    """The items offered where these grids lie (one query with the items): the demo item only
    if one of the grids is in a demo city."""
    in_demo = grids.filter(village__parent__parent__code__in=DEMO_CITY_CODES)
    return items.exclude(Q(code=DEMO_ITEM["code"]) & ~Exists(in_demo))
