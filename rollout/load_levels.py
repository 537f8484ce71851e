"""Level names: what the deployment calls each of its tiers, in English and Chinese (teams.levels;
docs/architecture.md, "Levels"). One row per tier: level (the tier's fixed value, prefecture,
city, town or village), name_en, plural_en (optional: name_en + "s" when empty), name_zh, and
the optional whistles_here (where whistles are blown: the middle or the bottom tier, at most
one), committee (false only for the top tier and the one above it: its committee is not on the
escalation chain) and
in_use (false only for the top tier, in a deployment of two levels: its root is then the whole
area, with no committee, which is then false unless the row says otherwise). The prefecture's
row (a tier above the city, for a deployment of four levels) is in use when it is given, and its
committee is on the chain, above the top level's, only when the row says committee = true (false
unless given); without the row there is no such tier. A committee leaves the chain only once no
open case is handled at its level. Keyed by the tier;
imported first, so that the messages of the other kinds already say them. A tier without a row
keeps its default name (city, town, village); a row is never deleted."""

from django.utils.translation import gettext as _

from rollout.common import Plan, Problems, Progress, differs, finish, first_lines, tier_values
from rollout.files import Column, Table
from rollout.levels import leaving_chain_problem
from rollout.report import ImportReport
from teams.levels import (
    CITY,
    ONE_WHISTLE_LEVEL,
    PREFECTURE,
    PREFECTURE_ABOVE_A_GAP,
    TIERS,
    flag_problems,
    leaves_a_gap,
    shape,
)
from teams.models import (
    PREFECTURE_OVER_TWO,
    LevelName,
    prefecture_change_problem,
    staff_left,
    top_committee_staff,
)

COLUMNS = [
    Column("level", "层级", required=True),
    Column("name_en", "英文名称", required=True),
    Column("plural_en", "英文复数"),
    Column("name_zh", "中文名称", required=True),
    Column("whistles_here", "在此吹哨"),
    Column("committee", "设委员会"),
    Column("in_use", "启用"),
]
FIELDS = ["name_en", "plural_en", "name_zh"]
EXAMPLE = ["town", "street", "streets", "街道", "false", "true", "true"]
MAX_LENGTH = {name: LevelName._meta.get_field(name).max_length for name in FIELDS}


def dump() -> list[list[str]]:
    rows = {row.level: row for row in LevelName.objects.all()}
    return [
        [
            level,
            rows[level].name_en,
            rows[level].plural_en,
            rows[level].name_zh,
            "true" if rows[level].whistles_here else "false",
            "true" if rows[level].committee else "false",
            "true" if rows[level].in_use else "false",
        ]
        for level in TIERS
        if level in rows
    ]


def _tier(row_value: str) -> str:
    return row_value.strip().lower()


def load(*, source: Table, report: ImportReport, progress: Progress) -> None:
    problems = Problems(source)
    existing = {row.level: row for row in LevelName.objects.all()}
    first_lines(source, problems, lambda row: _tier(row.values["level"]), "level")
    plan = Plan()
    writes: dict[str, dict[str, str | bool]] = {}
    whistling: list = []
    final: dict = {}  # the top's and the prefecture's rows, for the checks across rows
    committees: dict = {}  # and whether each leaves its committee on the chain
    for row in source.rows:
        level = _tier(problems.text(row, "level", max_length=10, required=True))
        if level and level not in TIERS:
            problems.add(
                row,
                "level",
                _(
                    "Unknown tier %(value)s; choose among %(tiers)s (the level above the top, "
                    "the top, middle and bottom level, whatever the deployment calls them)."
                )
                % {"value": row.values["level"].strip(), "tiers": tier_values()},
            )
            level = ""
        values = {
            name: problems.text(
                row, name, max_length=MAX_LENGTH[name], required=name != "plural_en"
            )
            for name in FIELDS
        }
        in_use = problems.boolean(row, "in_use", default=True)
        flags = {
            "whistles_here": problems.boolean(row, "whistles_here", default=False),
            "committee": problems.boolean(row, "committee", default=in_use and level != PREFECTURE),
            "in_use": in_use,
        }
        if level:
            for column, message in flag_problems(level=level, **flags).items():
                problems.add(row, column, str(message))
            if not in_use and (staff := top_committee_staff()):
                problems.add(row, "in_use", staff_left(staff))
            problem = leaving_chain_problem(
                level=level, committee=flags["committee"], in_use=in_use
            )
            if problem:
                problems.add(row, "in_use" if not in_use else "committee", problem)
        if level in (CITY, PREFECTURE):
            final[level] = (row, in_use)
            committees[level] = (row, flags["committee"] and in_use)
        if flags["whistles_here"]:
            whistling.append(row)
        if len(whistling) == 2:
            problems.add(row, "whistles_here", str(ONE_WHISTLE_LEVEL))
        values.update(flags)
        if problems.errors or not level:
            continue
        current = existing.get(level)
        if current is None:
            plan.created.append(level)
        elif differs(current, values):
            plan.changed.append(level)
        else:
            plan.unchanged.append(level)
            continue
        writes[level] = values

    _check_four_levels(problems, final)
    _check_chain(problems, committees)

    def write() -> None:
        # One row per tier; saved one by one (three at most), so the kept copies of the names
        # (core.reference) are dropped by the save signal.
        # The tier that no longer whistles first: one whistling tier at a time (a constraint).
        whistles = [level for level, values in writes.items() if values["whistles_here"]]
        if whistles:
            for row in LevelName.objects.filter(whistles_here=True).exclude(level__in=whistles):
                row.whistles_here = False
                row.save(update_fields=["whistles_here"])
        for level, values in writes.items():
            LevelName.objects.update_or_create(level=level, defaults=values)

    finish(report=report, errors=problems.errors, plan=plan, write=write, progress=progress)


def _check_chain(problems: Problems, committees: dict) -> None:
    """The prefecture's committee sits on the chain only above the top level's: the chain has
    no gap (teams.levels.on_chain)."""
    if leaves_a_gap({level: on for level, (_row, on) in committees.items()}):
        # On the row that made the gap: the prefecture's if the file names it, else the top's.
        row = committees[PREFECTURE if PREFECTURE in committees else CITY][0]
        problems.add(row, "committee", str(PREFECTURE_ABOVE_A_GAP))


def _check_four_levels(problems: Problems, final: dict) -> None:
    """The tier above the top goes with the top level in use, and out of use only once its
    regions are gone (teams.models.prefecture_change_problem, for the rows as the file leaves
    them)."""
    current = shape()
    top_in_use = final[CITY][1] if CITY in final else current.top_in_use
    if PREFECTURE in final:
        row, in_use = final[PREFECTURE]
        changing = in_use != current.prefecture_in_use
        problem = prefecture_change_problem(in_use=in_use, top_in_use=top_in_use)
        if problem and (in_use or changing):
            problems.add(row, "in_use", problem)
    elif current.prefecture_in_use and CITY in final and not top_in_use:
        problems.add(final[CITY][0], "in_use", str(PREFECTURE_OVER_TWO))
