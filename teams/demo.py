"""The organisation of a demo city modelled on Haining (海宁市), built idempotently for demos,
e2e tests and benchmarks.

The data is kept as plain structures below; `build_demo_organisation` turns them into rows with
"upsert by code / username" so that running it again changes nothing. The whole demo (this and
a fast-escalation checklist item) is built by checklists.demo.build_demo_city.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.db import models, transaction

from teams.models import (
    Department,
    DepartmentKind,
    Grid,
    Membership,
    Region,
    Role,
    Team,
    User,
)
from teams.two_factor.demo import give_demo_second_factor

DEMO_PASSWORD = "whistle-demo"  # noqa: S105 - a published demo password, not a secret

CITY = {"code": "HN", "name_zh": "海宁市", "name_en": "Haining"}

# Kinds the departments use; the names only apply when the kind is missing (the teams data
# migration normally ships them).
DEPARTMENT_KINDS = {
    "market_supervision": ("市场监督管理", "Market supervision"),
    "public_security": ("公安", "Public security"),
    "housing_construction": ("住房和城乡建设", "Housing and construction"),
    "fire_rescue": ("消防救援", "Fire and rescue"),
    "ecology_environment": ("生态环境", "Ecology and environment"),
    "natural_resources": ("自然资源和规划", "Natural resources and planning"),
    "urban_management": ("综合行政执法", "Urban management and law enforcement"),
    "agriculture_rural": ("农业农村", "Agriculture and rural affairs"),
    "transport": ("交通运输", "Transport"),
    "water_resources": ("水利", "Water resources"),
    "civil_affairs": ("民政", "Civil affairs"),
    "health": ("卫生健康", "Health"),
}

# City-level departments: (code suffix, kind, name_zh, name_en).
CITY_DEPARTMENTS = [
    ("MSB", "market_supervision", "海宁市市场监督管理局", "Haining Market Supervision Bureau"),
    ("PSB", "public_security", "海宁市公安局", "Haining Public Security Bureau"),
    (
        "HCB",
        "housing_construction",
        "海宁市住房和城乡建设局",
        "Haining Housing and Urban-Rural Development Bureau",
    ),
    ("FRB", "fire_rescue", "海宁市消防救援大队", "Haining Fire and Rescue Brigade"),
    (
        "EEB",
        "ecology_environment",
        "嘉兴市生态环境局海宁分局",
        "Jiaxing Ecology and Environment Bureau, Haining Branch",
    ),
    (
        "NRB",
        "natural_resources",
        "海宁市自然资源和规划局",
        "Haining Natural Resources and Planning Bureau",
    ),
    (
        "LEB",
        "urban_management",
        "海宁市综合行政执法局",
        "Haining Comprehensive Administrative Law Enforcement Bureau",
    ),
    (
        "ARB",
        "agriculture_rural",
        "海宁市农业农村局",
        "Haining Agriculture and Rural Affairs Bureau",
    ),
    ("TB", "transport", "海宁市交通运输局", "Haining Transport Bureau"),
    ("WRB", "water_resources", "海宁市水利局", "Haining Water Resources Bureau"),
    ("CAB", "civil_affairs", "海宁市民政局", "Haining Civil Affairs Bureau"),
    ("HB", "health", "海宁市卫生健康局", "Haining Health Commission"),
]

# The X departments each kind of town team works with (city codes; "MSO" is the town's own
# market supervision office).
TEAM_DEPARTMENTS = {
    Team.Kind.COMPREHENSIVE: ["MSO", "HCB", "NRB", "EEB", "LEB"],
    Team.Kind.PROFESSIONAL: ["MSB", "PSB", "FRB", "TB"],
}

# Towns / streets west to east, each with four villages / communities (NW, NE, SW, SE).
TOWNS = [
    {
        "code": "XC",
        "name_zh": "许村镇",
        "name_en": "Xucun Town",
        "villages": [
            ("许村村", "Xucun Village"),
            ("荡湾村", "Dangwan Village"),
            ("永福村", "Yongfu Village"),
            ("李家村", "Lijia Village"),
        ],
    },
    {
        "code": "CA",
        "name_zh": "长安镇",
        "name_en": "Changan Town",
        "villages": [
            ("修川社区", "Xiuchuan Community"),
            ("天仙河社区", "Tianxianhe Community"),
            ("兴福村", "Xingfu Village"),
            ("高田村", "Gaotian Village"),
        ],
    },
    {
        "code": "HZ",
        "name_zh": "海洲街道",
        "name_en": "Haizhou Street",
        "villages": [
            ("海昌社区", "Haichang Community"),
            ("文苑社区", "Wenyuan Community"),
            ("梅园社区", "Meiyuan Community"),
            ("狮岭社区", "Shiling Community"),
        ],
    },
    {
        "code": "XS",
        "name_zh": "硖石街道",
        "name_en": "Xiashi Street",
        "villages": [
            ("西山社区", "Xishan Community"),
            ("东山社区", "Dongshan Community"),
            ("南关厢社区", "Nanguanxiang Community"),
            ("紫微社区", "Ziwei Community"),
        ],
    },
]
GRIDS_PER_VILLAGE = 3

# Geometry in integer micro-degrees, so that neighbours share exactly the same edges.
MICRO = 1_000_000
ORIGIN_LNG = 120_620_000  # west edge of the westernmost town
ORIGIN_LAT = 30_495_000  # south edge of every town
TOWN_SIZE = 30_000  # 0.03 degrees: about 2.9 km east-west, 3.3 km north-south

# The demo users printed by the command: (role, username, first_name, last_name, place).
# Place is a region code, a grid code, a team code or a department code, by role.
MAIN_USERS = [
    (Role.GRID_WORKER, "grid1", "晓燕", "陈", "HN-XS-01-01"),
    (Role.GRID_WORKER, "grid2", "国强", "沈", "HN-XS-02-01"),
    (Role.VILLAGE_OFFICER, "village1", "建华", "朱", "HN-XS-01"),
    (Role.TEAM_CAPTAIN, "captain1", "志刚", "王", "HN-XS-CLE"),
    (Role.TEAM_CAPTAIN, "captain2", "海峰", "徐", "HN-HZ-CLE"),
    (Role.TEAM_MEMBER, "member1", "俊杰", "李", "HN-XS-CLE"),
    (Role.DEPARTMENT_LIAISON, "liaison1", "丽萍", "张", "HN-MSB"),
    (Role.TOWN_COMMITTEE, "town1", "卫东", "周", "HN-XS"),
    (Role.CITY_COMMITTEE, "city1", "文涛", "钱", "HN"),
    (Role.SUPERVISOR, "supervisor1", "慧敏", "顾", "HN"),
    (Role.ADMIN, "admin", "明", "陆", "HN"),
    (Role.AUDITOR, "auditor1", "秀英", "吴", "HN"),
]

# Names for the other demo users, picked deterministically by a running number.
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭沈钱顾陆"
GIVEN_NAMES = [
    "建国",
    "丽华",
    "伟",
    "芳",
    "敏",
    "静",
    "强",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "志明",
]


@dataclass
class DemoCity:
    """What the builder made: the city and the logins to print."""

    city: Region
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role, username, pw)
    # The privileged demo users given the demo's authenticator key and recovery codes.
    second_factor_users: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _polygon(west: int, south: int, east: int, north: int) -> dict:
    """A closed, counter-clockwise GeoJSON rectangle from micro-degree edges."""
    w, s, e, n = (v / MICRO for v in (west, south, east, north))
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _layout() -> dict[str, tuple[int, int, int, int]]:
    """(west, south, east, north) in micro-degrees of every demo town, village and grid code.

    Towns sit side by side; each town is split 2 x 2 into its villages and each village into
    vertical strips, its grids, so every level tiles the one above exactly.
    """
    boxes: dict[str, tuple[int, int, int, int]] = {}
    half = TOWN_SIZE // 2
    strip = half // GRIDS_PER_VILLAGE
    for t, town in enumerate(TOWNS):
        town_code = f"{CITY['code']}-{town['code']}"
        west, south = ORIGIN_LNG + t * TOWN_SIZE, ORIGIN_LAT
        boxes[town_code] = (west, south, west + TOWN_SIZE, south + TOWN_SIZE)
        for v in range(len(town["villages"])):
            village_code = f"{town_code}-{v + 1:02d}"
            v_west = west + (v % 2) * half
            v_south = south + (1 - v // 2) * half  # 01 and 02 in the north row
            v_east = v_west + half
            boxes[village_code] = (v_west, v_south, v_east, v_south + half)
            for g in range(GRIDS_PER_VILLAGE):
                g_west = v_west + g * strip
                g_east = v_east if g == GRIDS_PER_VILLAGE - 1 else g_west + strip
                boxes[f"{village_code}-{g + 1:02d}"] = (g_west, v_south, g_east, v_south + half)
    return boxes


def region_outline(region: Region) -> dict:
    """The GeoJSON rectangle of a demo town or village (regions themselves store no shape)."""
    return _polygon(*_layout()[region.code])


def village_outline(village: Region) -> dict:
    """The rectangle that the grids of a demo village tile exactly."""
    return region_outline(village)


def upsert(model: type[models.Model], *, lookup: dict[str, Any], values: dict[str, Any]) -> Any:
    """Create the row, or update only the fields that differ: a rerun writes nothing."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        if isinstance(obj, Grid):
            obj.refresh_bbox()
        obj.full_clean()
        obj.save()
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        if isinstance(obj, Grid):
            obj.refresh_bbox()
            changed += ["min_lat", "max_lat", "min_lng", "max_lng"]
        obj.full_clean()
        obj.save(update_fields=changed)
    return obj


