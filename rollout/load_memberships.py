"""Memberships: who holds which role where. The place is a code whose table follows from the
role (ROLE_PLACE): a grid, a region of the role's level, a team or a department. Supervisors,
administrators and auditors may also sit at a prefecture (four levels, PREFECTURE_ROLES)."""

from collections import defaultdict

from django.utils.translation import gettext as _

from rollout.common import Plan, Problems, Progress, batches, finish, first_lines, match_choice
from rollout.files import Column, Row, Table
from rollout.report import ImportReport
from teams.levels import level_name, level_words
from teams.models import (
    ROLE_PLACE,
    Department,
    Grid,
    Membership,
    Region,
    Role,
    Team,
    User,
    role_held_at,
    role_out_of_use,
)

COLUMNS = [
    Column("username", "用户名", required=True),
    Column("role", "角色", required=True),
    Column("place", "所在单位编码", required=True),
    Column("force", "力量来源"),
    Column("stationed_in", "驻点村社"),
]
EXAMPLE = ["zhangsan", "team_member", "TEAM-01", "law_enforcement", "V0001"]
TEAM_ROLES = (Role.TEAM_CAPTAIN, Role.TEAM_MEMBER)
PLACE_MODELS = {"grid": Grid, "region": Region, "team": Team, "department": Department}


def key_of(username: str, role: str, place: str) -> str:
    return f"{username}|{role}|{place}"


class Places:
    """Every place code with its id, and for regions their level, town and city, read once."""

    def __init__(self) -> None:
        self.regions = {
            code: (pk, level, parent)
            for code, pk, level, parent in Region.objects.values_list(
                "code", "pk", "level", "parent_id"
            )
        }
        self.region_codes = {pk: code for code, (pk, _l, _p) in self.regions.items()}
        self.ids = {
            "grid": dict(Grid.objects.values_list("code", "pk")),
            "region": {code: pk for code, (pk, _l, _p) in self.regions.items()},
            "team": dict(Team.objects.values_list("code", "pk")),
            "department": dict(Department.objects.values_list("code", "pk")),
        }
        self.codes = {
            field: {pk: code for code, pk in ids.items()} for field, ids in self.ids.items()
        }
        self._areas: dict[int, set[int]] | None = None

    def served(self, team_id: int) -> set[int]:
        """The town and city ids a team and its brigades serve (teams.service_areas, in memory)."""
        if self._areas is None:
            teams = list(Team.objects.values_list("pk", "region_id", "parent_id"))
            own: dict[int, set[int]] = defaultdict(set)
            for team, region in Team.areas.through.objects.values_list("team_id", "region_id"):
                own[team].add(region)
            children: dict[int, list[int]] = defaultdict(list)
            for pk, region, parent in teams:
                own[pk] = own[pk] or {region}
                if parent:
                    children[parent].append(pk)

            def gather(pk: int, seen: set[int]) -> set[int]:
                if pk in seen:
                    return set()
                seen.add(pk)
                found = set(own[pk])
                for child in children[pk]:
                    found |= gather(child, seen)
                return found

            self._areas = {pk: gather(pk, set()) for pk, _r, _p in teams}
        return self._areas.get(team_id, set())

    def town_and_city(self, region_id: int) -> set[int]:
        ids = set()
        code = self.region_codes.get(region_id)
        while code is not None:
            pk, level, parent = self.regions[code]
            if level != Region.Level.VILLAGE:
                ids.add(pk)
            code = self.region_codes.get(parent) if parent else None
        return ids


def dump() -> list[list[str]]:
    places = Places()
    users = dict(User.objects.values_list("pk", "username"))
    rows = []
    for m in Membership.objects.order_by("user__username", "role", "pk"):
        field, _level = ROLE_PLACE[m.role]
        rows.append(
            [
                users[m.user_id],
                m.role,
                places.codes[field].get(getattr(m, f"{field}_id"), ""),
                m.force,
                places.region_codes.get(m.stationed_in_id, ""),
            ]
        )
    return rows


