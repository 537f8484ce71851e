"""What the spot-check API reads and returns. Input serializers check the shape only, as the
page forms do; the rules and their refusals come from spotchecks.services."""

from rest_framework import serializers

from cases.api.serializers import VersionSerializer
from spotchecks.models import SpotCheck, SpotCheckCase

MAX_ID = 2**63 - 1


def _id(**kwargs: object) -> serializers.IntegerField:
    """A row id, bounded so that no database is asked about an integer it cannot hold."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class RevisitSerializer(VersionSerializer):
    """The registry's input of `record_spot_check` (api:case-record-spot-check)."""

    outcome = serializers.ChoiceField(
        choices=[
            (SpotCheckCase.Outcome.CONFIRMED, "confirmed"),
            (SpotCheckCase.Outcome.FALSE_REPLY, "false_reply"),
        ],
        help_text="confirmed, or false_reply: not actually resolved (reopened to the same unit).",
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=4000,
        help_text="Required for false_reply: what is still wrong.",
    )
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        max_length=20,
        help_text="Photos of the revisit (multipart/form-data, the field repeated); at least "
        "one for false_reply.",
    )


class DrawSerializer(serializers.Serializer):
    city = _id(
        required=False, allow_null=True, default=None, help_text="Default: the user's first city."
    )
    team = _id(required=False, allow_null=True, default=None)
    department = _id(required=False, allow_null=True, default=None)
    closed_from = serializers.DateField(help_text="First closing day (local), included.")
    closed_to = serializers.DateField(help_text="Last closing day (local), included.")
    size = serializers.IntegerField(
        min_value=0, max_value=10**6, help_text="How many of the unit's closed cases to draw."
    )
    seed = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=2**31 - 1,
        help_text="Repeat a recorded draw; default: a new random seed, recorded.",
    )


class DrawnCaseSerializer(serializers.ModelSerializer):
    case_id = serializers.IntegerField(read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True)
    case_status = serializers.CharField(source="case.status", read_only=True)
    case_version = serializers.IntegerField(
        source="case.version", read_only=True, help_text="To send with the revisit's outcome."
    )
    dispatch_id = serializers.IntegerField(read_only=True)
    outcome = serializers.CharField(read_only=True, help_text="pending, confirmed or false_reply")
    recorded_by = serializers.CharField(
        source="recorded_by.get_username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = SpotCheckCase
        fields = [
            "position",
            "case_id",
            "case_number",
            "case_status",
            "case_version",
            "dispatch_id",
            "outcome",
            "note",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class SpotCheckSerializer(serializers.ModelSerializer):
    city_id = serializers.IntegerField(read_only=True)
    team_id = serializers.IntegerField(read_only=True, allow_null=True)
    department_id = serializers.IntegerField(read_only=True, allow_null=True)
    unit = serializers.CharField(source="unit.name", read_only=True)
    drawn_by = serializers.CharField(source="drawn_by.get_username", read_only=True)
    population = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="The ids of the closed cases drawn from, ascending: with the seed, the draw "
        "can be repeated.",
    )

    class Meta:
        model = SpotCheck
        fields = [
            "id",
            "city_id",
            "team_id",
            "department_id",
            "unit",
            "closed_from",
            "closed_to",
            "size",
            "seed",
            "population",
            "drawn_by",
            "drawn_at",
        ]
        read_only_fields = fields


class SpotCheckDetailSerializer(SpotCheckSerializer):
    cases = DrawnCaseSerializer(many=True, read_only=True, source="drawn")

    class Meta(SpotCheckSerializer.Meta):
        fields = [*SpotCheckSerializer.Meta.fields, "cases"]
        read_only_fields = fields
