"""The consultation API: thin views that read through consultation.selectors with the pages'
scope and change things only through consultation.services, as the pages do
(consultation.views).

Outside the user's scope a consultation, an agenda item, an invitation or an investigation
does not exist (404); in scope but not allowed is 403; the wrong state is 409; bad input is
400 with nothing changed. Every POST honours the Idempotency-Key header.
"""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.access import scope_of
from cases.api.idempotency import IdempotentViewSet
from cases.api.views import ID_PARAMETER, parse_pk, validated
from cases.errors import InvalidInput, NotAllowed, NotInScope, with_field_names
from cases.services import Task
from consultation import selectors, services
from consultation.api import serializers as api
from consultation.models import AgendaItem, Consultation, Investigation, Invitation
from teams.levels import level_words
from teams.models import Role


def _post(url_path: str, **kwargs: Any) -> Any:
    """A POST action on one object at .../<id>/<url_path>/."""
    return action(
        detail=True,
        methods=["post"],
        url_path=url_path,
        url_name=url_path,
        filter_backends=[],
        pagination_class=None,
        **kwargs,
    )


# --- consultations -----------------------------------------------------------------------------


def consultation_rows(*, user: Any) -> QuerySet[Consultation]:
    """The consultations the user may read, with what the response shows."""
    return (
        selectors.visible_consultations(user=user)
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


def consultation_response(
    request: Request, consultation_id: int, *, status_code: int = 200
) -> Response:
    consultation = consultation_rows(user=request.user).filter(pk=consultation_id).first()
    if consultation is None:
        raise NotInScope()
    return Response(api.ConsultationSerializer(consultation).data, status=status_code)


def committee_consultation(*, user: Any, pk: str | None) -> Consultation:
    """The consultation if its committee is the user's: 404 outside the scope, 403 for the
    invited and the supervisors."""
    consultation = selectors.consultation_for(user=user, pk=parse_pk(pk))
    if not services.is_committee_of(user, consultation):
        raise NotAllowed(_("Only the committee staff run the consultation."))
    return consultation


@extend_schema_view(
    list=extend_schema(summary="Consultations the user runs, supervises or was invited to"),
    retrieve=extend_schema(summary="One consultation", parameters=[ID_PARAMETER]),
)
class ConsultationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, IdempotentViewSet):
    queryset = Consultation.objects.none()
    serializer_class = api.ConsultationSerializer
    filterset_fields = ["level", "status"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Consultation.objects.none()
        return consultation_rows(user=self.request.user)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        consultation = self.get_queryset().filter(pk=parse_pk(pk)).first()
        if consultation is None:
            raise NotInScope()
        return Response(api.ConsultationSerializer(consultation).data)

    @extend_schema(
        summary="Call a consultation on cases waiting for the user's committee; the invitees "
        "are told",
        request=api.CallConsultationSerializer,
        responses={201: api.ConsultationSerializer},
    )
    def create(self, request: Request) -> Response:
        seats = selectors.committee_seats(user=request.user)
        if not seats:
            raise NotAllowed(_("Only the committee staff call consultations."))
        data = validated(api.CallConsultationSerializer, request)
        waiting = set(
            selectors.waiting_cases(seats=seats)
            .filter(pk__in=data["cases"])
            .values_list("pk", flat=True)
        )
        if set(data["cases"]) - waiting:
            raise InvalidInput(
                fields={"cases": [_("Choose cases that are waiting for your committee.")]}
            )
        consultation = services.call_consultation(
            user=request.user,
            level=data["level"],
            region_id=data["region"],
            scheduled_at=data["scheduled_at"],
            place=data["place"],
            online_link=data["online_link"],
            case_ids=data["cases"],
            department_ids=data["departments"],
            team_ids=data["teams"],
            user_ids=data["people"],
        )
        return consultation_response(request, consultation.pk, status_code=201)

    @extend_schema(
        operation_id="consultations_minutes",
        summary="Keep the minutes (the committee); once the meeting began it is held",
        parameters=[ID_PARAMETER],
        request=api.MinutesSerializer,
        responses={200: api.ConsultationSerializer},
    )
    @_post("minutes")
    def minutes(self, request: Request, pk: str | None = None) -> Response:
        consultation = committee_consultation(user=request.user, pk=pk)
        data = validated(api.MinutesSerializer, request)
        services.record_minutes(
            user=request.user, consultation_id=consultation.pk, minutes=data["minutes"]
        )
        return consultation_response(request, consultation.pk)

    @extend_schema(
        operation_id="consultations_confirm_attendance",
        summary="Confirm the attendance as entered (the committee); arrivals are final then",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: api.ConsultationSerializer},
    )
    @_post("confirm-attendance")
    def confirm_attendance(self, request: Request, pk: str | None = None) -> Response:
        consultation = committee_consultation(user=request.user, pk=pk)
        services.confirm_attendance(user=request.user, consultation_id=consultation.pk)
        return consultation_response(request, consultation.pk)

    @extend_schema(
        operation_id="consultations_archive",
        summary="Archive the consultation (the committee): the invited lose their access",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: api.ConsultationSerializer},
    )
    @_post("archive")
    def archive(self, request: Request, pk: str | None = None) -> Response:
        consultation = selectors.consultation_for(user=request.user, pk=parse_pk(pk))
        services.archive_consultation(user=request.user, consultation_id=consultation.pk)
        return consultation_response(request, consultation.pk)


