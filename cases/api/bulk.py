"""The API's bulk actions: POST /api/cases/bulk/ and /api/dispatches/bulk/ with
{"action", "ids", "data"}, answered with what became of each row (its own status code and
message, in the request's language). Each row goes through perform() on its own, exactly as
the pages' bulk form (cases.services.bulk); an Idempotency-Key replays the first answer and
performs nothing again (cases.api.idempotency)."""

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.services.bulk import BULK_ACTIONS, MAX_ROWS, perform_bulk
from cases.workflow import CASE, DISPATCH

MAX_ID = 2**63 - 1


class BulkDataSerializer(serializers.Serializer):
    """The input every row's action shares: `assignee` to assign, `note` to urge."""

    assignee = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="assign: the member's user id."
    )
    note = serializers.CharField(
        max_length=4000,
        required=False,
        allow_blank=True,
        help_text="urge: what the units must do now.",
    )


def bulk_request_serializer(on: str) -> type[serializers.Serializer]:
    """The body of a bulk request on cases or on dispatches."""

    class BulkRequestSerializer(serializers.Serializer):
        action = serializers.ChoiceField(
            choices=list(BULK_ACTIONS[on]), help_text="The action taken on every row."
        )
        ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
            min_length=1,
            max_length=MAX_ROWS,
            help_text=f"The {'case' if on == CASE else 'dispatch'} ids, at most {MAX_ROWS}.",
        )
        data = BulkDataSerializer(required=False)

        def validate(self, attrs: dict) -> dict:
            data = attrs.get("data") or {}
            if attrs["action"] == "assign" and not data.get("assignee"):
                raise serializers.ValidationError(
                    {"data": {"assignee": [_("Choose the member to assign.")]}}
                )
            if attrs["action"] == "urge" and not (data.get("note") or "").strip():
                raise serializers.ValidationError(
                    {"data": {"note": [_("Say what the units must do now.")]}}
                )
            return attrs

    name = "Case" if on == CASE else "Dispatch"
    BulkRequestSerializer.__name__ = f"{name}BulkRequestSerializer"
    BulkRequestSerializer.__qualname__ = BulkRequestSerializer.__name__
    return BulkRequestSerializer


CaseBulkRequestSerializer = bulk_request_serializer(CASE)
DispatchBulkRequestSerializer = bulk_request_serializer(DISPATCH)


class RowResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.IntegerField(
        help_text="What the row alone would have answered: 200 done; 400, 403, 404 or 409."
    )
    code = serializers.CharField(help_text='"done", or the refusal\'s error code.')
    message = serializers.CharField(help_text="In the request's language.")


class BulkResultSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    refused = serializers.IntegerField()
    results = RowResultSerializer(many=True)


def bulk_route(on: str) -> Callable:
    """The viewset's POST .../bulk/ route for its kind of row."""
    request_serializer = CaseBulkRequestSerializer if on == CASE else DispatchBulkRequestSerializer
    kind = "cases" if on == CASE else "dispatches"

    def bulk(self, request: Request) -> Response:
        body = request_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        shared = {key: value for key, value in (data.get("data") or {}).items() if value}
        results = perform_bulk(
            user=request.user, on=on, action=data["action"], ids=data["ids"], data=shared
        )
        done = sum(result.done for result in results)
        return Response(
            {
                "done": done,
                "refused": len(results) - done,
                "results": [
                    {"id": r.id, "status": r.status, "code": r.code, "message": r.message}
                    for r in results
                ],
            }
        )

    bulk.__doc__ = f"Take one action on several {kind}, each row on its own."
    return extend_schema(
        operation_id=f"{kind}_bulk",
        summary=f"Take one action on several {kind}: each row is done or refused on its own",
        request=request_serializer,
        responses={200: BulkResultSerializer},
    )(
        action(
            detail=False,
            methods=["post"],
            url_path="bulk",
            url_name="bulk",
            filter_backends=[],
            pagination_class=None,
        )(bulk)
    )
