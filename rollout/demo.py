"""The demo counties, built by importing the example files shipped in docs/examples/<shape>/, so
that the import a county uses is the one every `make run` goes through.

Four shapes: "haining" (a city, its towns and villages, a "1+1+X" team pair per town) and
"longgang" (a district, its streets and communities, one district team of 5 area brigades and 3
professional brigades, officers stationed in communities), "pinghu" (two levels: a street over
its communities) and "wenzhou" (four levels: the prefecture of Wenzhou over Longgang's files and
the small county of Cangnan, its supervisors seeing both). Each directory holds the seven import
files (levels.csv first: what the shape calls its tiers, city / town / village or district /
street / community) and demo.json: the city's code, the logins to print and the superusers (and,
for four levels, the prefecture's code). The import never carries passwords: the demo gives
every user of its files the demo password afterwards.
"""

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import check_password, is_password_usable, make_password
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from checklists.demo import build_demo_item, build_demo_replies
from rollout.services import import_org
from teams.demo import DEMO_PASSWORD, DemoCity
from teams.models import Department, Grid, Membership, Region, Role, Team, User
from teams.two_factor.demo import give_demo_second_factor

SHAPES = ("haining", "longgang", "pinghu", "wenzhou")
DEFAULT_SHAPE = "haining"
# The order of the files: each kind refers to codes the kinds before it created.
FILES = (
    ("levels", "levels.csv"),
    ("regions", "regions.geojson"),
    ("grids", "grids.geojson"),
    ("departments", "departments.csv"),
    ("teams", "teams.csv"),
    ("users", "users.csv"),
    ("memberships", "memberships.csv"),
)


class DemoFilesRefused(Exception):
    """An example file did not import: the shipped files and the importer disagree."""


@dataclass(frozen=True)
class Manifest:
    city: str
    logins: list[tuple[str, str]]  # (role, username), printed in this order
    superusers: list[str]


def examples_dir(shape: str) -> Path:
    if shape not in SHAPES:
        raise ValueError(
            _("Unknown demo shape %(shape)s; choose among %(shapes)s.")
            % {"shape": shape, "shapes": ", ".join(SHAPES)}
        )
    return Path(settings.BASE_DIR) / "docs" / "examples" / shape


def manifest(shape: str) -> Manifest:
    data = json.loads((examples_dir(shape) / "demo.json").read_text(encoding="utf-8"))
    return Manifest(
        city=data["city"],
        logins=[(role, username) for role, username in data["logins"]],
        superusers=data["superusers"],
    )


def _usernames(directory: Path) -> list[str]:
    text = (directory / "users.csv").read_text(encoding="utf-8-sig")
    return [row["username"] for row in csv.DictReader(io.StringIO(text))]


def _import_files(directory: Path) -> None:
    for kind, name in FILES:
        path = directory / name
        report = import_org(kind=kind, filename=name, data=path.read_bytes(), dry_run=False)
        if not report.ok:
            listed = "; ".join(str(error) for error in report.errors[:10])
            raise DemoFilesRefused(f"{path}: {listed}")


def _give_password(*, usernames: list[str], password: str) -> None:
    """The demo password for every user of the files. One hash serves them all and each stored
    hash is checked once, so a rerun costs one key derivation per distinct hash, not per user."""
    users = User.objects.filter(username__in=usernames)
    matches: dict[str, bool] = {}
    stale = []
    for pk, encoded in users.values_list("pk", "password"):
        if encoded not in matches:
            # An imported user's password is unusable: no key derivation to find that out
            # (check_password would spend one anyway, to take the same time).
            matches[encoded] = is_password_usable(encoded) and check_password(password, encoded)
        if not matches[encoded]:
            stale.append(pk)
    if stale:
        User.objects.filter(pk__in=stale).update(password=make_password(password))


def _counts(city: Region) -> dict[str, int]:
    """What the demo county holds, for the command's last line."""
    towns = Region.objects.filter(parent=city)
    villages = Region.objects.filter(parent__in=towns)
    grids = Grid.objects.filter(village__in=villages)
    departments = Department.objects.filter(Q(region=city) | Q(region__in=towns))
    teams = Team.objects.filter(Q(region=city) | Q(region__in=towns))
    memberships = Membership.objects.filter(
        Q(region=city)
        | Q(region__in=towns)
        | Q(region__in=villages)
        | Q(grid__in=grids)
        | Q(team__in=teams)
        | Q(department__in=departments)
    )
    return {
        "towns": towns.count(),
        "villages": villages.count(),
        "grids": grids.count(),
        "departments": departments.count(),
        "teams": teams.count(),
        "users": memberships.values("user").distinct().count(),
        "memberships": memberships.count(),
    }


@transaction.atomic
def build_demo_city(*, shape: str = DEFAULT_SHAPE, password: str = DEMO_PASSWORD) -> DemoCity:
    """Create or bring up to date the demo county of `shape` from its files, the demo password
    and second factor of its users, and the fast-escalation demo item. A rerun changes
    nothing."""
    directory = examples_dir(shape)
    plan = manifest(shape)
    _import_files(directory)
    _give_password(usernames=_usernames(directory), password=password)
    User.objects.filter(username__in=plan.superusers).exclude(
        is_staff=True, is_superuser=True
    ).update(is_staff=True, is_superuser=True)
    build_demo_item()
    build_demo_replies()

    city = Region.objects.get(code=plan.city, level=Region.Level.CITY)
    usernames = [username for _role, username in plan.logins]
    users = {user.username: user for user in User.objects.filter(username__in=usernames)}
    logins = [(str(Role(role).label), username, password) for role, username in plan.logins]
    second_factor_users = give_demo_second_factor(
        users=[users[name] for name in usernames if name in users]
    )
    return DemoCity(
        city=city,
        logins=logins,
        counts=_counts(city),
        second_factor_users=second_factor_users,
    )
