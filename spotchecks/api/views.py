"""The spot-check API: thin views over spotchecks.selectors (with the pages' scope) and
spotchecks.services. Outside the user's cities a spot check does not exist (404); a draw by
anyone but a supervisor is 403; bad input is 400 with nothing changed. The POST honours the
Idempotency-Key header."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from cases.api.idempotency import IdempotentViewSet
from cases.api.views import ID_PARAMETER, parse_pk, validated
from cases.errors import NotAllowed
from spotchecks import selectors, services
from spotchecks.api import serializers as api
from spotchecks.models import SpotCheck
from teams.levels import level_words


def spot_check_detail(*, spot_check: SpotCheck) -> dict:
    spot_check.drawn = selectors.drawn_cases(spot_check=spot_check)
    return api.SpotCheckDetailSerializer(spot_check).data


@extend_schema_view(
    list=extend_schema(summary="Spot checks of the user's cities (supervisors, city committee)"),
    retrieve=extend_schema(
        summary="One spot check with its drawn cases and their revisits",
        parameters=[ID_PARAMETER],
        responses={200: api.SpotCheckDetailSerializer},
    ),
)
class SpotCheckViewSet(mixins.ListModelMixin, IdempotentViewSet):
    queryset = SpotCheck.objects.none()
    serializer_class = api.SpotCheckSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return SpotCheck.objects.none()
        return selectors.visible_spot_checks(user=self.request.user)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        spot_check = selectors.spot_check_for(user=request.user, pk=parse_pk(pk))
        return Response(spot_check_detail(spot_check=spot_check))

    @extend_schema(
        summary="Draw a random sample of one unit's closed cases for revisits (supervisor); "
        "the seed and the population are recorded",
        request=api.DrawSerializer,
        responses={201: api.SpotCheckDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        if not selectors.supervisor_cities(user=request.user):
            raise NotAllowed(_("Only the %(city)s's supervisors draw spot checks.") % level_words())
        data = validated(api.DrawSerializer, request)
        spot_check = services.draw_spot_check(
            user=request.user,
            city_id=data["city"],
            team_id=data["team"],
            department_id=data["department"],
            closed_from=data["closed_from"],
            closed_to=data["closed_to"],
            size=data["size"],
            seed=data["seed"],
        )
        spot_check = selectors.spot_check_for(user=request.user, pk=spot_check.pk)
        return Response(spot_check_detail(spot_check=spot_check), status=201)
