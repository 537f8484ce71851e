"""The demo city: the organisation of teams.demo and a checklist item whose limits are a few
minutes, built idempotently for `manage.py seed_demo`, e2e tests and benchmarks. It sits in
checklists, the lowest app that knows both the organisation and the checklist."""

from django.db import transaction

from checklists.models import Aspect, Item, Stage, TimeLimit, TimeUnit
from teams.demo import DEMO_PASSWORD, DemoCity, build_demo_organisation, upsert
from teams.models import Team

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
DEMO_ITEM_MINUTES = {
    Stage.SCREENING: 2,
    Stage.VILLAGE_HANDLING: 2,
    Stage.REPORT_IN: 2,
    Stage.REDISPATCH: 3,
    Stage.HANDLING: 3,
    Stage.TOWN_CONSULTATION: 3,
    Stage.CITY_CONSULTATION: 3,
    Stage.VERIFICATION: 5,
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
    for stage, minutes in DEMO_ITEM_MINUTES.items():
        upsert(
            TimeLimit,
            lookup={"item": item, "stage": stage},
            values={"amount": minutes, "unit": TimeUnit.NATURAL_MINUTES},
        )
    return item


@transaction.atomic
def build_demo_city(*, password: str = DEMO_PASSWORD) -> DemoCity:
    """Create or bring up to date the demo city, its organisation, one user per role and the
    fast-escalation demo item."""
    demo = build_demo_organisation(password=password)
    build_demo_item()
    return demo