class _Run:
    """State of one build: the demo password, generated names and what was touched.

    One hash serves every user created in a run (and each stored hash is checked once), so
    seeding a hundred demo users does not cost a hundred slow key derivations.
    """

    def __init__(self, password: str) -> None:
        self.password = password
        self._hash = ""
        self._checked: dict[str, bool] = {}
        self._names = 0
        self.user_ids: set[int] = set()
        self.membership_ids: set[int] = set()

    def password_hash(self) -> str:
        if not self._hash:
            self._hash = make_password(self.password)
        return self._hash

    def password_matches(self, encoded: str) -> bool:
        if encoded not in self._checked:
            self._checked[encoded] = bool(encoded) and check_password(self.password, encoded)
        return self._checked[encoded]

    def next_name(self) -> tuple[str, str]:
        """(first_name, last_name), deterministic by a running number."""
        self._names += 1
        surname = SURNAMES[self._names % len(SURNAMES)]
        given = GIVEN_NAMES[(self._names * 7) % len(GIVEN_NAMES)]
        return given, surname


def _user(
    *, run: _Run, username: str, first_name: str, last_name: str, superuser: bool = False
) -> User:
    """Create or update a demo user; the password is set only when it does not match."""
    values = {
        "first_name": first_name,
        "last_name": last_name,
        "is_active": True,
        "is_staff": superuser,
        "is_superuser": superuser,
    }
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, password=run.password_hash(), **values)
        user.full_clean()
        user.save()
    else:
        changed = [name for name, value in values.items() if getattr(user, name) != value]
        if not run.password_matches(user.password):
            user.password = run.password_hash()
            changed.append("password")
        if changed:
            for name in changed:
                if name != "password":
                    setattr(user, name, values[name])
            user.full_clean()
            user.save(update_fields=changed)
    run.user_ids.add(user.pk)
    return user


