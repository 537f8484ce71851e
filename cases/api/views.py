"""The case API: thin views that read within the user's scope and change cases only through
the case services, exactly as the pages do (cases.views.detail), and answer with the case.

Outside the scope a case, dispatch or postponement does not exist (404); in scope but not
allowed is 403; a stale version or a move the case's state forbids is 409.
"""

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from audit.models import AccessKind
from audit.services import record_access
from cases import notifications, services
from cases.access import visible_cases
from cases.api import selectors
from cases.api import serializers as api
from cases.api.bulk import bulk_route
from cases.api.filters import CaseFilter, DispatchFilter, NotificationFilter
from cases.api.idempotency import IdempotentViewSet
from cases.errors import InvalidInput, NotInScope, with_field_names
from cases.models import Case, Dispatch, Notification, Source
from cases.perform import perform
from cases.selectors_pages.detail import case_id_by_number
from cases.workflow import CASE, DISPATCH, REGISTRY, Action

MAX_ID = 2**63 - 1

ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The row's id."
)


def parse_pk(value: Any) -> int:
    """A path id as a number; anything else names no row (404)."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise NotInScope() from None
    if not 1 <= pk <= MAX_ID:
        raise NotInScope()
    return pk


def require_visible(*, user: Any, case_id: int) -> None:
    """Outside the scope first (404), before the body is even read."""
    if not visible_cases(user=user).filter(pk=case_id).exists():
        raise NotInScope()


def validated(serializer_class: type[Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def case_response(request: Request, case_id: int, *, status_code: int = 200) -> Response:
    case = selectors.case_detail(user=request.user, pk=case_id)
    response = Response(api.represent(api.CaseDetailSerializer, case), status=status_code)
    response.idempotent_case_id = case.pk
    return response


def _merge_target(user: Any, value: str) -> int:
    value = value.strip()
    case_id = case_id_by_number(user=user, number=value)
    if case_id is None and value.isdigit() and int(value) <= MAX_ID:
        case_id = int(value)
    if case_id is None:
        raise InvalidInput(fields={"into": [_("No case with this number.")]})
    return case_id


def case_input(*, action_name: str, user: Any, data: dict) -> dict:
    """The validated body in the shared input names (cases.perform)."""
    normalised = {**data, "team_id": data.get("team"), "department_id": data.get("department")}
    if action_name == "merge":
        normalised["into"] = _merge_target(user, data["into"])
    if action_name == "decide":
        normalised["tasks"] = [
            services.Task(
                action=task["action"],
                due_at=task["due_at"],
                team_id=task["team"],
                department_id=task["department"],
            )
            for task in data["tasks"]
        ]
    return normalised


def _post_action(name: str, function: Callable) -> Callable:
    """A POST action on one object at .../<id>/<name-with-hyphens>/."""
    return action(
        detail=True,
        methods=["post"],
        url_path=name.replace("_", "-"),
        url_name=name.replace("_", "-"),
        filter_backends=[],
        pagination_class=None,
    )(function)


# Cases.


def _action_route(spec: Action) -> Callable:
    """The POST route of one declared action: .../<id>/<name-with-hyphens>/."""

    def act(self: IdempotentViewSet, request: Request, pk: str | None = None) -> Response:
        target_id = parse_pk(pk)
        if spec.on == CASE:
            require_visible(user=request.user, case_id=target_id)
            case_id, target = target_id, {"case_id": target_id}
        else:
            case_id = selectors.dispatch_case_id(user=request.user, pk=target_id)
            target = {"dispatch_id": target_id}
        data = validated(spec.serializer_class, request)
        with_field_names(
            lambda: perform(
                action=spec.name,
                user=request.user,
                data=case_input(action_name=spec.name, user=request.user, data=data),
                expected_version=data.get("version"),
                **target,
            ),
            spec.api_fields,
            dotted=True,
        )
        return case_response(request, case_id)

    act.__name__ = spec.name
    act.__doc__ = spec.summary
    return extend_schema(
        operation_id=f"{'cases' if spec.on == CASE else 'dispatches'}_{spec.name}",
        summary=spec.summary,
        parameters=[ID_PARAMETER],
        request=spec.serializer_class,
        responses={200: api.CaseDetailSerializer},
    )(_post_action(spec.name, act))


def add_action_routes(viewset: type, on: str) -> None:
    """Give a viewset a route for every action the registry declares on its kind of row
    (also one declared later, e.g. by a test)."""
    for spec in REGISTRY.of(on):
        setattr(viewset, spec.name, _action_route(spec))


@extend_schema_view(
    list=extend_schema(summary="Cases the user may see, filtered and sorted"),
    retrieve=extend_schema(
        summary="One case with its dispatches, deadlines and the user's actions",
        parameters=[ID_PARAMETER],
    ),
)
class CaseViewSet(mixins.ListModelMixin, IdempotentViewSet):
    queryset = Case.objects.none()
    serializer_class = api.CaseListSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = CaseFilter
    ordering_fields = ["filed_at", "updated_at", "number", "light_due_at"]
    ordering = ["-filed_at", "-id"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        return selectors.case_rows(user=self.request.user)

    def get_serializer_class(self) -> type[Serializer]:
        if self.action == "create":
            return api.FileWhistleSerializer
        if self.action == "retrieve":
            return api.CaseDetailSerializer
        return api.CaseListSerializer

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        response = case_response(request, parse_pk(pk))
        record_access(
            request=request, kind=AccessKind.CASE_VIEWED, case_number=response.data["number"]
        )
        return response

    @extend_schema(
        summary="File a whistle (grid worker); photos as multipart/form-data",
        request=api.FileWhistleSerializer,
        responses={201: api.CaseDetailSerializer, 200: api.CaseDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        data = validated(api.FileWhistleSerializer, request)
        result = services.file_whistle(
            user=request.user,
            source=Source.GRID_WORKER,
            item=data["item"],
            description=data["description"],
            grid=data["grid"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            address=data["address"],
            photos=data["photos"],
            # The Idempotency-Key is honoured around this whole request (IdempotentPostMixin),
            # in the same transaction; the service need not claim it a second time.
        )
        case = selectors.filed_case_detail(
            user=request.user,
            case=result.case,
            deadlines=result.deadlines,
            attachments=result.attachments,
        )
        response = Response(
            api.represent(api.CaseDetailSerializer, case), status=status.HTTP_201_CREATED
        )
        response.idempotent_case_id = case.pk
        return response

    @extend_schema(
        summary="The trace of a case: every event, oldest first",
        parameters=[ID_PARAMETER],
        responses={200: api.EventSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request: Request, pk: str | None = None) -> Response:
        rows = selectors.case_events(user=request.user, pk=parse_pk(pk))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            api.EventSerializer(selectors.label_events(page), many=True).data
        )


add_action_routes(CaseViewSet, CASE)
CaseViewSet.bulk = bulk_route(CASE)


# Dispatches.


@extend_schema_view(
    list=extend_schema(summary="Dispatches of the cases the user may see"),
    retrieve=extend_schema(summary="One dispatch", parameters=[ID_PARAMETER]),
)
class DispatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, IdempotentViewSet):
    queryset = Dispatch.objects.none()
    serializer_class = api.DispatchSerializer
    filterset_class = DispatchFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Dispatch.objects.none()
        return selectors.dispatch_rows(user=self.request.user).order_by("dispatched_at", "id")

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = selectors.with_dispatch_actions(user=request.user, dispatches=page)
        return self.get_paginated_response(api.DispatchSerializer(rows, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        dispatch = self.get_queryset().filter(pk=parse_pk(pk)).first()
        if dispatch is None:
            raise NotInScope()
        (row,) = selectors.with_dispatch_actions(user=request.user, dispatches=[dispatch])
        return Response(api.DispatchSerializer(row).data)


add_action_routes(DispatchViewSet, DISPATCH)
DispatchViewSet.bulk = bulk_route(DISPATCH)


# Postponements.


class PostponementViewSet(IdempotentViewSet):
    """The postponements asked for on the cases' deadlines, decided by the committee."""

    queryset = Case.objects.none()
    serializer_class = api.PostponementDecisionSerializer

    @extend_schema(
        operation_id="postponements_decide",
        summary="Approve or refuse a postponement (committee at the case's level)",
        parameters=[ID_PARAMETER],
        request=api.PostponementDecisionSerializer,
        responses={200: api.CaseDetailSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decide(self, request: Request, pk: str | None = None) -> Response:
        postponement_id = parse_pk(pk)
        case_id = selectors.postponement_case_id(user=request.user, pk=postponement_id)
        data = validated(api.PostponementDecisionSerializer, request)
        services.decide_postponement(
            user=request.user,
            postponement_id=postponement_id,
            approve=data["approve"],
            note=data["note"],
            expected_version=data["version"],
        )
        return case_response(request, case_id)


# Notifications.


@extend_schema_view(list=extend_schema(summary="The user's own notifications, newest first"))
class NotificationViewSet(mixins.ListModelMixin, IdempotentViewSet):
    queryset = Notification.objects.none()
    serializer_class = api.NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notification_rows(user=self.request.user)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            api.NotificationSerializer(selectors.rendered(page), many=True).data
        )

    @extend_schema(
        operation_id="notifications_read",
        summary="Mark some (ids) or all of the user's notifications read",
        request=api.MarkReadSerializer,
        responses={200: api.MarkReadResultSerializer},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def read(self, request: Request) -> Response:
        data = validated(api.MarkReadSerializer, request)
        if data["all"]:
            marked = notifications.mark_all_read(user=request.user)
        else:
            marked = notifications.mark_read(user=request.user, notification_ids=data["ids"])
        return Response({"marked": marked, "unread": notifications.unread_count(user=request.user)})


__all__ = ["CaseViewSet", "DispatchViewSet", "NotificationViewSet", "PostponementViewSet"]
