"""The default checklist shipped by the data migrations: "one list, 6 aspects, 16 items", a time
limit for every stage of every item, default handlers, department kinds and screening rules."""

import importlib

import pytest
from django.apps import apps

from checklists.models import Aspect, Item, ScreeningRule, Stage, TimeLimit, TimeUnit
from teams.models import DepartmentKind, Team

pytestmark = pytest.mark.django_db

NATURAL_UNITS = {TimeUnit.NATURAL_MINUTES, TimeUnit.NATURAL_HOURS, TimeUnit.NATURAL_DAYS}
WORKING_UNITS = {TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS}
DEPARTMENT_KIND_CODES = {
    "market_supervision",
    "public_security",
    "housing_construction",
    "fire_rescue",
    "ecology_environment",
    "natural_resources",
    "urban_management",
    "agriculture_rural",
    "transport",
    "water_resources",
    "civil_affairs",
    "health",
}


def checklist_migration():
    return importlib.import_module("checklists.migrations.0002_default_checklist")


def limits(code: str) -> dict[str, tuple[int, str]]:
    return {
        tl.stage: (tl.amount, tl.unit) for tl in TimeLimit.objects.filter(item__code=code).all()
    }


def test_six_aspects_sixteen_items():
    assert list(Aspect.objects.values_list("code", flat=True)) == [
        "ECO",
        "DOG",
        "MKT",
        "SAN",
        "PLN",
        "TRF",
    ]
    assert Item.objects.count() == 16
    assert all(aspect.items.exists() for aspect in Aspect.objects.all())
    planning = set(Item.objects.filter(aspect__code="PLN").values_list("name_zh", flat=True))
    assert planning == {"违法建设", "违规装修", "毁坏绿化"}
    assert Item.objects.filter(name_zh="堵塞消防通道", aspect__code="TRF").exists()


def test_every_aspect_and_item_is_named_and_described_in_both_languages():
    for aspect in Aspect.objects.all():
        assert aspect.name_zh and aspect.name_en, aspect.code
        assert aspect.description_zh and aspect.description_en, aspect.code
    for item in Item.objects.all():
        assert item.name_zh and item.name_en, item.code
        assert item.description_zh and item.description_en, item.code
        assert "《" in item.legal_basis_zh, item.code
        assert item.legal_basis_en, item.code
        assert item.whistleable and item.active, item.code
        assert item.code.startswith(item.aspect.code + "-"), item.code


def test_every_item_has_a_positive_limit_for_every_stage():
    for item in Item.objects.prefetch_related("time_limits"):
        stages = {tl.stage: tl for tl in item.time_limits.all()}
        assert set(stages) == set(Stage.values), item.code
        assert all(tl.amount > 0 for tl in stages.values()), item.code
    assert TimeLimit.objects.count() == 16 * len(Stage.values)


def test_urgent_items_use_short_natural_limits():
    urgent = set(Item.objects.filter(urgency=Item.Urgency.URGENT).values_list("code", flat=True))
    assert urgent == {"TRF-03", "DOG-02"}  # blocked fire passage, dog attack
    for code in urgent:
        assert {unit for _, unit in limits(code).values()} <= NATURAL_UNITS, code
        assert limits(code) == {
            Stage.SCREENING: (10, TimeUnit.NATURAL_MINUTES),
            Stage.VILLAGE_HANDLING: (30, TimeUnit.NATURAL_MINUTES),
            Stage.REPORT_IN: (30, TimeUnit.NATURAL_MINUTES),
            Stage.REDISPATCH: (30, TimeUnit.NATURAL_MINUTES),
            Stage.HANDLING: (2, TimeUnit.NATURAL_HOURS),
            Stage.TOWN_CONSULTATION: (1, TimeUnit.NATURAL_DAYS),
            Stage.CITY_CONSULTATION: (2, TimeUnit.NATURAL_DAYS),
            # The city's, given to every item by migration checklists 0009 (four levels).
            Stage.PREFECTURE_CONSULTATION: (2, TimeUnit.NATURAL_DAYS),
            Stage.VERIFICATION: (2, TimeUnit.NATURAL_HOURS),
            Stage.SUSPENSION_REVIEW: (30, TimeUnit.NATURAL_DAYS),
        }


def test_ordinary_items_use_working_time_with_the_practice_limits():
    for item in Item.objects.filter(urgency=Item.Urgency.ORDINARY):
        item_limits = limits(item.code)
        for stage in (Stage.VILLAGE_HANDLING, Stage.REPORT_IN, Stage.HANDLING):
            assert item_limits[stage][1] in WORKING_UNITS, (item.code, stage)
        assert item_limits[Stage.TOWN_CONSULTATION] == (3, TimeUnit.WORKING_DAYS)
        assert item_limits[Stage.CITY_CONSULTATION] == (5, TimeUnit.WORKING_DAYS)
        assert item_limits[Stage.PREFECTURE_CONSULTATION] == (5, TimeUnit.WORKING_DAYS)
        assert item_limits[Stage.REDISPATCH] == (4, TimeUnit.WORKING_HOURS)
        assert item_limits[Stage.SUSPENSION_REVIEW] == (30, TimeUnit.NATURAL_DAYS)
    handling = {
        name: limits(Item.objects.get(name_zh=name).code)[Stage.HANDLING]
        for name in ("垃圾暴露", "道路未清扫、乱扔垃圾", "毁坏绿化", "违法建设")
    }
    assert handling == {
        "垃圾暴露": (4, TimeUnit.WORKING_HOURS),
        "道路未清扫、乱扔垃圾": (2, TimeUnit.WORKING_HOURS),
        "毁坏绿化": (5, TimeUnit.WORKING_DAYS),
        "违法建设": (15, TimeUnit.WORKING_DAYS),
    }


