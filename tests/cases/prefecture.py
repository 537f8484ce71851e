"""A deployment of four levels for the page tests of the prefecture's committee: the `org`'s
city becomes a county of a prefecture whose committee sits on the escalation chain (or not),
with one member; a second prefecture, without cities, has a member of its own. Steps drive a
case town -> city -> prefecture through the real services."""

from dataclasses import dataclass

from cases.models import Case
from cases.services import escalate_case, escalate_to_prefecture, request_consultation
from teams.models import LevelName, Region, Role, User
from tests.cases.engine_steps import in_progress
from tests.factories import MembershipFactory, UserFactory


@dataclass
class Prefecture:
    region: Region
    member: User  # of its committee
    other_region: Region  # another prefecture, none of the org's cities below it
    other_member: User  # of the other prefecture's committee


def _prefecture(code: str) -> Region:
    return Region.objects.create(
        code=code, level=Region.Level.PREFECTURE, name_zh=f"{code}地市", name_en=f"{code} pref"
    )


def four_levels(org, *, on_chain: bool = True) -> Prefecture:
    """Four levels: the prefecture's row in use, its committee on the chain when `on_chain`
    (then each prefecture has a committee member)."""
    LevelName.objects.create(
        level="prefecture", name_en="prefecture", name_zh="地市", committee=on_chain, in_use=True
    )
    region, other_region = _prefecture("PF"), _prefecture("PG")
    Region.objects.filter(pk=org.city.pk).update(parent=region)
    org.city.refresh_from_db()
    member, other_member = UserFactory(username="pref"), UserFactory(username="pref2")
    if on_chain:
        MembershipFactory(user=member, role=Role.PREFECTURE_COMMITTEE, region=region)
        MembershipFactory(user=other_member, role=Role.PREFECTURE_COMMITTEE, region=other_region)
    return Prefecture(
        region=region, member=member, other_region=other_region, other_member=other_member
    )


def at_the_town(org, **kwargs) -> Case:
    """In progress, and sent by the team's captain to the town committee."""
    case = in_progress(org, **kwargs)
    return request_consultation(user=org.captain, case_id=case.pk, reason="Needs the committee")


def at_the_city(org, **kwargs) -> Case:
    case = at_the_town(org, **kwargs)
    return escalate_case(user=org.town_committee, case_id=case.pk, reason="Too big for us")


def at_the_prefecture(org, **kwargs) -> Case:
    case = at_the_city(org, **kwargs)
    return escalate_to_prefecture(
        user=org.city_committee, case_id=case.pk, reason="Spans two counties"
    )
