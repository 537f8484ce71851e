"""The permission matrix on a deployment of four levels (teams.levels.levels_in_use): the
organisation's city is a county of a prefecture, the other organisation's a county of another
prefecture, and the supervisor sits at the prefecture instead of the county. Every role gets on
every URL, inside and outside its scope, exactly what it gets on three levels: the supervisor
of a prefecture holds its role at each county below it, and at nothing beside."""

import pytest

from cases.access import scope_of
from teams.models import LevelName, Membership, Region, Role
from tests.cases.conftest import org
from tests.security.scenario import build_objects, build_org
from tests.security.test_permission_matrix import mismatches_on

pytestmark = pytest.mark.django_db
__all__ = ["org"]


def _prefecture(code: str) -> Region:
    return Region.objects.create(
        code=code, level=Region.Level.PREFECTURE, name_zh=f"{code}市", name_en=code
    )


def test_every_role_gets_the_same_status_on_four_levels(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    inside = build_objects(org)
    other = build_org(prefix="x", city_code="SZ", lng=121.50)
    outside = build_objects(other, lng=121.50)
    LevelName.objects.create(
        level="prefecture", name_en="prefecture", name_zh="地市", committee=False
    )
    Region.objects.filter(pk=org.city.pk).update(parent=_prefecture("P1"))
    Region.objects.filter(pk=other.city.pk).update(parent=_prefecture("P2"))
    moved = Membership.objects.filter(user=org.supervisor, role=Role.SUPERVISOR).update(
        region=Region.objects.get(code="P1")
    )
    assert moved == 1
    assert scope_of(org.supervisor).regions_of(Role.SUPERVISOR) == {org.city.pk}

    mismatches = mismatches_on(org, inside, outside)
    assert not mismatches, "\n".join(mismatches)
