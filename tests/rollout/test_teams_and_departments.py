"""Teams and departments: references to regions, parents, service areas, speciality and
X-force departments checked by code; lists replaced as the file says."""

import pytest
from django.utils import translation

from checklists.models import Aspect, Item
from rollout.services import import_org
from teams.models import Department, Team
from tests.rollout.helpers import TEAMS, csv_bytes, load, load_county

pytestmark = pytest.mark.django_db

HEAD = TEAMS[0]


def _teams(*rows: list[str], dry_run: bool = False):
    with translation.override("en"):
        report = import_org(
            kind="teams", filename="t.csv", data=csv_bytes([HEAD, *rows]), dry_run=dry_run
        )
        return report, [str(error) for error in report.errors]


def test_bad_team_rows_are_all_refused_with_their_line_and_column():
    load_county()
    report, texts = _teams(
        ["X1", "甲", "A", "V01", "comprehensive", "", "", "", "", ""],  # a village as home
        ["X2", "乙", "B", "T01", "police", "", "", "", "", ""],  # unknown kind
        ["X3", "丙", "C", "T01", "comprehensive", "X3", "", "", "", ""],  # its own parent
        ["X4", "丁", "D", "T01", "comprehensive", "X5", "", "", "", ""],  # a loop X4 -> X5 -> X4
        ["X5", "戊", "E", "T01", "comprehensive", "X4", "V01;T09", "NOPE", "", "D01;D99"],
        ["X6", "己", "F", "T01", "comprehensive", "ZZ", "", "", "", ""],  # unknown parent
    )
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "region"),
        (3, "kind"),
        (4, "parent"),
        (5, "parent"),
        (6, "areas"),
        (6, "areas"),
        (6, "aspects"),
        (6, "departments"),
        (6, "parent"),
        (7, "parent"),
    ]
    assert "No town or city with code V01" in texts[4]
    assert texts[3] == "line 5, column parent: The parent teams would form a loop."
    assert not Team.objects.filter(code__startswith="X").exists()


def test_a_brigade_may_come_before_its_new_district_team_in_the_file():
    load_county()
    report, texts = _teams(
        ["B1", "新中队", "New brigade", "C01", "professional", "N1", "T02", "", "", ""],
        ["N1", "新大队", "New district team", "C01", "comprehensive", "", "", "", "", ""],
    )
    assert texts == [] and report.created == ["B1", "N1"]
    assert Team.objects.get(code="B1").parent == Team.objects.get(code="N1")


def test_lists_are_replaced_as_the_file_says_and_speciality_is_set():
    load_county()
    aspect = Aspect.objects.create(code="ASP", name_zh="方面", name_en="Aspect")
    item = Item.objects.create(code="ITM", aspect=aspect, name_zh="事项", name_en="Item")
    report, texts = _teams(
        [
            "TM2",
            "一中队",
            "Brigade 1",
            "C01",
            "comprehensive",
            "TM1",
            "T01；T02",
            "ASP",
            "ITM",
            "D02",
        ],
    )
    assert texts == [] and report.changed == ["TM2"]
    brigade = Team.objects.get(code="TM2")
    assert sorted(r.code for r in brigade.areas.all()) == ["T01", "T02"]
    assert [d.code for d in brigade.departments.all()] == ["D02"]
    assert list(brigade.aspects.all()) == [aspect] and list(brigade.items.all()) == [item]
    report, _texts = _teams(
        [
            "TM2",
            "一中队",
            "Brigade 1",
            "C01",
            "comprehensive",
            "TM1",
            "T01;T02",
            "ASP",
            "ITM",
            "D02",
        ],
    )
    assert report.unchanged == ["TM2"]


def test_kinds_and_roles_may_be_written_as_their_chinese_names():
    load_county()
    with translation.override("zh-hans"):
        label = str(Team.Kind.PROFESSIONAL.label)
    assert label != "professional"
    texts = _teams(["X9", "专业队", "Pro", "T02", label, "", "", "", "", ""])[1]
    assert texts == [] and Team.objects.get(code="X9").kind == "professional"


def test_departments_refuse_unknown_kinds_and_village_regions():
    load_county()
    rows = [
        ["code", "name_zh", "name_en", "kind", "region"],
        ["D05", "消防", "Fire", "fire", "C01"],
        ["D06", "村所", "Village office", "market", "V01"],
        ["D07", "", "No name", "market", "T05"],
    ]
    with translation.override("en"):
        report = import_org(
            kind="departments", filename="d.csv", data=csv_bytes(rows), dry_run=False
        )
        texts = [str(e) for e in report.errors]
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "kind"),
        (3, "region"),
        (4, "name_zh"),
        (4, "region"),
    ]
    assert texts[0].startswith(
        "line 2, column kind: No department kind with code fire; the kinds are "
    )
    assert "market" in texts[0]
    assert not Department.objects.filter(code__in=["D05", "D06", "D07"]).exists()
    assert load("departments", "d.csv", csv_bytes(rows[:1])).unchanged == []
