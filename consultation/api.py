"""Read-only REST endpoints of consultations (/api/consultations/), registered on the one
router of whistle.api_urls. Changes go through the pages' services; the API reads only."""

from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from cases.api.views import ID_PARAMETER, parse_pk
from cases.errors import NotInScope
from consultation.models import AgendaItem, Consultation, Invitation
from consultation.selectors import visible_consultations
from core.api.views import ApiViewSet


class AgendaItemSerializer(serializers.ModelSerializer):
    decision = serializers.CharField(
        read_only=True, help_text="pending, tasks, escalate, suspend or close"
    )
    case_id = serializers.IntegerField(read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True)

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "order",
            "case_id",
            "case_number",
            "decision",
            "decision_text",
            "decided_at",
        ]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    department_id = serializers.IntegerField(read_only=True, allow_null=True)
    team_id = serializers.IntegerField(read_only=True, allow_null=True)
    user_id = serializers.IntegerField(read_only=True, allow_null=True)
    invitee = serializers.CharField(source="invitee_name", read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "department_id",
            "team_id",
            "user_id",
            "invitee",
            "invited_at",
            "confirmed_at",
            "checked_in_at",
            "late",
        ]
        read_only_fields = fields


class ConsultationSerializer(serializers.ModelSerializer):
    # Plain strings, so their names do not collide with the case's enums in the schema.
    level = serializers.CharField(read_only=True, help_text="town or city")
    status = serializers.CharField(read_only=True, help_text="planned, held or archived")
    region_id = serializers.IntegerField(read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    agenda = AgendaItemSerializer(source="agenda_items", many=True, read_only=True)
    invitations = InvitationSerializer(many=True, read_only=True)

    class Meta:
        model = Consultation
        fields = [
            "id",
            "level",
            "region_id",
            "region_name",
            "scheduled_at",
            "place",
            "online_link",
            "status",
            "minutes",
            "created_at",
            "held_at",
            "archived_at",
            "agenda",
            "invitations",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Consultations the user runs, supervises or was invited to"),
    retrieve=extend_schema(summary="One consultation", parameters=[ID_PARAMETER]),
)
class ConsultationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Consultation.objects.none()
    serializer_class = ConsultationSerializer
    filterset_fields = ["level", "status"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Consultation.objects.none()
        return (
            visible_consultations(user=self.request.user)
            .select_related("region")
            .prefetch_related(
                Prefetch(
                    "agenda_items",
                    queryset=AgendaItem.objects.select_related("case").order_by("order", "pk"),
                ),
                Prefetch(
                    "invitations",
                    queryset=Invitation.objects.select_related("department", "team", "user"),
                ),
            )
            .order_by("-scheduled_at", "-pk")
        )

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        consultation = self.get_queryset().filter(pk=parse_pk(pk)).first()
        if consultation is None:
            raise NotInScope()
        return Response(ConsultationSerializer(consultation).data)


def register(router: DefaultRouter) -> None:
    router.register("consultations", ConsultationViewSet, basename="consultation")
