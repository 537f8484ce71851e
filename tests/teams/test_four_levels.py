"""A deployment of four levels (teams.levels.levels_in_use): a prefecture over its counties. The
tier above the top groups the top level's regions; its supervisors, administrators and auditors
see every county below it and nothing beside; its committee is on the escalation chain, above
the county's, only when the levels say so (tests/cases/test_prefecture_chain.py follows a case
there)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import translation

from cases.access import access_case, scope_of, visible_cases
from cases.errors import NotInScope
from rollout.services import export_org, import_org
from teams.levels import levels_in_use, on_chain, parent_level
from teams.models import LevelName, Membership, Region, Role, User
from tests.rollout.helpers import csv_bytes, feature, geojson, load, load_county
from tests.rollout.test_levels import HEADERS

pytestmark = pytest.mark.django_db

FOUR_LEVELS = [
    HEADERS,
    ["prefecture", "city", "cities", "市", "false", "", ""],
    ["city", "county", "counties", "县", "false", "true", "true"],
    ["town", "town", "towns", "镇", "false", "true", "true"],
    ["village", "village", "villages", "村", "false", "true", "true"],
]
PREFECTURE = geojson(
    feature(code="P01", name_zh="一号市", name_en="Prefecture 1", level="prefecture"),
    feature(code="C01", name_zh="一号区", name_en="District 1", level="city", parent="P01"),
)


def refused(kind: str, filename: str, data: bytes) -> list[tuple[int | None, str, str]]:
    """Each refusal: its line (a GeoJSON feature's position), its column and its message."""
    with translation.override("en"):
        report = import_org(kind=kind, filename=filename, data=data, dry_run=False)
        found = [(e.line or e.feature, e.column, e.message) for e in report.errors]
    assert not report.ok and report.created == report.changed == []
    return found


def test_a_levels_file_with_a_prefecture_row_gives_four_levels():
    assert levels_in_use() == ("city", "town", "village")
    assert parent_level("city") is None
    report = load("levels", "levels.csv", csv_bytes(FOUR_LEVELS))
    assert report.created == ["prefecture", "city", "town", "village"]
    above = LevelName.objects.get(level="prefecture")
    # Empty columns: in use (the row is there for it), and no committee on the chain.
    assert (above.in_use, above.committee) == (True, False)
    assert levels_in_use() == ("prefecture", "city", "town", "village")
    assert parent_level("city") == "prefecture" and on_chain("city")
    again = load("levels", "levels.csv", csv_bytes(FOUR_LEVELS))
    assert again.created == again.changed == [] and len(again.unchanged) == 4


def test_the_prefecture_has_no_whistles_and_needs_the_top_level():
    rows = [HEADERS, ["prefecture", "city", "cities", "市", "true", "true", "true"]]
    assert refused("levels", "levels.csv", csv_bytes(rows)) == [
        (2, "whistles_here", "Whistles are blown at the middle or the bottom level."),
    ]
    two_and_above = [
        HEADERS,
        ["prefecture", "city", "cities", "市", "", "", ""],
        ["city", "whole area", "", "全辖区", "", "", "false"],
    ]
    assert refused("levels", "levels.csv", csv_bytes(two_and_above)) == [
        (
            2,
            "in_use",
            "The level above the top needs the top level (city) in use: a deployment has "
            "two, three or four levels.",
        )
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        LevelName.objects.create(level="prefecture", name_en="city", whistles_here=True)

    # Four levels keep their top level: it goes out of use only after the prefecture.
    load("levels", "levels.csv", csv_bytes(FOUR_LEVELS))
    assert refused("levels", "levels.csv", csv_bytes(two_and_above[:1] + two_and_above[2:])) == [
        (
            2,
            "in_use",
            "The level above the top (city) is in use: a deployment of four levels keeps its top "
            "level. Put the level above out of use first.",
        )
    ]


def test_a_prefecture_region_needs_its_level_in_use_and_stays_while_it_has_regions():
    load_county()
    assert refused("regions", "regions.geojson", PREFECTURE) == [
        (
            1,
            "level",
            "The level above the top (prefecture) is not in use: say in_use = true on its row of "
            "the levels file, or on the admin page Level names, first.",
        ),
        (2, "parent", "A city has no parent region."),
    ]
    load("levels", "levels.csv", csv_bytes(FOUR_LEVELS))
    report = load("regions", "regions.geojson", PREFECTURE)
    assert report.created == ["P01"] and report.changed == ["C01"]
    assert Region.objects.get(code="C01").parent.code == "P01"
    assert Region.objects.get(code="V01").city.code == "C01"  # the county, not the prefecture

    wrong = geojson(
        feature(code="P02", name_zh="二号市", level="prefecture", parent="C01"),
        feature(code="T09", name_zh="九号镇", level="town", parent="P01"),
    )
    assert refused("regions", "regions.geojson", wrong) == [
        (1, "parent", "A city has no parent region."),
        (
            2,
            "parent",
            "The parent of a town must be a county; P01 is a city.",
        ),
    ]
    out_of_use = [HEADERS, ["prefecture", "city", "cities", "市", "", "", "false"]]
    assert refused("levels", "levels.csv", csv_bytes(out_of_use)) == [
        (2, "in_use", "1 region of the level above the top is left: remove it first.")
    ]
    with translation.override("en"), pytest.raises(ValidationError) as error:
        LevelName.objects.get(level="prefecture").__class__(
            pk=LevelName.objects.get(level="prefecture").pk,
            level="prefecture",
            name_en="city",
            name_zh="市",
            committee=False,
            in_use=False,
        ).full_clean()
    assert "1 region of the level above the top is left" in str(error.value)


def test_supervisors_administrators_and_auditors_sit_at_a_prefecture_and_no_one_else():
    load_county()
    load("levels", "levels.csv", csv_bytes(FOUR_LEVELS))
    load("regions", "regions.geojson", PREFECTURE)
    User.objects.create(username="overseer")
    rows = [
        ["username", "role", "place"],
        ["overseer", "supervisor", "P01"],
        ["overseer", "auditor", "P01"],
        ["overseer", "town_committee", "P01"],
        ["overseer", "city_committee", "P01"],
    ]
    assert refused("memberships", "memberships.csv", csv_bytes(rows)) == [
        (4, "place", "A town committee staff is held at a town; P01 is a city."),
        (5, "place", "A county committee staff is held at a county; P01 is a city."),
    ]
    report = load("memberships", "memberships.csv", csv_bytes(rows[:3]))
    assert len(report.created) == 2
    overseer = User.objects.get(username="overseer")
    county = Region.objects.get(code="C01")
    assert scope_of(overseer).regions_of(Role.SUPERVISOR) == {county.pk}
    with translation.override("en"), pytest.raises(ValidationError, match="held at the level"):
        Membership(user=overseer, role=Role.CITY_COMMITTEE, region=county.parent).full_clean()


def test_the_export_carries_the_prefecture_and_imports_back_unchanged():
    load_county()
    load("levels", "levels.csv", csv_bytes(FOUR_LEVELS))
    load("regions", "regions.geojson", PREFECTURE)
    for kind, name in (("levels", "levels.csv"), ("regions", "regions.geojson")):
        filename, content = export_org(kind=kind, fmt=name.rsplit(".", 1)[1])
        report = load(kind, filename, content)
        assert report.created == report.changed == [], kind
    _filename, content = export_org(kind="regions", fmt="geojson")
    assert content.index(b'"P01"') < content.index(b'"C01"')  # the prefecture first


# --- the demo on four levels ----------------------------------------------------------------------


def test_the_wenzhou_demo_is_built_on_four_levels_and_rebuilt_unchanged():
    from tests.teams.test_seed_demo import seed, snapshot

    first = seed("--shape", "wenzhou")
    assert (
        "Four levels (above the top, top, middle, bottom): city / 市; county / 县(市); town / "
        "镇(街道); community / 村(社区); escalation ends at the committee of the level above the "
        "top.\n"
        "Wenzhou oversees Cangnan, Longgang." in first
    )
    assert "wz-supervisor1" in first and "cn-county1" in first and "wz-city1" in first
    before = snapshot()
    assert seed("--shape", "wenzhou") == first
    assert snapshot() == before
    wenzhou = Region.objects.get(code="WZ")
    assert sorted(wenzhou.children.values_list("code", flat=True)) == ["CN", "LG"]


def _whistle(username: str, grid: str):
    from shapely.geometry import shape

    from cases.services import file_whistle
    from checklists.models import Item
    from teams.models import Grid

    point = shape(Grid.objects.get(code=grid).polygon).representative_point()
    return file_whistle(
        user=User.objects.get(username=username),
        item=Item.objects.get(code="SAN-01"),
        description="Rubbish piled by the road",
        latitude=point.y,
        longitude=point.x,
    ).case


def test_the_prefecture_s_supervisor_sees_both_counties_and_each_county_its_own(
    settings, tmp_path, client
):
    from rollout.demo import build_demo_city

    settings.MEDIA_ROOT = tmp_path / "media"
    build_demo_city(shape="wenzhou")
    cangnan = _whistle("cn-grid1", "CN-LX-01-01")
    longgang = _whistle("lg-grid1", "LG-CB-01-01")
    assert (cangnan.city.code, longgang.city.code) == ("CN", "LG")
    assert cangnan.number.startswith("CN-") and longgang.number.startswith("LG-")

    def seen(username: str) -> set[str]:
        user = User.objects.get(username=username)
        return set(
            visible_cases(user=user)
            .filter(pk__in=[cangnan.pk, longgang.pk])
            .values_list("city__code", flat=True)
        )

    assert seen("wz-supervisor1") == {"CN", "LG"}
    assert seen("wz-admin") == {"CN", "LG"}
    assert seen("cn-supervisor1") == {"CN"} and seen("cn-county1") == {"CN"}
    assert seen("lg-supervisor1") == {"LG"} and seen("lg-district1") == {"LG"}
    with pytest.raises(NotInScope):
        access_case(user=User.objects.get(username="cn-supervisor1"), pk=longgang.pk)

    # Through the pages: the prefecture's supervisor opens a case of each county and lists
    # both; a county's supervisor gets no page of the other county's case.
    client.force_login(User.objects.get(username="wz-supervisor1"))
    for case in (cangnan, longgang):
        page = client.get(reverse("cases:detail", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200 and case.number in page.content.decode()
    listed = client.get(reverse("cases:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert cangnan.number in listed and longgang.number in listed
    # The assessment: the prefecture's overview counts both counties' whistles, each county's
    # its own; the ranking compares the counties.
    from django.utils import timezone

    from assessment.periods import period_for
    from assessment.selectors import indicators
    from assessment.services import refresh_case_facts

    for case in (cangnan, longgang):
        refresh_case_facts(case_id=case.pk)
    month = period_for("month", timezone.localdate())
    wenzhou, county = Region.objects.get(code="WZ"), Region.objects.get(code="CN")
    overseer = User.objects.get(username="wz-supervisor1")
    whistles = {
        (unit_type, unit.code): indicators(
            user=overseer, unit_type=unit_type, unit_id=unit.pk, period=month
        )["merged_share"].denominator
        for unit_type, unit in (("prefecture", wenzhou), ("city", county))
    }
    assert whistles == {("prefecture", "WZ"): 2, ("city", "CN"): 1}
    overview = client.get(reverse("assessment:overview"), HTTP_ACCEPT_LANGUAGE="en")
    assert overview.status_code == 200 and "City Wenzhou" in overview.content.decode()
    ranking = client.get(
        reverse("assessment:rankings"), {"type": "city"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'data-testid="tab-city"' in ranking and "Ranking: Counties" in ranking
    assert "Cangnan" in ranking and "Longgang" in ranking
    client.force_login(User.objects.get(username="cn-supervisor1"))
    assert client.get(reverse("cases:detail", args=[longgang.pk])).status_code == 404
    ranking = client.get(reverse("assessment:rankings"), HTTP_ACCEPT_LANGUAGE="en")
    assert 'data-testid="tab-city"' not in ranking.content.decode()  # one county: no ranking
    with pytest.raises(Http404):  # nor the prefecture's figures
        indicators(
            user=User.objects.get(username="cn-supervisor1"),
            unit_type="prefecture",
            unit_id=wenzhou.pk,
            period=month,
        )


def test_escalation_ends_at_the_county_and_the_prefecture_decides_nothing(settings, tmp_path):
    from cases.errors import IllegalTransition, NotAllowed
    from cases.models import Level, Status
    from cases.services import (
        accept_case,
        decide_consultation,
        escalate_case,
        report_in,
        request_consultation,
        whistle_to_town,
    )
    from rollout.demo import build_demo_city

    settings.MEDIA_ROOT = tmp_path / "media"
    build_demo_city(shape="wenzhou")
    person = {name: User.objects.get(username=name) for name in ("cn-village1", "cn-captain1")}
    case = _whistle("cn-grid1", "CN-LX-01-01")
    accept_case(user=person["cn-village1"], case_id=case.pk)
    case = whistle_to_town(user=person["cn-village1"], case_id=case.pk, note="Too big for us")
    report_in(user=person["cn-captain1"], dispatch_id=case.dispatches.get(team__isnull=False).pk)
    request_consultation(user=person["cn-captain1"], case_id=case.pk, reason="The owner resists")
    case = escalate_case(
        user=User.objects.get(username="cn-town1"), case_id=case.pk, reason="Needs the county"
    )
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.CITY)
    # Nothing above the county's committee: the prefecture has none on the chain.
    with pytest.raises((IllegalTransition, NotAllowed)):
        escalate_case(
            user=User.objects.get(username="cn-county1"), case_id=case.pk, reason="Higher"
        )
    with pytest.raises(NotAllowed):
        decide_consultation(
            user=User.objects.get(username="wz-supervisor1"),
            case_id=case.pk,
            decision="Clear it",
            tasks=[],
        )
    case.refresh_from_db()
    assert (case.status, case.level) == (Status.IN_CONSULTATION, Level.CITY)


def test_the_monthly_report_of_the_prefecture_and_of_each_county_ranks_what_lies_in_it(client):
    """The prefecture's report ranks its counties and links to theirs; a county's report, opened
    by the prefecture's supervisor, ranks that county's towns and departments only."""
    from rollout.demo import build_demo_city

    build_demo_city(shape="wenzhou")
    client.force_login(User.objects.get(username="wz-supervisor1"))
    report = client.get(reverse("assessment:report"), HTTP_ACCEPT_LANGUAGE="en")
    text = report.content.decode()
    assert report.status_code == 200
    assert "Monthly assessment report: Wenzhou" in text and "Ranking: Counties" in text
    county = Region.objects.get(code="CN")
    assert f"?unit_type=city&amp;unit_id={county.pk}" in text  # the counties' reports
    report = client.get(
        reverse("assessment:report"),
        {"unit_type": "city", "unit_id": county.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    text = report.content.decode()
    assert "Monthly assessment report: Cangnan" in text and "Ranking: Towns" in text
    assert "Lingxi Town" in text and "Cangnan Market Supervision Bureau" in text
    assert "Chengzhong Street" not in text and "Longgang Market Supervision Bureau" not in text
    # A county's supervisor has no report of the prefecture.
    client.force_login(User.objects.get(username="cn-supervisor1"))
    asked = client.get(reverse("assessment:report"), {"unit_type": "prefecture"})
    assert asked.status_code == 404