def _place(problems: Problems, places: Places, row: Row, role: str) -> tuple[str, int | None]:
    field, level = ROLE_PLACE[role]
    code = problems.text(row, "place", max_length=32, required=True)
    if problem := role_out_of_use(role):
        problems.add(row, "role", problem)
        return field, None
    if not code:
        return field, None
    role_label = Role(role).label
    pk = places.ids[field].get(code)
    if pk is None:
        what = level_name(level) if level else PLACE_MODELS[field]._meta.verbose_name
        problems.add(
            row,
            "place",
            _("No %(what)s with code %(code)s (a %(role)s is held at a %(what)s).")
            % {"what": what, "code": code, "role": role_label},
        )
        return field, None
    if level and not role_held_at(role, places.regions[code][1]):
        problems.add(
            row,
            "place",
            _("A %(role)s is held at a %(level)s; %(code)s is a %(actual)s.")
            % {
                "role": role_label,
                "level": level_name(level),
                "code": code,
                "actual": level_name(places.regions[code][1]),
            },
        )
        return field, None
    return field, pk


def _stationed(
    problems: Problems, places: Places, row: Row, role: str | None, team_id: int | None
) -> int | None:
    code = problems.text(row, "stationed_in", max_length=32)
    if not code:
        return None
    if role not in TEAM_ROLES:
        problems.add(
            row,
            "stationed_in",
            _("Only team captains and members are stationed in a %(village)s.") % level_words(),
        )
        return None
    found = places.regions.get(code)
    if found is None or found[1] != Region.Level.VILLAGE:
        problems.add(
            row,
            "stationed_in",
            _("No %(village)s with code %(code)s.") % {**level_words(), "code": code},
        )
        return None
    if team_id and not (places.town_and_city(found[0]) & places.served(team_id)):
        problems.add(
            row,
            "stationed_in",
            _("This %(village)s lies outside the team's service area.") % level_words(),
        )
        return None
    return found[0]


def load(*, source: Table, report: ImportReport, progress: Progress) -> None:
    problems = Problems(source)
    places = Places()
    names = {row.values["username"] for row in source.rows if row.values["username"]}
    users: dict[str, int] = {}
    for chunk in batches(sorted(names), 2000):
        users.update(User.objects.filter(username__in=chunk).values_list("username", "pk"))
    existing: dict[tuple, Membership] = {}
    user_ids = list(users.values())
    for chunk in batches(user_ids, 2000):
        for m in Membership.objects.filter(user_id__in=chunk):
            field, _level = ROLE_PLACE[m.role]
            existing[(m.user_id, m.role, getattr(m, f"{field}_id"))] = m
    first_lines(
        source,
        problems,
        lambda row: (
            row.values["username"],
            match_choice(row.values["role"], Role) or row.values["role"],
            row.values["place"],
        ),
        "place",
    )
    plan = Plan()
    new: list[Membership] = []
    updates: list[Membership] = []
    for row in source.rows:
        username = problems.text(row, "username", max_length=150, required=True)
        if username and username not in users:
            problems.add(
                row,
                "username",
                _("No user %(username)s: import the users first.") % {"username": username},
            )
        role = problems.choice(row, "role", Role)
        field, place_id = _place(problems, places, row, role) if role else (None, None)
        force = problems.choice(row, "force", Membership.Force, required=False)
        team_id = place_id if field == "team" else None
        stationed = _stationed(problems, places, row, role, team_id)
        if problems.errors or not (username and role and place_id):
            continue
        key = key_of(username, role, row.values["place"])
        values = {"force": force or "", "stationed_in_id": stationed}
        # A column the file leaves out is left as it is.
        values = {
            name: value
            for name, value in values.items()
            if name.removesuffix("_id") in source.headers
        }
        current = existing.get((users[username], role, place_id))
        if current is None:
            new.append(
                Membership(
                    user_id=users[username], role=role, **{f"{field}_id": place_id}, **values
                )
            )
            plan.created.append(key)
        elif any(getattr(current, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(current, name, value)
            updates.append(current)
            plan.changed.append(key)
        else:
            plan.unchanged.append(key)

    def write() -> None:
        Membership.objects.bulk_create(new, batch_size=500)
        fields = [name for name in ("force", "stationed_in") if name in source.headers]
        if fields:
            Membership.objects.bulk_update(updates, fields, batch_size=500)

    finish(report=report, errors=problems.errors, plan=plan, write=write, progress=progress)
