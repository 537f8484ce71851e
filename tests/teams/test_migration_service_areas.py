"""The service-area migration keeps today's teams working: a team of a town, written before
the migration, comes out with that town as its home region and no areas, and is still
dispatched in its town."""

import pytest

from tests.migrating import latest_of, migrate_to

BEFORE = [("teams", "0008_push_subscriptions"), ("checklists", "0006_reply_templates")]
AFTER = [("teams", "0009_team_service_areas"), ("checklists", "0007_team_speciality")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_town_team_keeps_its_town_as_home_region():
    old = migrate_to(BEFORE)
    try:
        Region = old.get_model("teams", "Region")
        Team = old.get_model("teams", "Team")
        city = Region.objects.create(code="MIG", level="city", name_zh="市", name_en="City")
        town = Region.objects.create(
            code="MIG-T", level="town", parent=city, name_zh="镇", name_en="Town"
        )
        Team.objects.create(
            code="MIG-T-CLE", town=town, kind="comprehensive", name_zh="队", name_en="Team"
        )
    finally:
        new = migrate_to(AFTER)
    team = new.get_model("teams", "Team").objects.get(code="MIG-T-CLE")
    assert team.region_id == town.pk
    assert team.parent_id is None
    assert not team.areas.exists()
    migrate_to(latest_of())  # today's schema, for the models below and the tests after this one

    from teams.models import Region as CurrentRegion
    from teams.models import Team as CurrentTeam
    from teams.service_areas import served_places, teams_serving

    village = CurrentRegion.objects.create(
        code="MIG-T-V", level="village", parent_id=town.pk, name_zh="村", name_en="Village"
    )
    current = CurrentTeam.objects.get(pk=team.pk)
    assert current.serves(village) and not current.serves(CurrentRegion.objects.get(pk=city.pk))
    assert served_places(team_ids=[team.pk]).towns == frozenset({town.pk})
    assert list(teams_serving(towns=[town.pk]).values_list("code", flat=True)) == ["MIG-T-CLE"]