class AgendaItemViewSet(IdempotentViewSet):
    """The decision on one case of a consultation's agenda."""

    queryset = AgendaItem.objects.none()
    serializer_class = api.AgendaDecisionSerializer

    @extend_schema(
        operation_id="agenda_items_decide",
        summary="Decide one agenda item (the committee): tasks, escalate, suspend or close",
        parameters=[ID_PARAMETER],
        request=api.AgendaDecisionSerializer,
        responses={200: api.ConsultationSerializer},
    )
    @_post("decide")
    def decide(self, request: Request, pk: str | None = None) -> Response:
        item = selectors.agenda_item_for(user=request.user, pk=parse_pk(pk))
        if not services.is_committee_of(request.user, item.consultation):
            raise NotAllowed(_("Only the committee staff decide at the consultation."))
        data = validated(api.AgendaDecisionSerializer, request)
        tasks = (
            tuple(
                Task(
                    action=task["action"],
                    due_at=task["due_at"],
                    team_id=task["team"],
                    department_id=task["department"],
                )
                for task in data["tasks"]
            )
            if data["kind"] == AgendaItem.Decision.TASKS
            else ()
        )
        decision = services.Decision(
            kind=data["kind"], text=data["decision"], tasks=tasks, review_on=data["review_on"]
        )
        with_field_names(
            lambda: services.decide_item(
                user=request.user,
                item_id=item.pk,
                decision=decision,
                expected_version=data["version"],
            ),
            {"reason": "decision"},
            dotted=True,
        )
        response = consultation_response(request, item.consultation_id)
        response.idempotent_case_id = item.case_id
        return response


class InvitationViewSet(IdempotentViewSet):
    """Attendance: the invitee confirms, and checks in on the day (or the committee records
    the arrival at the door)."""

    queryset = Invitation.objects.none()
    serializer_class = api.InvitationSerializer

    @extend_schema(
        operation_id="invitations_confirm",
        summary="Confirm that the invited department, team or person will attend",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: api.InvitationSerializer},
    )
    @_post("confirm")
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        invitation = selectors.invitation_for(user=request.user, pk=parse_pk(pk))
        invitation = services.confirm_invitation(user=request.user, invitation_id=invitation.pk)
        return Response(api.InvitationSerializer(invitation).data)

    @extend_schema(
        operation_id="invitations_check_in",
        summary="Record the arrival: now, on the day (the invitee, or the committee at the "
        "door), or at the time the committee's clerk enters (also after the meeting)",
        parameters=[ID_PARAMETER],
        request=api.ArrivalSerializer,
        responses={200: api.InvitationSerializer},
    )
    @_post("check-in")
    def check_in(self, request: Request, pk: str | None = None) -> Response:
        invitation = selectors.invitation_for(user=request.user, pk=parse_pk(pk))
        arrived_at = validated(api.ArrivalSerializer, request)["arrived_at"]
        if arrived_at is None:
            invitation = services.check_in(user=request.user, invitation_id=invitation.pk)
        else:
            invitation = services.record_arrival(
                user=request.user, invitation_id=invitation.pk, arrived_at=arrived_at
            )
        return Response(api.InvitationSerializer(invitation).data)


