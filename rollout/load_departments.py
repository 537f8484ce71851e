"""Departments: code, names, their kind (a department kind's code) and their city or town."""

from django.utils.translation import gettext as _

from rollout.common import Plan, Problems, Progress, differs, finish, first_lines
from rollout.files import Column, Table
from rollout.report import ImportReport
from teams.levels import level_words
from teams.models import Department, DepartmentKind, Region

COLUMNS = [
    Column("code", "编码", required=True),
    Column("name_zh", "中文名称", required=True),
    Column("name_en", "英文名称"),
    Column("kind", "部门类型", required=True),
    Column("region", "所属区域", required=True),
]
FIELDS = ["name_zh", "name_en", "kind_id", "region_id"]
EXAMPLE = ["D-SCJG", "区市场监督管理局", "District Market Supervision Bureau", "market", "C01"]


def dump() -> list[list[str]]:
    return [
        [d.code, d.name_zh, d.name_en, d.kind.code, d.region.code]
        for d in Department.objects.select_related("kind", "region").order_by("code")
    ]


def load(*, source: Table, report: ImportReport, progress: Progress) -> None:
    problems = Problems(source)
    kinds = dict(DepartmentKind.objects.values_list("code", "pk"))
    regions = {
        code: (pk, level) for code, pk, level in Region.objects.values_list("code", "pk", "level")
    }
    existing = {d.code: d for d in Department.objects.all()}
    first_lines(source, problems, lambda row: row.values["code"], "code")
    plan = Plan()
    new: list[Department] = []
    updates: list[Department] = []
    for row in source.rows:
        code = problems.text(row, "code", max_length=32, required=True)
        values = {
            "name_zh": problems.text(row, "name_zh", max_length=200, required=True),
            "name_en": problems.text(row, "name_en", max_length=200),
        }
        kind = problems.text(row, "kind", max_length=32, required=True)
        if kind and kind not in kinds:
            problems.add(
                row,
                "kind",
                _("No department kind with code %(code)s; the kinds are %(known)s.")
                % {"code": kind, "known": ", ".join(sorted(kinds)) or "-"},
            )
        region = problems.text(row, "region", max_length=32, required=True)
        if region and region not in regions:
            problems.add(row, "region", _("No region with code %(code)s.") % {"code": region})
        elif region and regions[region][1] == Region.Level.VILLAGE:
            problems.add(
                row,
                "region",
                _("A department belongs to a %(city)s or a %(town)s, not a %(village)s.")
                % level_words(),
            )
        if problems.errors or not code:
            continue
        values["kind_id"] = kinds[kind]
        values["region_id"] = regions[region][0]
        current = existing.get(code)
        if current is None:
            new.append(Department(code=code, **values))
            plan.created.append(code)
            continue
        if not differs(current, values):
            plan.unchanged.append(code)
            continue
        for name, value in values.items():
            setattr(current, name, value)
        updates.append(current)
        plan.changed.append(code)

    def write() -> None:
        Department.objects.bulk_create(new, batch_size=500)
        Department.objects.bulk_update(updates, FIELDS, batch_size=500)

    finish(report=report, errors=problems.errors, plan=plan, write=write, progress=progress)