def test_every_item_has_default_handlers_and_passes_validation():
    for item in Item.objects.prefetch_related("default_department_kinds"):
        assert item.default_team_kinds, item.code
        assert set(item.default_team_kinds) <= set(Team.Kind.values), item.code
        assert item.default_department_kinds.exists(), item.code
        item.full_clean()
    fire = Item.objects.get(code="TRF-03")
    assert "fire_rescue" in fire.default_department_kinds.values_list("code", flat=True)


def test_the_department_kinds_exist_in_both_languages():
    kinds = {
        kind.code: kind for kind in DepartmentKind.objects.filter(code__in=DEPARTMENT_KIND_CODES)
    }
    assert set(kinds) == DEPARTMENT_KIND_CODES
    assert kinds["market_supervision"].name_zh == "市场监督管理"
    assert kinds["fire_rescue"].name_en == "Fire and rescue"
    assert all(kind.name_zh and kind.name_en for kind in kinds.values())


def matching_rules(text: str) -> set[str]:
    text = text.lower()
    return {
        rule.code
        for rule in ScreeningRule.objects.filter(active=True)
        if any(keyword in text for keyword in rule.keyword_list())
    }


def test_screening_rules_send_disputes_where_they_belong():
    rules = {rule.code: rule for rule in ScreeningRule.objects.all()}
    assert set(rules) == {"civil_dispute", "economic_dispute", "labour_dispute"}
    for rule in rules.values():
        assert rule.name_zh and rule.name_en and rule.reason_zh and rule.reason_en
        assert rule.redirect_zh and rule.redirect_en
    assert "人民调解委员会" in rules["civil_dispute"].redirect_zh
    assert "人民法院" in rules["economic_dispute"].redirect_zh
    assert "劳动人事争议仲裁委员会" in rules["labour_dispute"].redirect_zh
    # Keywords in both languages, and wage arrears go to labour arbitration, not to the courts.
    assert matching_rules("朋友借款两万，投资款至今不还钱") == {"economic_dispute"}
    assert matching_rules("He owes me money from a loan") == {"economic_dispute"}
    assert matching_rules("老板拖欠工资三个月") == {"labour_dispute"}
    assert matching_rules("Wage arrears at the factory") == {"labour_dispute"}
    assert matching_rules("兄弟之间遗产继承纠纷") == {"civil_dispute"}
    assert matching_rules("楼道里堆满杂物，堵塞消防通道") == set()


def test_the_data_migration_can_run_again_and_be_reversed():
    migration = checklist_migration()
    Item.objects.filter(code="SAN-01").update(name_en="changed")
    TimeLimit.objects.filter(item__code="SAN-01", stage=Stage.HANDLING).delete()

    migration.create_default_checklist(apps, None)
    assert (Aspect.objects.count(), Item.objects.count()) == (6, 16)
    assert TimeLimit.objects.count() == 16 * len(Stage.values)
    assert ScreeningRule.objects.count() == 3
    assert Item.objects.get(code="SAN-01").name_en == "Exposed garbage"

    migration.delete_default_checklist(apps, None)
    item_codes = [item["code"] for aspect in migration.ASPECTS for item in aspect["items"]]
    assert len(item_codes) == 16
    assert not Aspect.objects.filter(code__in=[a["code"] for a in migration.ASPECTS]).exists()
    assert not Item.objects.filter(code__in=item_codes).exists()
    assert not TimeLimit.objects.filter(item__code__in=item_codes).exists()
    rule_codes = [rule["code"] for rule in migration.SCREENING_RULES]
    assert not ScreeningRule.objects.filter(code__in=rule_codes).exists()
    assert DepartmentKind.objects.filter(code__in=DEPARTMENT_KIND_CODES).count() == 12


def test_the_redispatch_migration_gives_every_item_one_limit():
    migration = importlib.import_module("checklists.migrations.0003_redispatch_stage")
    TimeLimit.objects.filter(item__code="SAN-01", stage=Stage.REDISPATCH).delete()
    migration.add_redispatch_limits(apps, None)
    migration.add_redispatch_limits(apps, None)  # again: nothing twice
    assert TimeLimit.objects.filter(stage=Stage.REDISPATCH).count() == Item.objects.count()
    assert limits("SAN-01")[Stage.REDISPATCH] == (4, TimeUnit.WORKING_HOURS)
    assert limits("TRF-03")[Stage.REDISPATCH] == (30, TimeUnit.NATURAL_MINUTES)
    migration.remove_redispatch_limits(apps, None)
    assert not TimeLimit.objects.filter(stage=Stage.REDISPATCH).exists()
