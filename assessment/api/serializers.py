"""What the assessment API reads and returns. The query serializers check the shape of the
parameters the dashboard pages take (the period, the unit, the indicator); the scope and the
numbers come from assessment.selectors."""

from datetime import date
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from assessment import dashboard as board
from assessment.indicators import UNIT_TYPES
from assessment.models import TownEvaluation
from assessment.periods import KINDS, parse_period
from cases.api.serializers import RefSerializer, RegionRefSerializer

MAX_ID = 2**63 - 1
# Periods are read within these days: far enough for any record, near enough that the period
# before and the trend stay valid dates.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
FILE_FORMATS = ("csv", "xlsx")


def _day(**kwargs: object) -> serializers.DateField:
    return serializers.DateField(required=False, **kwargs)


# --- query parameters --------------------------------------------------------------------------


class PeriodQuerySerializer(serializers.Serializer):
    """The period, as the pages take it: a kind and a day in it (default: this month), or a
    custom range from start to end (both days included)."""

    kind = serializers.ChoiceField(choices=[(k, k) for k in KINDS], required=False)
    anchor = _day(help_text="Any day in the period (YYYY-MM-DD); default today.")
    start = _day(help_text="First day of a custom range.")
    end = _day(help_text="Last day of a custom range.")

    def validate(self, data: dict) -> dict:
        for name in ("anchor", "start", "end"):
            day = data.get(name)
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise serializers.ValidationError(
                    {name: [_("Enter a date between 1970 and 2999.")]}
                )
        query = {
            name: str(data[name]) for name in ("kind", "anchor", "start", "end") if name in data
        }
        try:
            data["period"] = parse_period(query)
        except ValueError as error:
            raise serializers.ValidationError({"period": [str(error)]}) from None
        return data


class UnitQuerySerializer(PeriodQuerySerializer):
    unit_type = serializers.ChoiceField(
        choices=[(t, t) for t in UNIT_TYPES],
        required=False,
        help_text="Default: the user's own unit (their city, town, village, team or department).",
    )
    unit_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)

    def validate(self, data: dict) -> dict:
        data = super().validate(data)
        if data.get("unit_type") and data.get("unit_id") is None:
            raise serializers.ValidationError({"unit_id": [_("Give the unit's id.")]})
        if data.get("unit_id") is not None and not data.get("unit_type"):
            raise serializers.ValidationError({"unit_type": [_("Give the kind of unit.")]})
        return data


class FileQueryMixin(serializers.Serializer):
    file_format = serializers.ChoiceField(
        choices=[(f, f) for f in FILE_FORMATS], required=False, default="csv"
    )


class IndicatorsQuerySerializer(UnitQuerySerializer):
    trend = serializers.IntegerField(
        min_value=0,
        max_value=60,
        required=False,
        default=0,
        help_text="Also the indicators of this many periods up to the chosen one.",
    )


class IndicatorsExportQuerySerializer(FileQueryMixin, UnitQuerySerializer):
    table = serializers.ChoiceField(
        choices=[("indicators", "indicators"), ("levels", "levels"), ("trend", "trend")],
        required=False,
        default="indicators",
        help_text="The overview's table: the indicators, the level distribution or the trend.",
    )


class RankingQuerySerializer(PeriodQuerySerializer):
    type = serializers.ChoiceField(
        choices=[(t, t) for t in board.RANKED_TYPES], required=False, default="department"
    )


class RankingExportQuerySerializer(FileQueryMixin, RankingQuerySerializer):
    pass


def counted_indicator(key: str) -> str:
    """An indicator this deployment counts: the prefecture's level share only where its
    committee sits on the escalation chain (assessment.dashboard.listed)."""
    if not board.listed(key):
        raise serializers.ValidationError(_("This deployment does not count this indicator."))
    return key


class CasesQuerySerializer(UnitQuerySerializer):
    indicator = serializers.ChoiceField(
        choices=[(k, k) for k in board.ALL_KEYS], validators=[counted_indicator]
    )
    part = serializers.ChoiceField(
        choices=[("numerator", "numerator"), ("denominator", "denominator")],
        help_text="The cases counted (numerator) or out of which (denominator).",
    )


