"""`manage.py seed_demo`: the demo city Haining imported from docs/examples/haining, its tiling
grids and one login per role."""

import io
import itertools

import pytest
from django.apps import apps
from django.core.management import call_command
from django.http import HttpRequest
from django.utils import translation
from shapely.geometry import shape
from shapely.ops import unary_union

from checklists.models import Item, TimeUnit
from rollout.demo import manifest
from teams import geo
from teams.demo import DEMO_PASSWORD
from teams.models import Department, DepartmentKind, Grid, Membership, Region, Role, Team, User

pytestmark = pytest.mark.django_db

# (role, username) of the printed logins, as docs/examples/haining/demo.json lists them.
MAIN_USERS = manifest("haining").logins


def seed(*args: str, language: str = "en") -> str:
    out = io.StringIO()
    with translation.override(language):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def rectangle(polygon: dict) -> tuple[float, float, float, float]:
    """(west, south, east, north), asserting the polygon is an axis-aligned rectangle."""
    ring = polygon["coordinates"][0]
    corners = {tuple(p) for p in ring}
    lngs = {p[0] for p in ring}
    lats = {p[1] for p in ring}
    assert len(ring) == 5 and len(corners) == 4 and len(lngs) == 2 and len(lats) == 2
    return min(lngs), min(lats), max(lngs), max(lats)


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table, field by field (auto-created M2M tables included)."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
    }


def test_builds_the_city_towns_villages_grids_departments_and_teams():
    seed()

    city = Region.objects.get(code="HN")
    assert (city.level, city.parent, city.name_zh, city.name_en) == (
        Region.Level.CITY,
        None,
        "海宁市",
        "Haining",
    )
    assert Region.objects.filter(level=Region.Level.CITY).count() == 1
    towns = Region.objects.filter(level=Region.Level.TOWN)
    assert towns.count() >= 3
    assert set(towns.values_list("parent__code", flat=True)) == {"HN"}
    assert Region.objects.get(code="HN-XS").name_zh == "硖石街道"
    villages = Region.objects.filter(level=Region.Level.VILLAGE)
    assert villages.count() >= 12
    for town in towns:
        assert town.children.count() >= 4
        assert all(v.code.startswith(f"{town.code}-") for v in town.children.all())
    assert Grid.objects.count() >= 30
    for village in villages:
        assert village.grids.count() >= 2

    city_departments = Department.objects.filter(region=city)
    assert city_departments.count() >= 6
    assert Department.objects.get(code="HN-MSB").kind.code == "market_supervision"
    assert {"market_supervision", "public_security", "fire_rescue"} <= set(
        city_departments.values_list("kind__code", flat=True)
    )

    for town in towns:
        teams = list(Team.objects.filter(region=town))
        assert sorted(t.kind for t in teams) == [
            Team.Kind.COMPREHENSIVE,
            Team.Kind.PROFESSIONAL,
        ]
        for team in teams:
            assert team.region.level == Region.Level.TOWN
            assert team.departments.exists()
            assert team.serves(town.children.first())
    comprehensive = Team.objects.get(code="HN-XS-CLE")
    assert comprehensive.name_zh == "硖石街道综合行政执法中队"
    assert not comprehensive.serves(Region.objects.get(code="HN-HZ-01"))


def test_comprehensive_teams_hold_all_the_forces_of_one_plus_one_plus_x():
    seed()

    for team in Team.objects.filter(kind=Team.Kind.COMPREHENSIVE):
        forces = set(team.memberships.values_list("force", flat=True))
        assert forces == set(Membership.Force.values), team.code
        assert team.memberships.filter(role=Role.TEAM_CAPTAIN).count() == 1
        # The grid force is made of real grid workers of the team's own town.
        for member in team.memberships.filter(force=Membership.Force.GRID):
            grids = Grid.objects.filter(
                memberships__user=member.user, memberships__role=Role.GRID_WORKER
            )
            assert grids.exists()
            assert all(team.serves(g.village) for g in grids)
    for membership in Membership.objects.all():
        membership.full_clean()  # every role sits at the kind of place it needs


