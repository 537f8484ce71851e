"""The `levels` kind: what a deployment calls its three tiers, imported like the rest of its
organisation (teams.levels; docs/architecture.md, "Levels"), and the Longgang demo that says
"street" where Haining says "town"."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from rollout.demo import build_demo_city
from rollout.forms import ImportForm
from rollout.models import ImportRun
from rollout.services import KINDS, export_org, import_org, template_for
from teams.levels import level_name, level_words, on_chain, whistle_level
from teams.models import LevelName
from tests.rollout.helpers import REGIONS, csv_bytes, feature, geojson, load, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADERS = ["level", "name_en", "plural_en", "name_zh", "whistles_here", "committee", "in_use"]
LONGGANG = [
    HEADERS,
    ["city", "district", "districts", "区", "false", "true", "true"],
    ["town", "street", "streets", "街道", "false", "true", "true"],
    ["village", "community", "communities", "社区", "true", "true", "true"],
]


def names() -> dict[str, tuple[str, str, str]]:
    return {r.level: (r.name_en, r.plural_en, r.name_zh) for r in LevelName.objects.all()}


def english(level: str, **options) -> str:
    with translation.override("en"):
        return level_name(level, **options)


def chinese(level: str) -> str:
    with translation.override("zh-hans"):
        return level_name(level)


def refused(data: bytes, filename: str = "levels.csv") -> list[tuple[int | None, str, str]]:
    with translation.override("en"):
        report = import_org(kind="levels", filename=filename, data=data, dry_run=False)
        found = [(e.line, e.column, str(e)) for e in report.errors]
    assert not report.ok and report.created == report.changed == report.unchanged == []
    return found


def test_levels_come_first_among_the_kinds_and_on_the_import_page():
    assert KINDS[0] == "levels"
    assert ImportRun.Kind.values[0] == "levels"
    assert ImportForm().fields["kind"].choices[0][0] == "levels"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_levels_file_names_the_tiers_in_both_languages(fmt):
    data = csv_bytes(LONGGANG) if fmt == "csv" else xlsx_bytes(LONGGANG)
    report = load("levels", f"levels.{fmt}", data)
    assert report.created == ["city", "town", "village"]
    assert names() == {
        "city": ("district", "districts", "区"),
        "town": ("street", "streets", "街道"),
        "village": ("community", "communities", "社区"),
    }
    assert english("town") == "street" and chinese("town") == "街道"
    assert english("village", plural=True, capital=True) == "Communities"
    with translation.override("en"):
        assert level_words()["cities"] == "districts"


def test_chinese_headers_an_upper_case_tier_and_an_empty_plural_are_read():
    rows = [["层级", "英文名称", "英文复数", "中文名称"], ["TOWN", "street", "", "街道"]]
    load("levels", "levels.csv", csv_bytes(rows))
    assert names() == {"town": ("street", "", "街道")}
    assert english("town", plural=True) == "streets"
    assert english("city") == "city" and chinese("village") == "村(社区)"  # the defaults elsewhere


def test_a_dry_run_reports_and_writes_nothing():
    report = load("levels", "levels.csv", csv_bytes(LONGGANG), dry_run=True)
    assert report.dry_run and report.created == ["city", "town", "village"]
    assert not LevelName.objects.exists()
    assert english("town") == "town"


def test_importing_again_changes_nothing_and_a_changed_row_is_changed():
    load("levels", "levels.csv", csv_bytes(LONGGANG))
    again = load("levels", "levels.csv", csv_bytes(LONGGANG))
    assert again.created == again.changed == [] and again.unchanged == ["city", "town", "village"]
    edited = [HEADERS, ["town", "subdistrict", "subdistricts", "街道"]]
    report = load("levels", "levels.csv", csv_bytes(edited))
    assert report.changed == ["town"] and english("town") == "subdistrict"


def test_bad_rows_are_refused_with_line_column_and_why_and_nothing_is_written():
    rows = [
        HEADERS,
        ["hamlet", "hamlet", "", "屯"],
        ["town", "", "streets", "街道"],
        ["village", "community", "", ""],
        ["city", "district", "", "区"],
        ["city", "district", "", "区"],
        ["", "x", "", "x"],
        ["town", "s" * 41, "", "街道"],
    ]
    found = refused(csv_bytes(rows))
    assert [(line, column) for line, column, _text in found] == [
        (2, "level"),
        (3, "name_en"),
        (4, "name_zh"),
        (6, "level"),
        (7, "level"),
        (8, "level"),
        (8, "name_en"),
    ]
    assert found[0][2] == (
        "line 2, column level: Unknown tier hamlet; choose among prefecture, city, town, village "
        "(the level above the top, the top, middle and bottom level, whatever the deployment "
        "calls them)."
    )
    assert found[1][2] == "line 3, column name_en: This value is required."
    assert "already on line 5" in found[3][2]
    assert "town appears twice: already on line 3" in found[5][2]
    assert "Longer than 40 characters" in found[6][2]
    assert not LevelName.objects.exists()


def test_a_refusal_names_the_column_as_the_file_wrote_it():
    rows = [["层级", "英文名称", "英文复数", "中文名称"], ["镇", "town", "", "镇"]]
    [(line, column, _text)] = refused(csv_bytes(rows))
    assert (line, column) == (2, "层级")


def test_the_tier_values_in_a_refusal_say_what_the_deployment_calls_them():
    load("levels", "levels.csv", csv_bytes(LONGGANG))
    [(_line, _column, text)] = refused(csv_bytes([HEADERS, ["street", "street", "", "街道"]]))
    assert "choose among prefecture, city (district), town (street), village (community)" in text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_back_unchanged(fmt):
    load("levels", "levels.csv", csv_bytes(LONGGANG[:1] + LONGGANG[2:]))  # town and village
    filename, content = export_org(kind="levels", fmt=fmt)
    assert filename == f"levels.{fmt}"
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(content)).active]
    assert rows == LONGGANG[:1] + LONGGANG[2:]
    report = load("levels", filename, content)
    assert report.created == report.changed == [] and report.unchanged == ["town", "village"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_has_english_or_chinese_headers_and_an_example_that_imports(fmt):
    for language, headers in (
        ("en", HEADERS),
        ("zh-hans", ["层级", "英文名称", "英文复数", "中文名称", "在此吹哨", "设委员会", "启用"]),
    ):
        filename, content = template_for(kind="levels", fmt=fmt, language=language)
        assert filename == f"levels-template.{fmt}"
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        else:
            rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(content)).active]
        assert rows == [headers, ["town", "street", "streets", "街道", "false", "true", "true"]]
        report = load("levels", filename, content, dry_run=True)
        assert report.created == ["town"]


def test_the_other_kinds_messages_say_the_imported_names():
    load("levels", "levels.csv", csv_bytes(LONGGANG))
    load("regions", "regions.geojson", REGIONS)
    wrong = geojson(feature(code="V09", name_zh="九", level="village", parent="C01"))
    with translation.override("en"):
        report = import_org(kind="regions", filename="r.geojson", data=wrong, dry_run=True)
        text = str(report.errors[0])
    assert "The parent of a community must be a street; C01 is a district." in text
    with translation.override("zh-hans"):
        report = import_org(kind="regions", filename="r.geojson", data=wrong, dry_run=True)
    assert "街道" in report.errors[0].message and "区" in report.errors[0].message


def test_the_import_page_offers_the_levels_kind(client, settings, tmp_path):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    user = UserFactory(username="importer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_importrun"))
    client.force_login(user)
    page = client.get(reverse("admin:rollout_importrun_add"), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert '<option value="levels"' in html
    assert reverse("admin:rollout_importrun_template", args=["levels", "csv", "zh-hans"]) in html
    assert reverse("admin:rollout_importrun_export", args=["levels", "xlsx"]) in html


def test_the_longgang_demo_calls_its_middle_level_street_and_haining_town():
    out = io.StringIO()
    with translation.override("en"):
        call_command("seed_demo", "--shape", "longgang", stdout=out)
    assert english("town") == "street" and chinese("town") == "街道"
    assert english("city") == "district" and chinese("village") == "社区"
    printed = out.getvalue()
    assert (
        "Level names (top, middle, bottom): district / 区; street / 街道; community / 社区."
        in printed
    )
    assert "Demo district ready: Longgang with 10 streets, " in printed
    build_demo_city(shape="haining")  # the same database, the other shape: its own names
    assert english("town") == "town" and chinese("town") == "镇(街道)"


def test_where_whistles_are_blown_and_the_chain_come_from_the_file():
    beijing = [
        HEADERS,
        ["city", "district", "districts", "区", "false", "false"],
        ["town", "street", "streets", "街道", "true", "true"],
    ]
    load("levels", "levels.csv", csv_bytes(LONGGANG))
    assert whistle_level() == "village" and on_chain("city")
    report = load("levels", "levels.csv", csv_bytes(beijing))
    assert report.changed == ["city", "town"]
    # The street whistles now: the community no longer does, though the file left it out.
    assert whistle_level() == "town" and not on_chain("city") and on_chain("town")
    assert LevelName.objects.get(level="village").whistles_here is False


def test_flags_the_engine_cannot_follow_are_refused():
    assert refused(
        csv_bytes(
            [
                HEADERS,
                ["city", "district", "", "区", "yes", "true"],
                ["town", "street", "", "街道", "false", "no"],
                ["village", "community", "", "社区", "maybe", ""],
            ]
        )
    ) == [
        (
            2,
            "whistles_here",
            "line 2, column whistles_here: Whistles are blown at the middle or the bottom level.",
        ),
        (
            3,
            "committee",
            "line 3, column committee: Only the top level's committee can be left out.",
        ),
        (4, "whistles_here", "line 4, column whistles_here: Write true or false (1 or 0)."),
    ]
    two = [HEADERS, ["town", "street", "", "街道", "1", ""], ["village", "c", "", "社区", "1", ""]]
    assert refused(csv_bytes(two)) == [
        (
            3,
            "whistles_here",
            "line 3, column whistles_here: "
            "Whistles are blown at one level only: untick the other first.",
        )
    ]
    assert not LevelName.objects.exists()
