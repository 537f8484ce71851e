"""The permission matrix on a deployment of two levels (teams.levels.levels_in_use): with the
top tier out of use and its committee's staff gone, every other role gets on every URL, inside
and outside its scope, exactly what it gets on three levels."""

import pytest

from teams.models import LevelName, Membership, Role
from tests.cases.conftest import org
from tests.security.scenario import ROLES, build_objects, build_org
from tests.security.test_permission_matrix import mismatches_on

pytestmark = pytest.mark.django_db
__all__ = ["org"]

GONE = ROLES.index("city_committee")


def _without_the_top_committee(row: str) -> str:
    statuses = row.split()
    return " ".join(statuses[:GONE] + statuses[GONE + 1 :])


def test_every_role_gets_the_same_status_on_two_levels(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    inside = build_objects(org)
    outside = build_objects(build_org(prefix="x", city_code="SZ", lng=121.50), lng=121.50)
    Membership.objects.filter(role=Role.CITY_COMMITTEE).delete()
    LevelName.objects.create(
        level="city", name_en="whole area", name_zh="全辖区", in_use=False, committee=False
    )
    roles = [role for index, role in enumerate(ROLES) if index != GONE]
    mismatches = mismatches_on(org, inside, outside, roles=roles, row_of=_without_the_top_committee)
    assert not mismatches, "\n".join(mismatches)