def _membership(
    *, run: _Run, user: User, role: str, place: models.Model, force: str = ""
) -> Membership:
    field_name = {Region: "region", Grid: "grid", Team: "team", Department: "department"}[
        type(place)
    ]
    membership = upsert(
        Membership,
        lookup={"user": user, "role": role, field_name: place},
        values={"force": force},
    )
    run.membership_ids.add(membership.pk)
    return membership


def _department_kind(code: str) -> DepartmentKind:
    name_zh, name_en = DEPARTMENT_KINDS[code]
    kind, _ = DepartmentKind.objects.get_or_create(
        code=code, defaults={"name_zh": name_zh, "name_en": name_en}
    )
    return kind


def _build_geography(*, city: Region) -> tuple[dict[str, Region], dict[str, Grid]]:
    layout = _layout()
    regions: dict[str, Region] = {city.code: city}
    grids: dict[str, Grid] = {}
    for town_data in TOWNS:
        town = upsert(
            Region,
            lookup={"code": f"{city.code}-{town_data['code']}"},
            values={
                "level": Region.Level.TOWN,
                "parent": city,
                "name_zh": town_data["name_zh"],
                "name_en": town_data["name_en"],
            },
        )
        regions[town.code] = town
        for v, (v_zh, v_en) in enumerate(town_data["villages"]):
            village = upsert(
                Region,
                lookup={"code": f"{town.code}-{v + 1:02d}"},
                values={
                    "level": Region.Level.VILLAGE,
                    "parent": town,
                    "name_zh": v_zh,
                    "name_en": v_en,
                },
            )
            regions[village.code] = village
            for g in range(GRIDS_PER_VILLAGE):
                code = f"{village.code}-{g + 1:02d}"
                grids[code] = upsert(
                    Grid,
                    lookup={"code": code},
                    values={
                        "village": village,
                        "name_zh": f"{v_zh}第{g + 1}网格",
                        "name_en": f"{v_en} Grid {g + 1}",
                        "polygon": _polygon(*layout[code]),
                    },
                )
    return regions, grids


