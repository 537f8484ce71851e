"""The units and departments an item goes to by default are kept in each process with the
reference data (core.reference, cases.selectors.default_handlers): read once for an item and
place, and read again after any edit that could change them is committed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.selectors import default_handlers
from checklists.models import Item
from teams.models import Department, DepartmentKind, Team
from tests.cases.engine_steps import file_case
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def handlers(case) -> tuple[list[str], list[str], int]:
    """The codes of the default teams and departments, and the statements it took."""
    with CaptureQueriesContext(connection) as queries:
        teams, departments = default_handlers(case=case)
    return [t.code for t in teams], [d.code for d in departments], len(queries)


def test_read_once_and_again_after_each_edit_that_could_change_them(org):
    case = file_case(org)
    first = handlers(case)
    assert first[:2] == ([org.team.code], [org.department.code]) and first[2] > 0
    assert handlers(case) == (*first[:2], 0)  # kept: no statement

    # A new branch of the department's kind in the case's town is taken before the city's.
    branch = Department.objects.create(
        code="HN-UM-T",
        kind=org.department.kind,
        region=org.town,
        name_zh="镇执法分局",
        name_en="Town branch",
    )
    assert handlers(case)[:2] == ([org.team.code], [branch.code])

    # A unit of the same kind serving the town.
    second = TeamFactory(region=org.town, kind=Team.Kind.COMPREHENSIVE)
    assert handlers(case)[:2] == (sorted([org.team.code, second.code]), [branch.code])

    # The first unit takes only another item now (its speciality); the second takes any.
    Item.objects.exclude(pk=case.item_id).first().teams.add(org.team)
    assert handlers(case)[:2] == ([second.code], [branch.code])

    # The item no longer goes to a department of that kind.
    case.item.default_department_kinds.remove(DepartmentKind.objects.get(code="urban_management"))
    assert handlers(case)[:2] == ([second.code], [])
    assert handlers(case)[2] == 0


def test_the_copies_are_built_anew_for_each_caller(org):
    case = file_case(org)
    teams, departments = default_handlers(case=case)
    teams[0].code = "changed by a caller"
    departments.clear()
    assert handlers(case)[:2] == ([org.team.code], [org.department.code])
