"""The organisation in the API, read-only for every signed-in user: regions, grids with their
polygons, departments and teams; and the caller's own alert preference (teams.api_alerts)."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.routers import DefaultRouter

from core.api.views import ApiViewSet
from teams.api_alerts import MeViewSet
from teams.levels import region_level_choices
from teams.models import Department, Grid, Region, Team

MAX_ID = 2**63 - 1


def _id(field_name: str) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(field_name=field_name, min_value=1, max_value=MAX_ID)


class RegionSerializer(serializers.ModelSerializer):
    name = serializers.CharField(help_text="In the reader's language.")

    class Meta:
        model = Region
        fields = ["id", "code", "level", "parent", "name", "name_zh", "name_en"]


class GridSerializer(serializers.ModelSerializer):
    name = serializers.CharField(help_text="In the reader's language.")
    polygon = serializers.JSONField(
        help_text="GeoJSON Polygon or MultiPolygon in WGS-84 (longitude, latitude)."
    )

    class Meta:
        model = Grid
        fields = ["id", "code", "village", "name", "name_zh", "name_en", "polygon"]


class DepartmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(help_text="In the reader's language.")
    kind = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Department
        fields = ["id", "code", "kind", "region", "name", "name_zh", "name_en"]


class TeamSerializer(serializers.ModelSerializer):
    name = serializers.CharField(help_text="In the reader's language.")
    # Kept for clients written before service areas: the same id as `region`.
    town = serializers.PrimaryKeyRelatedField(
        source="region",
        read_only=True,
        help_text="Deprecated: the home region (same as `region`), a town or a city / district.",
    )

    class Meta:
        model = Team
        fields = [
            "id",
            "code",
            "region",
            "town",
            "parent",
            "areas",
            "kind",
            "departments",
            "name",
            "name_zh",
            "name_en",
        ]


class RegionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=region_level_choices())
    parent = _id("parent_id")

    class Meta:
        model = Region
        fields = []


class GridFilter(django_filters.FilterSet):
    village = _id("village_id")

    class Meta:
        model = Grid
        fields = []


class DepartmentFilter(django_filters.FilterSet):
    region = _id("region_id")

    class Meta:
        model = Department
        fields = []


class TeamFilter(django_filters.FilterSet):
    region = _id("region_id")
    town = _id("region_id")  # the name before service areas
    parent = _id("parent_id")

    class Meta:
        model = Team
        fields = []


def _read_only(model_name: str) -> dict:
    return {
        "list": extend_schema(summary=f"{model_name} (read-only)"),
        "retrieve": extend_schema(summary=f"One of the {model_name.lower()}"),
    }


@extend_schema_view(**_read_only("Regions: cities, towns and villages"))
class RegionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Region.objects.order_by("code")
    serializer_class = RegionSerializer
    filterset_class = RegionFilter


@extend_schema_view(**_read_only("Grids with their polygons"))
class GridViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Grid.objects.order_by("code")
    serializer_class = GridSerializer
    filterset_class = GridFilter


@extend_schema_view(**_read_only("Departments"))
class DepartmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Department.objects.select_related("kind").order_by("code")
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilter


@extend_schema_view(**_read_only("Teams"))
class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Team.objects.prefetch_related("departments", "areas").order_by("code")
    serializer_class = TeamSerializer
    filterset_class = TeamFilter


def register(router: DefaultRouter) -> None:
    router.register("regions", RegionViewSet, basename="region")
    router.register("grids", GridViewSet, basename="grid")
    router.register("departments", DepartmentViewSet, basename="department")
    router.register("teams", TeamViewSet, basename="team")
    router.register("me", MeViewSet, basename="me")