def _build_departments(*, city: Region, towns: list[Region]) -> dict[str, Department]:
    departments: dict[str, Department] = {}
    for suffix, kind_code, name_zh, name_en in CITY_DEPARTMENTS:
        code = f"{city.code}-{suffix}"
        departments[code] = upsert(
            Department,
            lookup={"code": code},
            values={
                "kind": _department_kind(kind_code),
                "region": city,
                "name_zh": name_zh,
                "name_en": name_en,
            },
        )
    for town in towns:
        code = f"{town.code}-MSO"
        departments[code] = upsert(
            Department,
            lookup={"code": code},
            values={
                "kind": _department_kind("market_supervision"),
                "region": town,
                "name_zh": f"海宁市市场监督管理局{town.name_zh[:2]}市场监管所",
                "name_en": f"Haining Market Supervision Office, {town.name_en}",
            },
        )
    return departments


def _build_teams(*, towns: list[Region], departments: dict[str, Department]) -> dict[str, Team]:
    teams: dict[str, Team] = {}
    names = {
        Team.Kind.COMPREHENSIVE: ("CLE", "综合行政执法中队", "Comprehensive Law Enforcement Squad"),
        Team.Kind.PROFESSIONAL: ("PRO", "专业执法中队", "Professional Law Enforcement Squad"),
    }
    for town in towns:
        for kind, (suffix, name_zh, name_en) in names.items():
            team = upsert(
                Team,
                lookup={"code": f"{town.code}-{suffix}"},
                values={
                    "region": town,
                    "kind": kind,
                    "name_zh": f"{town.name_zh}{name_zh}",
                    "name_en": f"{town.name_en} {name_en}",
                },
            )
            wanted = [
                departments[f"{town.code}-{d}" if d == "MSO" else f"HN-{d}"]
                for d in TEAM_DEPARTMENTS[kind]
            ]
            team.departments.add(*wanted)  # add, not set: keeps departments an admin linked
            teams[team.code] = team
    return teams


