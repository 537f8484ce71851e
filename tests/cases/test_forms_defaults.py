"""What a form offers before anyone types: the grid worker's only grid is chosen already, and a
postponement is asked in hours or days, never in minutes by default."""

import pytest

from cases.forms_detail import RequestPostponementForm
from cases.forms_filing import WhistleForm
from cases.models import Deadline
from checklists.models import TimeUnit
from teams.models import Role
from tests.cases.engine_steps import in_progress
from tests.factories import GridFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_a_grid_worker_with_one_grid_has_it_chosen(org):
    form = WhistleForm(user=org.grid_worker)
    assert form["grid"].value() == org.grid.pk


def test_a_grid_worker_with_two_grids_chooses_one(org):
    second = GridFactory(village=org.grid.village)
    MembershipFactory(user=org.grid_worker, role=Role.GRID_WORKER, grid=second)
    form = WhistleForm(user=org.grid_worker)
    assert form["grid"].value() is None


def test_the_choice_sent_is_kept_over_the_default(org):
    form = WhistleForm({"grid": ""}, user=org.grid_worker)
    assert form["grid"].value() == ""


def test_a_postponement_is_not_asked_in_minutes_by_default(org):
    case = in_progress(org)
    Deadline.objects.filter(case=case).update(unit=TimeUnit.NATURAL_MINUTES)
    form = RequestPostponementForm(case=case, user=org.captain)
    assert form["unit"].value() == TimeUnit.NATURAL_HOURS


def test_a_postponement_is_asked_in_the_deadlines_own_unit_of_hours_or_days(org):
    case = in_progress(org)
    Deadline.objects.filter(case=case).update(unit=TimeUnit.WORKING_DAYS)
    form = RequestPostponementForm(case=case, user=org.captain)
    assert form["unit"].value() == TimeUnit.WORKING_DAYS
