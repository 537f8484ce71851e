"""Fixtures of the consultation tests: the `org` of the case tests, plus a department that will
be invited and one that will not, each with its liaison, and steps to a case in consultation."""

from dataclasses import dataclass
from datetime import datetime

import pytest

from cases.models import Case
from cases.services import request_consultation
from teams.models import Department, Role, User
from tests.cases.conftest import Org, org
from tests.cases.engine_steps import T0, at, in_progress
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory


@dataclass
class Extra:
    bureau: Department  # a city department that the committee invites
    bureau_liaison: User
    outsider_department: Department  # never invited
    outsider: User


@pytest.fixture
def extra(org) -> Extra:
    bureau = DepartmentFactory(region=org.city)
    outsider_department = DepartmentFactory(region=org.city)
    bureau_liaison = UserFactory(username="bureau")
    MembershipFactory(user=bureau_liaison, role=Role.DEPARTMENT_LIAISON, department=bureau)
    outsider = UserFactory(username="outsider")
    MembershipFactory(user=outsider, role=Role.DEPARTMENT_LIAISON, department=outsider_department)
    return Extra(
        bureau=bureau,
        bureau_liaison=bureau_liaison,
        outsider_department=outsider_department,
        outsider=outsider,
    )


@pytest.fixture
def clock(time_machine, settings, tmp_path):
    """The clock stands still at T0, a Tuesday 09:00 in office hours."""
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)
    return time_machine


def in_consultation(org, **kwargs) -> Case:
    """Whistled, reported in by the team, and sent by its captain to the town committee."""
    case = in_progress(org, **kwargs)
    return request_consultation(user=org.captain, case_id=case.pk, reason="Needs the bureau")


MEETING: datetime = at(2025, 6, 10, 14, 30)  # the afternoon of T0

__all__ = ["MEETING", "T0", "Extra", "Org", "at", "in_consultation", "org"]
