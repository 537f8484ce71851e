"""Law enforcement units: code, names, home region (a town, or a city / district), kind, the
parent team of a brigade, and ";"-separated lists: service area (towns or cities), speciality
(aspect and item codes of the checklist) and the X-force departments."""

from collections import defaultdict

from django.db import models
from django.utils.translation import gettext as _

from checklists.models import Aspect, Item
from core import reference
from rollout.common import Plan, Problems, Progress, finish, first_lines
from rollout.files import Column, Row, Table
from rollout.report import ImportReport
from teams.levels import level_words
from teams.models import Department, Region, Team

COLUMNS = [
    Column("code", "编码", required=True),
    Column("name_zh", "中文名称", required=True),
    Column("name_en", "英文名称"),
    Column("region", "所属区域", required=True),
    Column("kind", "队伍类型", required=True),
    Column("parent", "上级队伍"),
    Column("areas", "服务区域"),
    Column("aspects", "专业方面"),
    Column("items", "专业事项"),
    Column("departments", "协同部门"),
]
FIELDS = ["name_zh", "name_en", "region_id", "kind", "parent_id"]
EXAMPLE = [
    "TEAM-01",
    "一号镇综合执法队",
    "Town 1 Law Enforcement Team",
    "T01",
    "comprehensive",
    "",
    "T01",
    "",
    "",
    "D-SCJG",
]


class Relation:
    """One many-to-many list of a team, through its table: team_id and `other` (the column)."""

    def __init__(self, column: str, through: type[models.Model], other: str, model) -> None:
        self.column = column
        self.through = through
        self.other = other
        self.model = model

    def current(self) -> dict[int, dict[int, int]]:
        """team id -> {other id: through row id}."""
        found: dict[int, dict[int, int]] = defaultdict(dict)
        for pk, team, other in self.through.objects.values_list("pk", "team_id", self.other):
            found[team][other] = pk
        return found


def relations() -> list[Relation]:
    return [
        Relation("areas", Team.areas.through, "region_id", Region),
        Relation("aspects", Aspect.teams.through, "aspect_id", Aspect),
        Relation("items", Item.teams.through, "item_id", Item),
        Relation("departments", Team.departments.through, "department_id", Department),
    ]


def dump() -> list[list[str]]:
    teams = list(
        Team.objects.order_by("code").values_list(
            "pk", "code", "name_zh", "name_en", "region__code", "kind", "parent__code"
        )
    )
    lists = []
    for relation in relations():
        codes = dict(relation.model.objects.values_list("pk", "code"))
        lists.append(
            {team: sorted(codes[o] for o in others) for team, others in relation.current().items()}
        )
    return [
        [
            code,
            zh,
            en,
            region,
            kind,
            parent or "",
            *(";".join(found.get(pk, [])) for found in lists),
        ]
        for pk, code, zh, en, region, kind, parent in teams
    ]


def _codes(problems: Problems, row: Row, column: str, known: dict[str, int], what: str) -> set[int]:
    ids = set()
    for code in problems.codes(row, column):
        if code in known:
            ids.add(known[code])
        else:
            problems.add(
                row, column, _("No %(what)s with code %(code)s.") % {"what": what, "code": code}
            )
    return ids


def _loops(source: Table, problems: Problems, parents: dict[str, str]) -> None:
    """A parent chain that comes back to the team (file parents override the database's)."""
    for row in source.rows:
        code = row.values["code"]
        if parents.get(code) == code:
            continue  # refused already: its own parent
        seen = {code}
        node = parents.get(code)
        while node:
            if node in seen:
                problems.add(row, "parent", _("The parent teams would form a loop."))
                break
            seen.add(node)
            node = parents.get(node)