def _build_people(
    *,
    run: _Run,
    regions: dict[str, Region],
    grids: dict[str, Grid],
    teams: dict[str, Team],
    departments: dict[str, Department],
) -> list[tuple[str, str, str]]:
    """The main demo users first, then one person for every other place that needs one."""
    places: dict[str, models.Model] = {**regions, **grids, **teams, **departments}
    taken: set[tuple[str, str]] = set()  # (role, place code) held by a main demo user
    logins = []
    for role, username, first_name, last_name, place_code in MAIN_USERS:
        user = _user(
            run=run,
            username=username,
            first_name=first_name,
            last_name=last_name,
            superuser=role == Role.ADMIN,
        )
        force = Membership.Force.LAW_ENFORCEMENT if place_code in teams else ""
        _membership(run=run, user=user, role=role, place=places[place_code], force=force)
        taken.add((role, place_code))
        logins.append((str(Role(role).label), username, run.password))

    def person(
        *, username: str, role: str, place_code: str, force: str = "", only: bool = True
    ) -> None:
        """A generated user; `only` means one holder per place, so a main user there wins."""
        if only and (role, place_code) in taken:
            return
        first_name, last_name = run.next_name()
        user = _user(run=run, username=username, first_name=first_name, last_name=last_name)
        _membership(run=run, user=user, role=role, place=places[place_code], force=force)

    for code in grids:
        person(username=f"grid-{code.lower()}", role=Role.GRID_WORKER, place_code=code)
    for code, region in regions.items():
        if region.level == Region.Level.VILLAGE:
            person(username=f"village-{code.lower()}", role=Role.VILLAGE_OFFICER, place_code=code)
        elif region.level == Region.Level.TOWN:
            person(username=f"town-{code.lower()}", role=Role.TOWN_COMMITTEE, place_code=code)
    for code in departments:
        person(username=f"liaison-{code.lower()}", role=Role.DEPARTMENT_LIAISON, place_code=code)

    grid_workers = {
        m.grid.code: m.user
        for m in Membership.objects.filter(
            role=Role.GRID_WORKER, grid__in=grids.values(), pk__in=run.membership_ids
        ).select_related("grid", "user")
    }
    officer = Membership.Force.LAW_ENFORCEMENT
    for code, team in teams.items():
        slug = code.lower()
        # "1+1+X": the law enforcement team, the grid team and the X forces.
        person(username=f"captain-{slug}", role=Role.TEAM_CAPTAIN, place_code=code, force=officer)
        # member1 stands in for the first officer of the Xiashi team.
        person(username=f"officer-{slug}-1", role=Role.TEAM_MEMBER, place_code=code, force=officer)
        person(
            username=f"officer-{slug}-2",
            role=Role.TEAM_MEMBER,
            place_code=code,
            force=officer,
            only=False,
        )
        person(
            username=f"deptforce-{slug}",
            role=Role.TEAM_MEMBER,
            place_code=code,
            force=Membership.Force.DEPARTMENT,
            only=False,
        )
        if team.kind != Team.Kind.COMPREHENSIVE:
            continue
        # The grid team: the worker of each village's last grid joins the town's team.
        for grid_code, grid in grids.items():
            if grid.village.parent_id == team.region_id and grid_code.endswith(
                f"-{GRIDS_PER_VILLAGE:02d}"
            ):
                _membership(
                    run=run,
                    user=grid_workers[grid_code],
                    role=Role.TEAM_MEMBER,
                    place=team,
                    force=Membership.Force.GRID,
                )
        person(
            username=f"lawyer-{slug}",
            role=Role.TEAM_MEMBER,
            place_code=code,
            force=Membership.Force.LAWYER,
            only=False,
        )
        for n in (1, 2):
            person(
                username=f"volunteer-{slug}-{n}",
                role=Role.TEAM_MEMBER,
                place_code=code,
                force=Membership.Force.VOLUNTEER,
                only=False,
            )
    return logins


@transaction.atomic
def build_demo_organisation(*, password: str = DEMO_PASSWORD) -> DemoCity:
    """Create or bring up to date the demo city, its organisation and one user per role."""
    run = _Run(password)
    city = upsert(
        Region,
        lookup={"code": CITY["code"]},
        values={
            "level": Region.Level.CITY,
            "parent": None,
            "name_zh": CITY["name_zh"],
            "name_en": CITY["name_en"],
        },
    )
    regions, grids = _build_geography(city=city)
    towns = [r for r in regions.values() if r.level == Region.Level.TOWN]
    departments = _build_departments(city=city, towns=towns)
    teams = _build_teams(towns=towns, departments=departments)
    logins = _build_people(
        run=run, regions=regions, grids=grids, teams=teams, departments=departments
    )
    counts = {
        "towns": len(towns),
        "villages": sum(r.level == Region.Level.VILLAGE for r in regions.values()),
        "grids": len(grids),
        "departments": len(departments),
        "teams": len(teams),
        "users": len(run.user_ids),
        "memberships": len(run.membership_ids),
    }
    usernames = [row[1] for row in MAIN_USERS]
    main_users = sorted(
        User.objects.filter(username__in=usernames), key=lambda u: usernames.index(u.username)
    )
    second_factor_users = give_demo_second_factor(users=main_users)
    return DemoCity(
        city=city, logins=logins, counts=counts, second_factor_users=second_factor_users
    )
