"""GET/PUT/PATCH /api/me/alerts/: the caller's own alert preference, for the phone app. The
path names no user: nobody else's preference can be read or changed through it. PUT and PATCH
are idempotent by themselves, so they need no Idempotency-Key."""

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.views import ApiViewSet
from teams import alerts
from teams.models import AlertChannel


@extend_schema_field(
    {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "22:00"}
)
class ClockTimeField(serializers.TimeField):
    """A time of day to the minute, "HH:MM", on the installation's clock (TIME_ZONE)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)


class UnreachableSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=AlertChannel.choices)
    message = serializers.CharField(help_text="Why it cannot reach the user, in their language.")


class AlertPreferenceSerializer(serializers.Serializer):
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=AlertChannel.choices),
        allow_null=True,
        allow_empty=True,
        max_length=len(AlertChannel.choices),
        help_text=(
            "The channels of normal alerts, beyond the inbox; null: the defaults (mail and "
            "push); []: the inbox only. Only channels in offered_channels may be chosen."
        ),
    )
    urgent_sms = serializers.BooleanField(
        help_text=(
            "Text urgent alerts at once. When false, an urgent alert still unread after "
            "escalation_minutes is texted then."
        )
    )
    quiet_start = ClockTimeField(
        allow_null=True, help_text="Quiet hours from (local time of the installation), or null."
    )
    quiet_end = ClockTimeField(
        allow_null=True,
        help_text="Quiet hours until; before quiet_start: across midnight. Null with quiet_start.",
    )
    effective_channels = serializers.ListField(
        child=serializers.ChoiceField(choices=AlertChannel.choices),
        read_only=True,
        help_text="The channels normal alerts use now (the choice or the defaults, as offered).",
    )
    offered_channels = serializers.ListField(
        child=serializers.ChoiceField(choices=AlertChannel.choices),
        read_only=True,
        help_text="The channels this installation delivers through.",
    )
    unreachable = UnreachableSerializer(
        many=True, read_only=True, help_text="Channels in use that have no address for the user."
    )
    escalation_minutes = serializers.IntegerField(
        read_only=True,
        help_text=(
            "Minutes after which an unread urgent alert not texted at once is texted (0: never)."
        ),
    )
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Null while the user has the defaults."
    )


def _body(current: alerts.Alerts) -> dict:
    return AlertPreferenceSerializer(
        {
            "channels": list(current.stored_channels)
            if current.stored_channels is not None
            else None,
            "urgent_sms": current.urgent_sms,
            "quiet_start": current.quiet_start,
            "quiet_end": current.quiet_end,
            "effective_channels": list(current.channels),
            "offered_channels": list(current.offered),
            "unreachable": [
                {"channel": row.channel, "message": row.message} for row in current.unreachable
            ],
            "escalation_minutes": settings.WHISTLE_URGENT_ESCALATION_MINUTES,
            "updated_at": current.updated_at,
        }
    ).data


class MeViewSet(ApiViewSet):
    """What belongs to the caller alone."""

    serializer_class = AlertPreferenceSerializer

    @extend_schema(
        methods=["GET"],
        summary="The caller's own alert preference (the defaults while none is stored)",
        responses=AlertPreferenceSerializer,
    )
    @extend_schema(
        methods=["PUT"],
        summary="Set the caller's own alert preference (every field)",
        request=AlertPreferenceSerializer,
        responses=AlertPreferenceSerializer,
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Change some fields of the caller's own alert preference",
        request=AlertPreferenceSerializer,
        responses=AlertPreferenceSerializer,
    )
    @action(detail=False, methods=["get", "put", "patch"], url_path="alerts")
    def alerts(self, request: Request) -> Response:
        user = request.user
        current = alerts.alerts_of(user=user)
        if request.method == "GET":
            return Response(_body(current))
        serializer = AlertPreferenceSerializer(data=request.data, partial=request.method == "PATCH")
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stored = list(current.stored_channels) if current.stored_channels is not None else None
        alerts.set_alert_preference(
            user=user,
            channels=data.get("channels", stored),
            urgent_sms=data.get("urgent_sms", current.urgent_sms),
            quiet_start=data.get("quiet_start", current.quiet_start),
            quiet_end=data.get("quiet_end", current.quiet_end),
        )
        return Response(_body(alerts.alerts_of(user=user)))
