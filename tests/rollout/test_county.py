"""A small county loaded kind by kind through import_org, and what lands in the database."""

import pytest
from django.contrib.auth.hashers import is_password_usable

from rollout.services import import_org
from teams.models import Department, Grid, Membership, Region, Role, Team, User
from tests.rollout.helpers import (
    MEMBERSHIPS,
    REGIONS,
    USERS,
    csv_bytes,
    load_county,
)

pytestmark = pytest.mark.django_db


def test_every_kind_loads_and_lands_as_written():
    load_county()
    assert Region.objects.get(code="V03").parent.code == "T02"
    assert Region.objects.get(code="T01").parent.code == "C01"
    grid = Grid.objects.get(code="G03")
    assert grid.polygon["type"] == "MultiPolygon"
    assert (grid.min_lng, grid.max_lng) == (120.1, 120.21)
    assert Department.objects.get(code="D02").region.code == "T01"
    brigade = Team.objects.get(code="TM2")
    assert brigade.parent.code == "TM1"
    assert brigade.region.code == "C01"
    assert [r.code for r in brigade.areas.all()] == ["T01"]
    assert sorted(d.code for d in brigade.departments.all()) == ["D01", "D02"]
    wang = User.objects.get(username="wang")
    assert (wang.last_name, wang.first_name, wang.phone) == ("王", "芳", "13800000001")
    assert not is_password_usable(wang.password)
    assert not User.objects.get(username="zhao").is_active
    member = Membership.objects.get(user__username="li", role=Role.TEAM_MEMBER)
    assert (member.team.code, member.force, member.stationed_in.code) == (
        "TM2",
        "law_enforcement",
        "V01",
    )
    assert Membership.objects.count() == len(MEMBERSHIPS) - 1


def test_running_the_same_files_again_changes_nothing():
    load_county()
    again = import_org(kind="regions", filename="r.geojson", data=REGIONS, dry_run=False)
    assert again.ok and again.created == [] and again.changed == []
    assert sorted(again.unchanged) == ["C01", "T01", "T02", "V01", "V02", "V03"]
    users = import_org(kind="users", filename="u.csv", data=csv_bytes(USERS), dry_run=False)
    assert users.unchanged == ["wang", "li", "zhao"] and not users.created + users.changed
    members = import_org(
        kind="memberships", filename="m.csv", data=csv_bytes(MEMBERSHIPS), dry_run=False
    )
    assert len(members.unchanged) == len(MEMBERSHIPS) - 1
    assert "li|team_member|TM2" in members.unchanged


def test_a_changed_row_is_reported_changed_and_written():
    load_county()
    rows = [list(row) for row in USERS]
    rows[2][4] = "13900000002"
    report = import_org(kind="users", filename="u.csv", data=csv_bytes(rows), dry_run=False)
    assert report.changed == ["li"] and report.unchanged == ["wang", "zhao"]
    assert User.objects.get(username="li").phone == "13900000002"


def test_a_column_the_file_leaves_out_is_left_as_it_is():
    load_county()
    User.objects.filter(username="li").update(is_active=False)
    rows = [["username", "first_name"], ["wang", "芳芳"], ["li", "强"]]
    report = import_org(kind="users", filename="u.csv", data=csv_bytes(rows), dry_run=False)
    assert report.changed == ["wang"] and report.unchanged == ["li"]
    wang = User.objects.get(username="wang")
    assert (wang.first_name, wang.email, wang.phone) == ("芳芳", "wang@example.test", "13800000001")
    assert not User.objects.get(username="li").is_active  # a blank is_active keeps it
    teams = [
        ["code", "name_zh", "name_en", "region", "kind"],
        ["TM2", "一中队", "Brigade 1", "C01", "professional"],
    ]
    report = import_org(kind="teams", filename="t.csv", data=csv_bytes(teams), dry_run=False)
    assert report.changed == ["TM2"]
    brigade = Team.objects.get(code="TM2")
    assert brigade.kind == "professional" and brigade.parent.code == "TM1"
    assert sorted(d.code for d in brigade.departments.all()) == ["D01", "D02"]
    members = [["username", "role", "place"], ["li", "team_member", "TM2"]]
    report = import_org(
        kind="memberships", filename="m.csv", data=csv_bytes(members), dry_run=False
    )
    assert report.unchanged == ["li|team_member|TM2"]
    assert (
        Membership.objects.get(user__username="li", role="team_member").stationed_in.code == "V01"
    )