def test_every_role_has_a_demo_user_who_can_log_in(client):
    output = seed()

    main = {username: role for role, username in MAIN_USERS}
    # Every role but the prefecture committee's, which needs four levels (the Wenzhou demo's).
    assert set(main.values()) == set(Role.values) - {Role.PREFECTURE_COMMITTEE}
    assert [Role.PREFECTURE_COMMITTEE, "wz-city1"] in [
        list(login) for login in manifest("wenzhou").logins
    ]
    for username, role in main.items():
        assert username in output
        user = User.objects.get(username=username)
        assert user.first_name and user.last_name
        assert user.memberships.filter(role=role).exists()
        assert client.login(request=HttpRequest(), username=username, password=DEMO_PASSWORD), (
            username
        )
        client.logout()
    assert output.count(DEMO_PASSWORD) == len(MAIN_USERS)
    assert "Username" in output and "Password" in output
    assert "Demo city ready" in output

    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.filter(is_superuser=True).exclude(username="admin").exists()

    def place(username: str, role: str):
        return Membership.objects.get(user__username=username, role=role).place

    assert place("grid1", Role.GRID_WORKER).village.code == "HN-XS-01"
    assert place("grid2", Role.GRID_WORKER).village.code == "HN-XS-02"
    assert place("village1", Role.VILLAGE_OFFICER).code == "HN-XS-01"
    assert place("captain1", Role.TEAM_CAPTAIN).code == "HN-XS-CLE"
    assert place("member1", Role.TEAM_MEMBER).code == "HN-XS-CLE"
    assert place("captain2", Role.TEAM_CAPTAIN).region.code != "HN-XS"
    assert place("liaison1", Role.DEPARTMENT_LIAISON).kind.code == "market_supervision"
    assert place("town1", Role.TOWN_COMMITTEE).code == "HN-XS"
    for username, role in [
        ("city1", Role.CITY_COMMITTEE),
        ("supervisor1", Role.SUPERVISOR),
        ("admin", Role.ADMIN),
        ("auditor1", Role.AUDITOR),
    ]:
        assert place(username, role).code == "HN"
    # Every grid has a grid worker, every village an officer.
    assert not Grid.objects.exclude(memberships__role=Role.GRID_WORKER).exists()
    assert not (
        Region.objects.filter(level=Region.Level.VILLAGE)
        .exclude(memberships__role=Role.VILLAGE_OFFICER)
        .exists()
    )


def test_prints_the_login_table_in_chinese_too():
    output = seed(language="zh-hans")

    assert "海宁市" in output
    for _role, username in MAIN_USERS:
        assert username in output


def test_grid_polygons_are_valid_and_lie_in_their_village():
    seed()

    grids = list(Grid.objects.select_related("village"))
    for grid in grids:
        assert geo.polygon_errors(grid.polygon) == "", grid.code
        assert (grid.min_lng, grid.min_lat, grid.max_lng, grid.max_lat) == geo.bbox(grid.polygon)
        # Near Haining, in WGS-84 [lng, lat] order.
        assert 120.4 < grid.min_lng < grid.max_lng < 120.9
        assert 30.3 < grid.min_lat < grid.max_lat < 30.7
        rectangle(grid.polygon)
    # The point in the middle of a grid belongs to that grid only: lookups are unambiguous.
    for grid in grids:
        lng, lat = (grid.min_lng + grid.max_lng) / 2, (grid.min_lat + grid.max_lat) / 2
        assert [g.code for g in grids if geo.contains(g.polygon, lng, lat)] == [grid.code]


