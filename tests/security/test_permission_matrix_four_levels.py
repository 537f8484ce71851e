"""The permission matrix on a deployment of four levels (teams.levels.levels_in_use): the
organisation's city is a county of a prefecture, the other organisation's a county of another
prefecture, and the supervisor sits at the prefecture instead of the county. Every role gets on
every URL, inside and outside its scope, exactly what it gets on three levels: the supervisor
of a prefecture holds its role at each county below it, and at nothing beside."""

from dataclasses import replace

import pytest

from cases.access import scope_of
from teams.models import LevelName, Membership, Region, Role, User
from tests.cases.conftest import org
from tests.security.scenario import ROLES, Objects, build_objects, build_org
from tests.security.test_permission_matrix import mismatches_on

pytestmark = pytest.mark.django_db
__all__ = ["org"]


def _prefecture(code: str) -> Region:
    return Region.objects.create(
        code=code, level=Region.Level.PREFECTURE, name_zh=f"{code}市", name_en=code
    )


def _four_levels(org, settings, tmp_path, *, committee: bool) -> tuple[Objects, Objects]:
    """The objects inside the organisation and outside it (the other organisation), once each
    city is a county of its own prefecture; the prefecture's committee on the chain or not."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    inside = build_objects(org)
    other = build_org(prefix="x", city_code="SZ", lng=121.50)
    outside = build_objects(other, lng=121.50)
    LevelName.objects.create(
        level="prefecture", name_en="prefecture", name_zh="地市", committee=committee
    )
    Region.objects.filter(pk=org.city.pk).update(parent=_prefecture("P1"))
    Region.objects.filter(pk=other.city.pk).update(parent=_prefecture("P2"))
    return inside, outside


def test_every_role_gets_the_same_status_on_four_levels(org, settings, tmp_path):
    inside, outside = _four_levels(org, settings, tmp_path, committee=False)
    moved = Membership.objects.filter(user=org.supervisor, role=Role.SUPERVISOR).update(
        region=Region.objects.get(code="P1")
    )
    assert moved == 1
    assert scope_of(org.supervisor).regions_of(Role.SUPERVISOR) == {org.city.pk}

    mismatches = mismatches_on(org, inside, outside)
    assert not mismatches, "\n".join(mismatches)


def test_the_prefecture_committee_gets_what_the_county_committee_gets(org, settings, tmp_path):
    """With its committee on the escalation chain, a member of the prefecture's committee asks
    every URL in the county committee's place: it holds its role at each county below the
    prefecture, so it gets what the county's committee gets, inside and outside, but for the
    transfer."""
    inside, outside = _four_levels(org, settings, tmp_path, committee=True)
    prefect = User.objects.create_user(username="prefect", password="x")
    Membership.objects.create(
        user=prefect, role=Role.PREFECTURE_COMMITTEE, region=Region.objects.get(code="P1")
    )
    assert scope_of(prefect).regions_of(Role.PREFECTURE_COMMITTEE) == {org.city.pk}

    # Only the county committee's column is asked (the other roles are the matrix's above).
    column = ROLES.index("city_committee")
    mismatches = mismatches_on(
        replace(org, city_committee=prefect),
        inside,
        outside,
        roles=("city_committee",),
        row_of=lambda row: row.split()[column],
    )
    # But one: moving a case filed in the wrong village stays the county's (a transfer never
    # leaves its county, whose number the case keeps: cases.workflow.guards.transferrer).
    assert mismatches == ["api:case-transfer: expected ['200', '404'], got ['403', '404']"]
