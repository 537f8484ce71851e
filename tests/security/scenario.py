"""Two organisations in two cities, each with a case in every place a URL can name (a case
with a photo, its dispatch, a postponement, a consultation with its agenda and invitations, an
investigation), built through the services. The users of the first organisation look at the
objects of both: the first is inside their scope, the second outside."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from cases.models import Attachment, Case, Dispatch, Postponement
from cases.services import request_consultation, request_postponement
from checklists.models import Item
from consultation import services as consultation_services
from consultation.models import AgendaItem, Consultation, Investigation, Invitation
from teams.models import Department, DepartmentKind, Role, Team, User
from tests.cases.conftest import Org
from tests.cases.engine_steps import accepted, in_progress, png, team_dispatch
from tests.factories import (
    CityFactory,
    GridFactory,
    MembershipFactory,
    TeamFactory,
    TownFactory,
    UserFactory,
    VillageFactory,
    square_polygon,
)

ROLES = (
    "grid_worker",
    "village_officer",
    "captain",
    "member",
    "liaison",
    "town_committee",
    "city_committee",
    "supervisor",
    "anonymous",
)


SHAPES = ("haining", "longgang")


def build_org(*, prefix: str, city_code: str, lng: float, shape: str = "haining") -> Org:
    """An organisation like the `org` fixture of the case tests, under its own usernames.

    Haining's shape: a team of each town. Longgang's: the city is a district with one team
    whose area brigades (home: the district) each serve one street (a town); `team` and
    `other_team` are two of those brigades, and the district's professional brigade, which
    takes other items, is there too."""
    city = CityFactory(code=city_code)
    town = TownFactory(parent=city)
    other_town = TownFactory(parent=city)
    village = VillageFactory(parent=town)
    other_village = VillageFactory(parent=town)
    grid = GridFactory(village=village, polygon=square_polygon(lng, 30.50))
    other_grid = GridFactory(village=other_village, polygon=square_polygon(lng + 0.1, 30.50))
    if shape == "longgang":
        district_team = TeamFactory(region=city, kind=Team.Kind.COMPREHENSIVE)
        team = TeamFactory(region=city, parent=district_team, kind=Team.Kind.COMPREHENSIVE)
        team.areas.set([town])
        other_team = TeamFactory(region=city, parent=district_team, kind=Team.Kind.COMPREHENSIVE)
        other_team.areas.set([other_town])
        professional = TeamFactory(region=city, parent=district_team, kind=Team.Kind.PROFESSIONAL)
        professional.items.set([Item.objects.get(code="MKT-02")])
    else:
        team = TeamFactory(region=town, kind=Team.Kind.COMPREHENSIVE)
        other_team = TeamFactory(region=other_town, kind=Team.Kind.COMPREHENSIVE)
    department = Department.objects.create(
        code=f"{city_code}-UM",
        kind=DepartmentKind.objects.get(code="urban_management"),
        region=city,
        name_zh="综合行政执法局",
        name_en="Urban management bureau",
    )

    def holder(username: str, role: str, **place: object) -> User:
        user = UserFactory(username=f"{prefix}{username}")
        MembershipFactory(user=user, role=role, **place)
        return user

    return Org(
        city=city,
        town=town,
        village=village,
        other_village=other_village,
        other_town=other_town,
        grid=grid,
        other_grid=other_grid,
        team=team,
        other_team=other_team,
        department=department,
        item=Item.objects.get(code="SAN-01"),
        grid_worker=holder("gw", Role.GRID_WORKER, grid=grid),
        other_grid_worker=holder("gw2", Role.GRID_WORKER, grid=other_grid),
        village_officer=holder("vo", Role.VILLAGE_OFFICER, region=village),
        captain=holder("cap", Role.TEAM_CAPTAIN, team=team),
        member=holder("mem", Role.TEAM_MEMBER, team=team),
        liaison=holder("lia", Role.DEPARTMENT_LIAISON, department=department),
        town_committee=holder("town", Role.TOWN_COMMITTEE, region=town),
        city_committee=holder("city", Role.CITY_COMMITTEE, region=city),
        supervisor=holder("sup", Role.SUPERVISOR, region=city),
        other_captain=holder("cap2", Role.TEAM_CAPTAIN, team=other_team),
    )


@dataclass
class Objects:
    """Everything a URL of the project can name, in one organisation."""

    org: Org
    case: Case  # in progress: seen by every role of the organisation
    dispatch: Dispatch
    attachment: Attachment
    postponement: Postponement
    consultation: Consultation
    agenda_item: AgendaItem
    invitation: Invitation
    investigation: Investigation
    open311_token: str  # a case number not filed through Open311: no token


def build_objects(org: Org, *, lng: float = 120.70) -> Objects:
    """The objects in `org`, whose grid is centred on (lng, 30.50)."""
    case = in_progress(org, photos=[png()], longitude=lng)
    waiting = accepted(org, description="Blocked drain", latitude=30.503, longitude=lng)
    deadline = waiting.deadlines.get(stage="village_handling")
    postponement = request_postponement(
        user=org.village_officer,
        case_id=waiting.pk,
        deadline_id=deadline.pk,
        amount=1,
        unit="working_days",
        reason="Owner away",
    )
    if not isinstance(postponement, Postponement):
        postponement = Postponement.objects.filter(deadline__case=waiting).latest("pk")
    discussed = in_progress(org, description="Rubble on the road", latitude=30.502, longitude=lng)
    discussed = request_consultation(
        user=org.captain, case_id=discussed.pk, reason="Needs the committee"
    )
    consultation = consultation_services.call_consultation(
        user=org.town_committee,
        level="town",
        region_id=org.town.pk,
        scheduled_at=timezone.now() + timedelta(days=2),
        place="Town hall",
        case_ids=[discussed.pk],
        department_ids=[org.department.pk],
        team_ids=[org.team.pk],
    )
    investigation = consultation_services.plan_investigation(
        user=org.town_committee,
        town_id=org.town.pk,
        place_name="Riverside market",
        grid_id=org.grid.pk,
        planned_for=timezone.now() + timedelta(days=3),
        team_id=org.team.pk,
        aspect_ids=[org.item.aspect_id],
    )
    return Objects(
        org=org,
        case=case,
        dispatch=team_dispatch(case),
        attachment=case.attachments.first(),
        postponement=postponement,
        consultation=consultation,
        agenda_item=consultation.agenda_items.first(),
        invitation=consultation.invitations.filter(department__isnull=False).first(),
        investigation=investigation,
        open311_token=case.number,
    )