def load(*, source: Table, report: ImportReport, progress: Progress) -> None:
    problems = Problems(source)
    first_lines(source, problems, lambda row: row.values["code"], "code")
    regions = {
        code: (pk, level) for code, pk, level in Region.objects.values_list("code", "pk", "level")
    }
    upper = {code: pk for code, (pk, level) in regions.items() if level != Region.Level.VILLAGE}
    existing = {t.code: t for t in Team.objects.all()}
    team_codes = {t.pk: t.code for t in existing.values()}
    parents = {t.code: team_codes.get(t.parent_id, "") for t in existing.values()}
    in_file = {row.values["code"] for row in source.rows}
    rels = relations()
    known = {r.column: dict(r.model.objects.values_list("code", "pk")) for r in rels}
    known["areas"] = upper
    what = {
        "areas": _("%(town)s or %(city)s") % level_words(),
        "aspects": _("aspect"),
        "items": _("item"),
        "departments": _("department"),
    }
    current_lists = {r.column: r.current() for r in rels}
    plan = Plan()
    rows: list[tuple[str, dict, str, dict[str, set[int]]]] = []
    for row in source.rows:
        code = problems.text(row, "code", max_length=32, required=True)
        values = {
            "name_zh": problems.text(row, "name_zh", max_length=200, required=True),
            "name_en": problems.text(row, "name_en", max_length=200),
            "kind": problems.choice(row, "kind", Team.Kind),
        }
        region = problems.text(row, "region", max_length=32, required=True)
        if region and region not in regions:
            problems.add(row, "region", _("No region with code %(code)s.") % {"code": region})
        elif region and region not in upper:
            problems.add(
                row, "region", _("A team belongs to a %(city)s or a %(town)s.") % level_words()
            )
        else:
            values["region_id"] = upper.get(region)
        if "parent" not in source.headers:
            parent = parents.get(code, "")  # left as it is
        else:
            parent = problems.text(row, "parent", max_length=32)
        if parent == code and code:
            problems.add(row, "parent", _("A team cannot be its own parent."))
        elif parent and parent not in in_file and parent not in existing:
            problems.add(row, "parent", _("No team with code %(code)s.") % {"code": parent})
        parents[code] = parent
        # A list the file leaves out is left as it is.
        lists = {
            r.column: _codes(problems, row, r.column, known[r.column], what[r.column])
            for r in rels
            if r.column in source.headers
        }
        rows.append((code, values, parent, lists))
    _loops(source, problems, parents)
    if problems.errors:
        finish(
            report=report, errors=problems.errors, plan=plan, write=lambda: None, progress=progress
        )
        return
    new: list[Team] = []
    updates: list[Team] = []
    for code, values, parent, lists in rows:
        current = existing.get(code)
        if current is None:
            new.append(Team(code=code, **values))
            plan.created.append(code)
            continue
        same = (
            all(getattr(current, name) == value for name, value in values.items())
            and team_codes.get(current.parent_id, "") == parent
            and all(set(current_lists[c].get(current.pk, {})) == ids for c, ids in lists.items())
        )
        if same:
            plan.unchanged.append(code)
        else:
            for name, value in values.items():
                setattr(current, name, value)
            updates.append(current)
            plan.changed.append(code)

    def write() -> None:
        Team.objects.bulk_create(new, batch_size=500)
        teams = {t.code: t for t in [*existing.values(), *new]}
        # Parents once every team has its id: a brigade may come before its new district team.
        for code, _values, parent, _lists in rows:
            teams[code].parent_id = teams[parent].pk if parent else None
        Team.objects.bulk_update([*new, *updates], FIELDS, batch_size=500)
        for relation in rels:
            if relation.column not in source.headers:
                continue
            held = current_lists[relation.column]
            gone: list[int] = []
            added = []
            for code, _values, _parent, lists in rows:
                team = teams[code]
                now = held.get(team.pk, {})
                wanted = lists[relation.column]
                gone += [pk for other, pk in now.items() if other not in wanted]
                added += [
                    relation.through(team_id=team.pk, **{relation.other: other})
                    for other in sorted(wanted - set(now))
                ]
            if gone or added:
                reference.changed()  # the areas are read into every user's kept scope
            if gone:
                relation.through.objects.filter(pk__in=gone).delete()
            relation.through.objects.bulk_create(added, batch_size=500)

    finish(report=report, errors=problems.errors, plan=plan, write=write, progress=progress)