def test_villages_and_towns_are_whole_rectangles_side_by_side():
    """The grids of a village tile a rectangle, the villages of a town tile one, and no two
    grids, villages or towns overlap."""
    seed()

    def outline(polygons: list[dict]):
        return unary_union([shape(p) for p in polygons])

    villages = {
        v: outline([g.polygon for g in v.grids.all()])
        for v in Region.objects.filter(level=Region.Level.VILLAGE)
    }
    for village, union in villages.items():
        pieces = [shape(g.polygon) for g in village.grids.all()]
        assert union.area == pytest.approx(union.envelope.area, rel=1e-9), village.code
        assert sum(p.area for p in pieces) == pytest.approx(union.area, rel=1e-9)
    towns = {}
    for town in Region.objects.filter(level=Region.Level.TOWN):
        pieces = [villages[v] for v in villages if v.parent_id == town.pk]
        towns[town] = unary_union(pieces)
        assert towns[town].area == pytest.approx(towns[town].envelope.area, rel=1e-9)
        assert sum(p.area for p in pieces) == pytest.approx(towns[town].area, rel=1e-9)
    for a, b in itertools.combinations(towns.values(), 2):
        assert a.intersection(b).area == pytest.approx(0, abs=1e-15)


def test_running_twice_changes_nothing():
    first = seed()
    before = snapshot()
    hashes = dict(User.objects.values_list("username", "password"))

    second = seed()

    assert snapshot() == before
    assert dict(User.objects.values_list("username", "password")) == hashes
    assert second == first
    grid_rows = list(Grid.objects.order_by("pk").values_list("code", "name_zh", "polygon"))
    assert grid_rows == [
        (row["code"], row["name_zh"], row["polygon"]) for row in before["teams.Grid"]
    ]


def test_rerun_repairs_demo_rows_and_keeps_shipped_department_kinds():
    DepartmentKind.objects.filter(code="market_supervision").update(name_en="Markets (local)")
    kinds = DepartmentKind.objects.count()
    seed()
    polygon = Grid.objects.get(code="HN-XS-01-01").polygon
    Grid.objects.filter(code="HN-XS-01-01").update(
        polygon={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
        max_lat=1,
    )
    User.objects.filter(username="grid1").update(password="!unusable")

    seed()

    kind = DepartmentKind.objects.get(code="market_supervision")
    assert kind.name_en == "Markets (local)"
    assert Department.objects.get(code="HN-MSB").kind == kind
    assert DepartmentKind.objects.count() == max(kinds, 12)
    grid = Grid.objects.get(code="HN-XS-01-01")
    assert grid.polygon == polygon
    assert grid.max_lat == geo.bbox(polygon)[3] > 30
    assert User.objects.get(username="grid1").check_password(DEMO_PASSWORD)


def test_password_option_changes_the_demo_password(client):
    seed("--password", "another-demo-pass")

    assert client.login(request=HttpRequest(), username="city1", password="another-demo-pass")
    assert not client.login(request=HttpRequest(), username="city1", password=DEMO_PASSWORD)


def test_demo_item_escalates_within_minutes():
    """DEMO-01 lets a `make run` user watch a whistle climb village -> town -> city."""
    seed()
    seed()
    item = Item.objects.get(code="DEMO-01")
    assert (item.aspect.code, item.name_zh, item.name_en) == (
        "SAN",
        "演示：快速升级",
        "Demo: fast escalation",
    )
    assert item.whistleable and item.active and item.default_team_kinds == ["comprehensive"]
    limits = {limit.stage: (limit.amount, limit.unit) for limit in item.time_limits.all()}
    minutes = TimeUnit.NATURAL_MINUTES
    assert limits == {
        "screening": (2, minutes),
        "village_handling": (2, minutes),
        "report_in": (2, minutes),
        "handling": (3, minutes),
        "town_consultation": (3, minutes),
        "city_consultation": (3, minutes),
        "prefecture_consultation": (3, minutes),
        "verification": (5, minutes),
        "redispatch": (3, minutes),
        "suspension_review": (10, minutes),
    }