# --- investigations ----------------------------------------------------------------------------


def investigation_detail(*, investigation: Investigation) -> dict:
    """The investigation with its attendance, checks (and the items a finding may be filed
    as) and findings, as the page shows them."""
    view = selectors.investigation_view(investigation=investigation)
    for check in view.checks:
        check.items = view.items_by_aspect.get(check.aspect_id, [])
    investigation.department_rows = view.departments
    investigation.attendance_rows = view.attendance
    investigation.check_rows = view.checks
    investigation.finding_rows = view.findings
    return api.InvestigationDetailSerializer(investigation).data


@extend_schema_view(
    list=extend_schema(
        summary="Comprehensive investigations the user plans, leads, joins or supervises"
    ),
    retrieve=extend_schema(
        summary="One investigation with its attendance, checks and findings",
        parameters=[ID_PARAMETER],
        responses={200: api.InvestigationDetailSerializer},
    ),
)
class InvestigationViewSet(mixins.ListModelMixin, IdempotentViewSet):
    queryset = Investigation.objects.none()
    serializer_class = api.InvestigationRowSerializer
    filterset_fields = ["status"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Investigation.objects.none()
        return selectors.investigations_for(user=self.request.user)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        investigation = selectors.investigation_for(user=request.user, pk=parse_pk(pk))
        return Response(investigation_detail(investigation=investigation))

    @extend_schema(
        summary="Plan a comprehensive investigation (the town committee); the team and the "
        "departments are told",
        request=api.PlanInvestigationSerializer,
        responses={201: api.InvestigationDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        towns = scope_of(request.user).regions_of(Role.TOWN_COMMITTEE)
        if not towns:
            raise NotAllowed(
                _("Only the %(town)s committee plans its investigations.") % level_words()
            )
        data = validated(api.PlanInvestigationSerializer, request)
        town_id = data["town"] or selectors.planning_choices(towns=towns)["towns"].first().pk
        investigation = services.plan_investigation(
            user=request.user,
            town_id=town_id,
            place_name=data["place_name"],
            address=data["address"],
            grid_id=data["grid"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            planned_for=data["planned_for"],
            team_id=data["team"],
            aspect_ids=data["aspects"],
            department_ids=data["departments"],
            notes=data["notes"],
            hotspot_item_id=data["hotspot_item"],
            hotspot_grid_id=data["hotspot_grid"],
        )
        investigation = selectors.investigation_for(user=request.user, pk=investigation.pk)
        return Response(investigation_detail(investigation=investigation), status=201)

    @extend_schema(
        operation_id="investigations_record",
        summary="Record the visit (the town committee or the team's captain): who came, what "
        "was checked; each finding is filed as a case",
        parameters=[ID_PARAMETER],
        request=api.RecordInvestigationSerializer,
        responses={200: api.InvestigationDetailSerializer},
    )
    @_post("record")
    def record(self, request: Request, pk: str | None = None) -> Response:
        investigation = selectors.investigation_for(user=request.user, pk=parse_pk(pk))
        if not services.can_record(request.user, investigation):
            raise NotAllowed(
                _("Only the %(town)s committee or the team in charge records the visit.")
                % level_words()
            )
        data = validated(api.RecordInvestigationSerializer, request)
        names = {}
        for index, entry in enumerate(data["checks"]):
            names[f"item_{entry['id']}"] = f"checks.{index}.item"
            names[f"finding_{entry['id']}"] = f"checks.{index}.finding"
        with_field_names(
            lambda: services.record_investigation(
                user=request.user,
                investigation_id=investigation.pk,
                attendance=[
                    services.Attended(
                        attendance_id=entry["id"], present=entry["present"], people=entry["people"]
                    )
                    for entry in data["attendance"]
                ],
                checks=[
                    services.Checked(
                        check_id=entry["id"],
                        checked=entry["checked"],
                        finding=entry["finding"],
                        item_id=entry["item"],
                    )
                    for entry in data["checks"]
                ],
                notes=data["notes"],
            ),
            names,
            dotted=True,
        )
        investigation = selectors.investigation_for(user=request.user, pk=investigation.pk)
        return Response(investigation_detail(investigation=investigation))