class CasesExportQuerySerializer(FileQueryMixin, UnitQuerySerializer):
    indicator = serializers.ChoiceField(
        choices=[(k, k) for k in board.ALL_KEYS], validators=[counted_indicator]
    )
    part = serializers.ChoiceField(
        choices=[("numerator", "numerator"), ("denominator", "denominator")]
    )


class HotSpotQuerySerializer(PeriodQuerySerializer):
    item = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Only this checklist item."
    )


class HotSpotExportQuerySerializer(FileQueryMixin, HotSpotQuerySerializer):
    pass


class OverdueQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, required=False, default=20)


# --- responses ---------------------------------------------------------------------------------


class UnitSerializer(serializers.Serializer):
    type = serializers.CharField(
        help_text="city, town, village, grid, grid_worker, team or department"
    )
    id = serializers.IntegerField()
    name = serializers.CharField()


class PeriodSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="day, week, month, quarter, year or custom")
    start = serializers.DateField()
    end = serializers.DateField(source="last_day", help_text="The last day, included.")
    label = serializers.CharField()


class IndicatorSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField(help_text="In the reader's language.")
    value = serializers.FloatField(
        allow_null=True, help_text="A fraction (0.6 is 60 %) for rates and shares; hours for times."
    )
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    previous_value = serializers.FloatField(
        allow_null=True, help_text="The value in the period before."
    )
    target = serializers.FloatField(
        allow_null=True, help_text="The target share of who solved them (70/20/10 %), else null."
    )
    counted_at = serializers.DateTimeField(
        allow_null=True, help_text="When counted, if the stored counts are being renewed."
    )
    numerator_cases = serializers.CharField(help_text="The API list of the cases counted.")
    denominator_cases = serializers.CharField(help_text="The API list of the cases out of which.")


class TrendPointSerializer(serializers.Serializer):
    period = PeriodSerializer()
    indicators = IndicatorSerializer(many=True)


class IndicatorsSerializer(serializers.Serializer):
    unit = UnitSerializer()
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    indicators = IndicatorSerializer(many=True)
    trend = TrendPointSerializer(many=True, help_text="Oldest first; empty unless asked.")


class RankRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    unit_id = serializers.IntegerField()
    unit_name = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    indicator_score = serializers.FloatField(allow_null=True)
    town_evaluation = serializers.FloatField(
        allow_null=True, help_text="Departments: the towns' mean evaluation."
    )
    deductions = serializers.FloatField()
    indicators = IndicatorSerializer(many=True)


class RankingSerializer(serializers.Serializer):
    unit_type = serializers.CharField()
    period = PeriodSerializer()
    rows = RankRowSerializer(many=True, help_text="Best first; units without a score last.")


class AssessmentCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    level = serializers.CharField()
    item = RefSerializer()
    village = RegionRefSerializer()
    grid = RefSerializer()
    filed_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class OverdueCaseSerializer(AssessmentCaseSerializer):
    overdue_since = serializers.DateTimeField(help_text="The earliest limit it has passed.")


class HotSpotItemSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class HotSpotSerializer(serializers.Serializer):
    grid_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    total = serializers.IntegerField(help_text="Cases filed in the grid in the period.")
    items = HotSpotItemSerializer(many=True, help_text="Per item, the most frequent first.")


class TownEvaluationSerializer(serializers.ModelSerializer):
    town_id = serializers.IntegerField(read_only=True)
    town_name = serializers.CharField(source="town.name", read_only=True)
    department_id = serializers.IntegerField(read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    evaluated_by_id = serializers.IntegerField(read_only=True)
    replaces_id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The evaluation of the same month this one corrects (rows are never changed).",
    )

    class Meta:
        model = TownEvaluation
        fields = [
            "id",
            "town_id",
            "town_name",
            "department_id",
            "department_name",
            "month",
            "score",
            "note",
            "evaluated_by_id",
            "updated_at",
            "replaces_id",
        ]
        read_only_fields = fields


class TownEvaluationQuerySerializer(serializers.Serializer):
    month = _day(help_text="Any day of the month; default this month.")


class RecordTownEvaluationSerializer(serializers.Serializer):
    town = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: the user's first town.",
    )
    department = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    month = serializers.DateField(help_text="The current month or the one before (any day).")
    score = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        help_text="From 0 to 100.",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
