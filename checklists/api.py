"""The checklist in the API, read-only for every signed-in user: aspects, and items with their
time limits (docs/architecture.md, Clocks)."""

import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.routers import DefaultRouter

from checklists.models import Aspect, Item, TimeLimit
from core.api.views import ApiViewSet


class AspectSerializer(serializers.ModelSerializer):
    name = serializers.CharField(help_text="In the reader's language.")
    description = serializers.CharField()

    class Meta:
        model = Aspect
        fields = ["id", "code", "name", "name_zh", "name_en", "description", "order"]


class TimeLimitSerializer(serializers.ModelSerializer):
    class Meta:
        model = TimeLimit
        fields = ["stage", "amount", "unit", "yellow_at_percent"]


class ItemSerializer(serializers.ModelSerializer):
    name = serializers.CharField(help_text="In the reader's language.")
    description = serializers.CharField()
    legal_basis = serializers.CharField()
    redirect = serializers.CharField(help_text="Where to go instead, when it is refused.")
    default_department_kinds = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    time_limits = TimeLimitSerializer(many=True)

    class Meta:
        model = Item
        fields = [
            "id",
            "code",
            "aspect",
            "name",
            "name_zh",
            "name_en",
            "description",
            "legal_basis",
            "urgency",
            "whistleable",
            "redirect",
            "default_team_kinds",
            "default_department_kinds",
            "order",
            "active",
            "time_limits",
        ]


class ItemFilter(django_filters.FilterSet):
    aspect = django_filters.NumberFilter(field_name="aspect_id", min_value=1, max_value=2**63 - 1)
    active = django_filters.BooleanFilter()

    class Meta:
        model = Item
        fields = []


@extend_schema_view(
    list=extend_schema(summary="Aspects of the checklist"),
    retrieve=extend_schema(summary="One aspect"),
)
class AspectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Aspect.objects.order_by("order", "code")
    serializer_class = AspectSerializer


@extend_schema_view(
    list=extend_schema(summary="Items of the checklist with their time limits"),
    retrieve=extend_schema(summary="One item with its time limits"),
)
class ItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = (
        Item.objects.select_related("aspect")
        .prefetch_related(
            "default_department_kinds",
            Prefetch("time_limits", queryset=TimeLimit.objects.order_by("stage")),
        )
        .order_by("aspect__order", "order", "code")
    )
    serializer_class = ItemSerializer
    filterset_class = ItemFilter


def register(router: DefaultRouter) -> None:
    router.register("aspects", AspectViewSet, basename="aspect")
    router.register("items", ItemViewSet, basename="item")
