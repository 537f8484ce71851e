"""Teams with service areas: which places a unit serves, which items it takes, where its
members are stationed (teams.service_areas, Team.serves / Team.takes, Membership.stationed_in)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from checklists.models import Aspect, Item
from teams.models import Membership, Role, Team
from teams.service_areas import Places, served_places, teams_of_place, teams_serving
from tests.api.conftest import client_for
from tests.factories import TeamFactory, TownFactory, UserFactory, VillageFactory
from tests.org_shapes import build_longgang

pytestmark = pytest.mark.django_db


@pytest.fixture
def lg():
    return build_longgang()


def test_area_brigades_serve_their_streets_and_nothing_else(lg):
    s1a, s1b, s2a, s3a = (lg.communities[c] for c in ("S1-a", "S1-b", "S2-a", "S3-a"))
    assert lg.brigade_a.serves(s1a) and lg.brigade_a.serves(s1b)
    assert lg.brigade_a.serves(lg.streets["S1"])
    assert not lg.brigade_a.serves(s2a) and not lg.brigade_a.serves(s3a)
    assert not lg.brigade_a.serves(lg.district)  # one street is not the whole district
    assert lg.brigade_b.serves(s2a) and lg.brigade_b.serves(s3a)
    assert not lg.brigade_b.serves(s1a)


def test_a_unit_without_areas_serves_its_whole_home_district(lg):
    for place in (*lg.communities.values(), *lg.streets.values(), lg.district):
        assert lg.professional.serves(place)
        assert lg.district_team.serves(place)
    elsewhere = VillageFactory()
    assert not lg.professional.serves(elsewhere)
    assert not lg.district_team.serves(elsewhere)


def test_a_parent_team_also_serves_what_its_brigades_serve():
    home, other = TownFactory(), TownFactory()
    parent = TeamFactory(region=home)
    brigade = TeamFactory(region=home, parent=parent)
    brigade.areas.set([other])
    assert parent.serves(VillageFactory(parent=other))
    assert parent.serves(VillageFactory(parent=home))  # its own home region still
    assert not brigade.serves(VillageFactory(parent=home))


def test_served_places_split_towns_and_whole_cities(lg):
    assert served_places(team_ids=[lg.brigade_a.pk]) == Places(
        towns=frozenset({lg.streets["S1"].pk})
    )
    assert served_places(team_ids=[lg.brigade_b.pk]) == Places(
        towns=frozenset({lg.streets["S2"].pk, lg.streets["S3"].pk})
    )
    district = served_places(team_ids=[lg.district_team.pk])
    assert district.cities == frozenset({lg.district.pk})
    assert district.towns == frozenset(lg.streets[s].pk for s in ("S1", "S2", "S3"))


def test_teams_serving_a_street_are_its_brigades_and_the_team_above(lg):
    s1 = set(teams_serving(towns=[lg.streets["S1"].pk]))
    assert s1 == {lg.brigade_a, lg.professional, lg.district_team}
    s3 = set(teams_serving(towns=[lg.streets["S3"].pk]))
    assert s3 == {lg.brigade_b, lg.professional, lg.district_team}
    assert set(teams_of_place(region=lg.district)) == {
        lg.district_team,
        lg.brigade_a,
        lg.brigade_b,
        lg.professional,
    }
    assert not teams_serving(towns=[]).exists()


def test_haining_shape_teams_of_a_town_are_its_own_teams():
    town, other = TownFactory(), TownFactory()
    team, second = TeamFactory(region=town), TeamFactory(region=town, kind="professional")
    TeamFactory(region=other)
    assert set(teams_serving(towns=[town.pk])) == {team, second}
    assert served_places(team_ids=[team.pk]) == Places(towns=frozenset({town.pk}))


def test_speciality_by_item_or_aspect_and_none_takes_everything(lg):
    other = Item.objects.exclude(aspect=lg.special_item.aspect).first()
    assert lg.professional.takes(lg.special_item)
    assert not lg.professional.takes(lg.plain_item)
    assert not lg.professional.takes(other)
    assert lg.brigade_a.takes(lg.special_item) and lg.brigade_a.takes(other)
    lg.special_item.aspect.teams.add(lg.brigade_b)
    assert lg.brigade_b.takes(lg.plain_item)  # an item of its aspect
    assert not lg.brigade_b.takes(other)
    assert set(lg.professional.items.all()) == {lg.special_item}
    assert set(lg.brigade_b.aspects.all()) == {lg.special_item.aspect}


def test_the_home_region_is_a_town_or_a_district_never_a_community(lg):
    team = Team(code="LG-bad", region=lg.communities["S1-a"], kind="comprehensive", name_zh="队")
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            team.clean()
        assert error.value.message_dict["region"] == ["A team belongs to a city or a town."]
    Team(code="LG-ok", region=lg.district, kind="comprehensive", name_zh="队").clean()


def test_a_team_cannot_be_its_own_parent_nor_its_brigades_brigade(lg):
    lg.district_team.parent = lg.brigade_a
    with pytest.raises(ValidationError) as error:
        lg.district_team.clean()
    assert "parent" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.filter(pk=lg.brigade_b.pk).update(parent=lg.brigade_b)
    assert Team.objects.get(pk=lg.brigade_b.pk).parent_id == lg.district_team.pk


# --- stationed members --------------------------------------------------------------------------


def test_stationed_in_a_community_of_the_team_area(lg):
    membership = lg.stationed_member.memberships.get()
    membership.full_clean()
    assert membership.stationed_in == lg.communities["S1-a"]
    membership.stationed_in = lg.communities["S2-a"]  # brigade B's street
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            membership.clean()
        assert error.value.message_dict["stationed_in"] == [
            "This village lies outside the team's service area."
        ]
    membership.stationed_in = lg.streets["S1"]
    with pytest.raises(ValidationError) as error:
        membership.clean()
    assert "stationed_in" in error.value.message_dict


def test_only_team_roles_are_stationed(lg):
    officer = lg.officers["S1-a"].memberships.get()
    officer.stationed_in = lg.communities["S1-a"]
    with pytest.raises(ValidationError) as error:
        officer.clean()
    assert "stationed_in" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=UserFactory(),
            role=Role.VILLAGE_OFFICER,
            region=lg.communities["S1-b"],
            stationed_in=lg.communities["S1-b"],
        )
    assert not Membership.objects.filter(
        role=Role.VILLAGE_OFFICER, stationed_in__isnull=False
    ).exists()


# --- the API ------------------------------------------------------------------------------------


def test_the_api_shows_home_region_parent_and_areas(lg):
    client = client_for(lg.captain_a)
    response = client.get(f"/api/teams/?parent={lg.district_team.pk}")
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()["results"]}
    assert set(rows) == {"LG-T-A", "LG-T-B", "LG-T-P"}
    brigade_b = rows["LG-T-B"]
    assert brigade_b["region"] == brigade_b["town"] == lg.district.pk  # `town`: the old name
    assert brigade_b["parent"] == lg.district_team.pk
    assert sorted(brigade_b["areas"]) == sorted([lg.streets["S2"].pk, lg.streets["S3"].pk])
    by_region = client.get(f"/api/teams/?region={lg.district.pk}").json()["results"]
    assert len(by_region) == 4
    assert client.get(f"/api/teams/?town={lg.district.pk}").json()["results"] == by_region


# --- the admin ----------------------------------------------------------------------------------


def test_the_admin_edits_parent_areas_and_speciality(lg, client, admin_user):
    client.force_login(admin_user)
    url = f"/admin/teams/team/{lg.professional.pk}/change/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    data = {
        "code": "LG-T-P",
        "name_zh": "专业中队",
        "name_en": "Professional brigade",
        "region": lg.district.pk,
        "parent": lg.district_team.pk,
        "areas": [lg.streets["S1"].pk],
        "kind": Team.Kind.PROFESSIONAL,
    }
    for inline in page.context["inline_admin_formsets"]:  # posted back as shown, plus...
        formset = inline.formset
        rows = [{**form.initial, "id": form.instance.pk} for form in formset.initial_forms]
        if formset.model is Aspect.teams.through:  # ...one aspect of speciality
            rows.append({"aspect": lg.plain_item.aspect_id})
        data.update(
            {
                f"{formset.prefix}-TOTAL_FORMS": len(rows),
                f"{formset.prefix}-INITIAL_FORMS": formset.initial_form_count(),
                f"{formset.prefix}-MIN_NUM_FORMS": 0,
                f"{formset.prefix}-MAX_NUM_FORMS": 1000,
            }
        )
        for n, row in enumerate(rows):
            for name, value in row.items():
                data[f"{formset.prefix}-{n}-{name}"] = value
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    team = Team.objects.get(pk=lg.professional.pk)
    assert team.parent == lg.district_team
    assert list(team.areas.all()) == [lg.streets["S1"]]
    assert set(team.aspects.all()) == {lg.plain_item.aspect}
    assert set(team.items.all()) == {lg.special_item}  # kept as it was


def test_the_admin_edits_where_a_member_is_stationed(lg, client, admin_user):
    client.force_login(admin_user)
    membership = lg.stationed_member.memberships.get()
    url = f"/admin/teams/membership/{membership.pk}/change/"
    response = client.post(
        url,
        {
            "user": lg.stationed_member.pk,
            "role": Role.TEAM_MEMBER,
            "team": lg.brigade_a.pk,
            "force": "",
            "stationed_in": lg.communities["S1-b"].pk,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    assert Membership.objects.get(pk=membership.pk).stationed_in == lg.communities["S1-b"]
    refused = client.post(
        url,
        {
            "user": lg.stationed_member.pk,
            "role": Role.TEAM_MEMBER,
            "team": lg.brigade_a.pk,
            "force": "",
            "stationed_in": lg.communities["S2-a"].pk,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 200
    assert "outside the team&#x27;s service area" in refused.content.decode()
    assert Membership.objects.get(pk=membership.pk).stationed_in == lg.communities["S1-b"]
