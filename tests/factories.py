"""factory_boy factories for the organisation, shared by the test suites.

Regions come as a chain: `VillageFactory()` makes its town and city too. Grids get a small
square polygon around a point and their bounding box filled in, as the admin would.
"""

import factory
from factory.django import DjangoModelFactory

from teams.models import Department, DepartmentKind, Grid, Membership, Region, Role, Team, User


def square_polygon(lng: float, lat: float, half_side: float = 0.005) -> dict:
    """A closed GeoJSON square of 2 * half_side degrees centred on (lng, lat)."""
    ring = [
        [lng - half_side, lat - half_side],
        [lng + half_side, lat - half_side],
        [lng + half_side, lat + half_side],
        [lng - half_side, lat + half_side],
        [lng - half_side, lat - half_side],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


class UserFactory(DjangoModelFactory):
    username = factory.Sequence(lambda n: f"user{n}")
    first_name = ""
    last_name = ""
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    password = factory.django.Password("correct-horse-battery")

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True


class CityFactory(DjangoModelFactory):
    code = factory.Sequence(lambda n: f"C{n:02d}")
    level = Region.Level.CITY
    parent = None
    name_zh = factory.Sequence(lambda n: f"测试市{n}")
    name_en = factory.Sequence(lambda n: f"Test City {n}")

    class Meta:
        model = Region
        django_get_or_create = ("code",)


class TownFactory(CityFactory):
    code = factory.Sequence(lambda n: f"T{n:03d}")
    level = Region.Level.TOWN
    parent = factory.SubFactory(CityFactory)
    name_zh = factory.Sequence(lambda n: f"测试镇{n}")
    name_en = factory.Sequence(lambda n: f"Test Town {n}")


class VillageFactory(CityFactory):
    code = factory.Sequence(lambda n: f"V{n:04d}")
    level = Region.Level.VILLAGE
    parent = factory.SubFactory(TownFactory)
    name_zh = factory.Sequence(lambda n: f"测试村{n}")
    name_en = factory.Sequence(lambda n: f"Test Village {n}")


class GridFactory(DjangoModelFactory):
    code = factory.Sequence(lambda n: f"G{n:05d}")
    village = factory.SubFactory(VillageFactory)
    name_zh = factory.Sequence(lambda n: f"网格{n}")
    name_en = factory.Sequence(lambda n: f"Grid {n}")
    polygon = factory.Sequence(lambda n: square_polygon(120.0 + 0.02 * (n % 50), 30.0))

    class Meta:
        model = Grid
        django_get_or_create = ("code",)

    @classmethod
    def _create(cls, model_class: type[Grid], *args: object, **kwargs: object) -> Grid:
        grid = model_class(*args, **kwargs)
        grid.refresh_bbox()
        grid.save()
        return grid


class DepartmentKindFactory(DjangoModelFactory):
    code = factory.Sequence(lambda n: f"kind{n}")
    name_zh = factory.Sequence(lambda n: f"部门类别{n}")
    name_en = factory.Sequence(lambda n: f"Department kind {n}")

    class Meta:
        model = DepartmentKind
        django_get_or_create = ("code",)


class DepartmentFactory(DjangoModelFactory):
    code = factory.Sequence(lambda n: f"D{n:03d}")
    kind = factory.SubFactory(DepartmentKindFactory)
    region = factory.SubFactory(CityFactory)
    name_zh = factory.Sequence(lambda n: f"测试部门{n}")
    name_en = factory.Sequence(lambda n: f"Test Department {n}")

    class Meta:
        model = Department
        django_get_or_create = ("code",)


class TeamFactory(DjangoModelFactory):
    code = factory.Sequence(lambda n: f"TM{n:03d}")
    region = factory.SubFactory(TownFactory)
    kind = Team.Kind.COMPREHENSIVE
    name_zh = factory.Sequence(lambda n: f"综合行政执法队{n}")
    name_en = factory.Sequence(lambda n: f"Law Enforcement Team {n}")

    class Meta:
        model = Team
        django_get_or_create = ("code",)


class MembershipFactory(DjangoModelFactory):
    """A grid worker by default; pass role= and the matching place (region/team/department)."""

    user = factory.SubFactory(UserFactory)
    role = Role.GRID_WORKER
    grid = factory.Maybe(
        factory.LazyAttribute(lambda o: o.role == Role.GRID_WORKER),
        yes_declaration=factory.SubFactory(GridFactory),
        no_declaration=None,
    )

    class Meta:
        model = Membership
