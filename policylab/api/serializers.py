"""What the policy lab's API reads and returns.

The input serializers check the shape of a request (types, choices); the rules themselves (a
limit above zero, weights that add up to more than zero, a period with cases, ...) are checked
by policylab.services, whose errors come back as 400 with the fields named as the body names
them. The comparison is composed from the replays' stored summaries (Replay.summary).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assessment.api.serializers import PeriodQuerySerializer, PeriodSerializer
from assessment.api.views import period_data
from assessment.indicators import FORMULAS
from cases.api.serializers import RegionRefSerializer, UserRefSerializer
from checklists.models import Stage, TimeUnit
from policylab.models import Replay, Scenario
from policylab.services import RANKED_TYPES, replay_period_of

MAX_ID = 2**63 - 1
DECIMAL = {"max_digits": 12, "decimal_places": 6}
MAX_LIMITS = 20_000
MAX_DAYS = 1_000


# --- the rules --------------------------------------------------------------------------------


class LimitSerializer(serializers.Serializer):
    """One stage's time limit for one checklist item."""

    item = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The item's id.")
    stage = serializers.ChoiceField(
        choices=Stage.choices, help_text="A stage with a clock (not suspension_review)."
    )
    amount = serializers.IntegerField(help_text="More than zero, in `unit`.")
    unit = serializers.ChoiceField(choices=TimeUnit.choices)


class IndicatorWeightInputSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=64, help_text="An indicator's key (a rate or hours).")
    weight = serializers.DecimalField(**DECIMAL, help_text="Zero or more.")
    floor = serializers.DecimalField(
        **DECIMAL,
        required=False,
        allow_null=True,
        default=None,
        help_text="Full marks from this rate (0 to 1); or give a ceiling, not both.",
    )
    ceiling = serializers.DecimalField(
        **DECIMAL,
        required=False,
        allow_null=True,
        default=None,
        help_text="Full marks up to this rate (0 to 1), for a rate that should be low.",
    )


class DeductionInputSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=64, help_text="A kind of deduction.")
    points = serializers.DecimalField(**DECIMAL, help_text="Points deducted each time.")


class SchemeInputSerializer(serializers.Serializer):
    """A scoring scheme: the weight of the towns' evaluation of departments, the indicators'
    weights (adding up to more than zero) and the deductions."""

    town_evaluation_weight = serializers.DecimalField(
        **DECIMAL, required=False, help_text="From 0 to 1."
    )
    indicators = serializers.ListField(
        child=IndicatorWeightInputSerializer(), required=False, max_length=200
    )
    deductions = serializers.ListField(
        child=DeductionInputSerializer(), required=False, max_length=200
    )


class IndicatorWeightSerializer(serializers.Serializer):
    key = serializers.CharField()
    weight = serializers.CharField(help_text="A decimal.")
    floor = serializers.CharField(allow_null=True, help_text="A decimal, or null.")
    ceiling = serializers.CharField(allow_null=True, help_text="A decimal, or null.")


class DeductionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    points = serializers.CharField(help_text="A decimal.")


class SchemeSerializer(serializers.Serializer):
    town_evaluation_weight = serializers.CharField(help_text="A decimal from 0 to 1.")
    indicators = IndicatorWeightSerializer(many=True)
    deductions = DeductionSerializer(many=True)


def scheme_or_none(scheme: dict | None) -> dict | None:
    return scheme or None


class RulesSerializer(serializers.Serializer):
    """Rules as a scenario holds them, or as a replay ran under them."""

    limits = LimitSerializer(many=True)
    holidays = serializers.ListField(child=serializers.DateField())
    workdays = serializers.ListField(child=serializers.DateField())
    yellow_at_percent = serializers.IntegerField(allow_null=True)
    scheme = serializers.SerializerMethodField()

    @extend_schema_field(SchemeSerializer(allow_null=True))
    def get_scheme(self, rules: dict) -> dict | None:
        return scheme_or_none(rules.get("scheme"))


# --- scenarios --------------------------------------------------------------------------------


class ScenarioListSerializer(serializers.ModelSerializer):
    city = RegionRefSerializer()
    holidays = serializers.ListField(child=serializers.DateField(), help_text="Extra holidays.")
    workdays = serializers.ListField(
        child=serializers.DateField(), help_text="Extra working days (调休)."
    )
    created_by = UserRefSerializer()
    replay_count = serializers.SerializerMethodField()

    class Meta:
        model = Scenario
        fields = [
            "id",
            "name",
            "note",
            "city",
            "yellow_at_percent",
            "holidays",
            "workdays",
            "created_by",
            "created_at",
            "updated_at",
            "replay_count",
        ]
        read_only_fields = fields

    def get_replay_count(self, scenario: Scenario) -> int:
        count = getattr(scenario, "replay_count", None)
        return count if count is not None else scenario.replays.count()


class ScenarioSerializer(ScenarioListSerializer):
    """A scenario with all its rules."""

    limits = LimitSerializer(many=True)
    scheme = serializers.SerializerMethodField()

    class Meta(ScenarioListSerializer.Meta):
        fields = [*ScenarioListSerializer.Meta.fields, "limits", "scheme"]
        read_only_fields = fields

    @extend_schema_field(SchemeSerializer(allow_null=True))
    def get_scheme(self, scenario: Scenario) -> dict | None:
        return scheme_or_none(scenario.scheme)


class CreateScenarioSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True)
    city = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text="The city's id; may be left out by a user of one city.",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class UpdateScenarioSerializer(serializers.Serializer):
    """A scenario's name and rules. PUT gives them all; PATCH only those to change (the limits
    given replace those of the same item and stage, the scheme's parts given replace those
    parts)."""

    name = serializers.CharField(max_length=100, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    limits = serializers.ListField(child=LimitSerializer(), max_length=MAX_LIMITS)
    holidays = serializers.ListField(
        child=serializers.DateField(), max_length=MAX_DAYS, help_text="Extra holidays."
    )
    workdays = serializers.ListField(
        child=serializers.DateField(), max_length=MAX_DAYS, help_text="Extra working days (调休)."
    )
    yellow_at_percent = serializers.IntegerField(
        allow_null=True,
        help_text="The yellow light at this share of every limit (1-99); null: each limit's own.",
    )
    scheme = SchemeInputSerializer(allow_null=True, help_text="Null or {}: no scoring scheme.")


# --- replays ----------------------------------------------------------------------------------


class PlaceSerializer(RegionRefSerializer):
    level = serializers.CharField(help_text="city or town")


class ScenarioRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ReplayListSerializer(serializers.ModelSerializer):
    scenario = ScenarioRefSerializer()
    state = serializers.CharField(help_text="queued, running, done, failed or cancelled")
    place = PlaceSerializer(source="region")
    period = serializers.SerializerMethodField()
    requested_by = UserRefSerializer()

    class Meta:
        model = Replay
        fields = [
            "id",
            "name",
            "scenario",
            "place",
            "period",
            "state",
            "cases_done",
            "cases_total",
            "cancel_requested",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "progress_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(PeriodSerializer)
    def get_period(self, replay: Replay) -> dict:
        return PeriodSerializer(period_data(replay_period_of(replay))).data


class IndicatorValueSerializer(serializers.Serializer):
    n = serializers.FloatField(allow_null=True, help_text="The numerator.")
    d = serializers.FloatField(allow_null=True, help_text="The denominator.")
    v = serializers.FloatField(
        allow_null=True, help_text="The value: a fraction for rates, hours for times."
    )


class LevelsSerializer(serializers.Serializer):
    cases = serializers.IntegerField()
    whistled = serializers.IntegerField(help_text="Whistled up to the town.")
    escalated = serializers.IntegerField(
        help_text="Escalated to the city (and maybe on to the prefecture, four levels)."
    )
    overdue = serializers.IntegerField()


class RankEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    indicator_score = serializers.FloatField(allow_null=True)
    deductions = serializers.FloatField(allow_null=True)


class SideSerializer(serializers.Serializer):
    indicators = serializers.DictField(child=IndicatorValueSerializer())
    counts = serializers.DictField(child=serializers.FloatField())
    levels = LevelsSerializer()
    rankings = serializers.DictField(
        child=RankEntrySerializer(many=True), help_text="By unit type: town, village, team..."
    )


class TallySerializer(serializers.Serializer):
    cases = serializers.IntegerField()
    clocks = serializers.IntegerField()
    clocks_replayed = serializers.IntegerField()
    late_clocks_live = serializers.IntegerField()
    late_clocks = serializers.IntegerField()
    warnings_live = serializers.IntegerField()
    warnings = serializers.IntegerField()
    would_escalate = serializers.IntegerField()
    would_escalate_by = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="town, town_consultation, city, and prefecture (four levels, its committee on "
        "the escalation chain)",
    )
    cases_changed = serializers.IntegerField()
    dispatches_changed = serializers.IntegerField()


class SummarySerializer(serializers.Serializer):
    tally = TallySerializer()
    live = SideSerializer(help_text="Counted on the live facts, with the scheme in force.")
    scenario = SideSerializer(help_text="Counted on the replay's facts, with its scheme.")
    counted_at = serializers.DateTimeField()


class ReplaySerializer(ReplayListSerializer):
    rules = RulesSerializer(help_text="The rules the replay ran under.")
    summary = serializers.SerializerMethodField()

    class Meta(ReplayListSerializer.Meta):
        fields = [*ReplayListSerializer.Meta.fields, "rules", "summary"]
        read_only_fields = fields

    @extend_schema_field(SummarySerializer(allow_null=True))
    def get_summary(self, replay: Replay) -> dict | None:
        return replay.summary if replay.state == Replay.State.DONE and replay.summary else None


class RequestReplaySerializer(PeriodQuerySerializer):
    """The scenario, the place (the scenario's city or one of its towns) and the period."""

    scenario = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    place = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The city's or a town's id."
    )
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text="Default: the scenario, the place and the period.",
    )


class ReplayFilterSerializer(serializers.Serializer):
    scenario = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    state = serializers.ChoiceField(choices=Replay.State.choices, required=False)


class ReplayCasesQuerySerializer(serializers.Serializer):
    indicator = serializers.ChoiceField(choices=[(key, key) for key in FORMULAS])
    part = serializers.ChoiceField(
        choices=[("numerator", "numerator"), ("denominator", "denominator")],
        help_text="The cases counted (numerator) or out of which (denominator).",
    )
    side = serializers.ChoiceField(
        choices=[("live", "live"), ("scenario", "scenario")],
        required=False,
        default="scenario",
        help_text="The number under the rules in force (live) or under the replay's rules.",
    )
    unit_type = serializers.ChoiceField(
        choices=[(kind, kind) for kind in ("city", "town", *RANKED_TYPES)],
        required=False,
        help_text="Default: the replay's place; else one of the units it ranks.",
    )
    unit_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)

    def validate(self, data: dict) -> dict:
        if ("unit_type" in data) != ("unit_id" in data):
            raise serializers.ValidationError(
                {"unit_id": [_("Give both the kind of unit and its id, or neither.")]}
            )
        return data


class VerdictSerializer(serializers.Serializer):
    closed = serializers.BooleanField()
    overdue = serializers.BooleanField()
    closed_on_time = serializers.BooleanField()
    overdue_at = serializers.DateTimeField(allow_null=True, help_text="The first limit passed.")
    late_count = serializers.IntegerField(help_text="Limits passed.")


class ChangedQuerySerializer(serializers.Serializer):
    which = serializers.ChoiceField(
        choices=[("verdict", "verdict"), ("would_escalate", "would_escalate")],
        required=False,
        default="verdict",
        help_text="verdict: the cases whose verdict changed (on time <-> late); "
        "would_escalate: the cases the scenario would have sent up sooner.",
    )


class ChangedCaseSerializer(serializers.Serializer):
    case_id = serializers.IntegerField()
    number = serializers.CharField()
    item_id = serializers.IntegerField()
    filed_at = serializers.DateTimeField()
    verdict_changed = serializers.BooleanField()
    live = VerdictSerializer()
    scenario = VerdictSerializer()
    would_escalate_at = serializers.DateTimeField(
        allow_null=True, help_text="When the scenario's timer would have sent the case up."
    )


# --- the comparison ---------------------------------------------------------------------------


class CompareQuerySerializer(serializers.Serializer):
    replay = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        help_text="1 to 3 finished replays of the same place and period (repeat the parameter).",
    )

    def validate_replay(self, value: list[int]) -> list[int]:
        ids = list(dict.fromkeys(value))
        if not ids:
            raise serializers.ValidationError(_("Choose at least one replay."))
        if len(ids) > 3:
            raise serializers.ValidationError(_("Compare at most three replays at a time."))
        return ids


class LimitChangeSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    stage = serializers.CharField()
    amount = serializers.IntegerField(allow_null=True, help_text="The scenario's; null: none.")
    unit = serializers.CharField(allow_null=True)
    in_force_amount = serializers.IntegerField(allow_null=True)
    in_force_unit = serializers.CharField(allow_null=True)


class RulesChangedSerializer(serializers.Serializer):
    limits = LimitChangeSerializer(many=True)
    holidays = serializers.ListField(child=serializers.DateField())
    workdays = serializers.ListField(child=serializers.DateField())
    yellow_at_percent = serializers.IntegerField(allow_null=True)
    scheme_changed = serializers.BooleanField()


class CompareReplaySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    scenario = ScenarioRefSerializer()
    counted_at = serializers.DateTimeField(allow_null=True)
    rules_changed = RulesChangedSerializer(help_text="What differs from the rules in force.")
    cases_changed = serializers.IntegerField(help_text="Cases whose verdict changed.")
    dispatches_changed = serializers.IntegerField()
    would_escalate = serializers.IntegerField(help_text="Cases it would have sent up sooner.")
    would_escalate_by = serializers.DictField(child=serializers.IntegerField())
    changed_cases = serializers.CharField(help_text="The API list of the changed cases.")


class CasesLinksSerializer(serializers.Serializer):
    numerator = serializers.CharField(help_text="The API list of the cases counted.")
    denominator = serializers.CharField(help_text="The API list of the cases out of which.")


class ValueChangeSerializer(IndicatorValueSerializer):
    change = serializers.FloatField(allow_null=True, help_text="Against the rules in force.")
    cases = CasesLinksSerializer(allow_null=True, help_text="The cases behind the numbers.")


class CompareIndicatorSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    target = serializers.FloatField(allow_null=True, help_text="70/20/10 target share, or null.")
    live = IndicatorValueSerializer()
    live_cases = CasesLinksSerializer(allow_null=True, help_text="The cases behind the numbers.")
    replays = ValueChangeSerializer(many=True, help_text="In the order of the replays.")


class CountChangeSerializer(serializers.Serializer):
    value = serializers.IntegerField()
    change = serializers.IntegerField()


class CompareLevelSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="cases, whistled, escalated or overdue")
    label = serializers.CharField()
    live = serializers.IntegerField()
    replays = CountChangeSerializer(many=True)


class ScoreSerializer(serializers.Serializer):
    score = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)


class ScoreChangeSerializer(ScoreSerializer):
    score_change = serializers.FloatField(allow_null=True)
    rank_change = serializers.IntegerField(
        allow_null=True, help_text="Places moved up (positive) or down (negative)."
    )


class CompareUnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    live = ScoreSerializer()
    replays = ScoreChangeSerializer(many=True)


class CompareRankingSerializer(serializers.Serializer):
    unit_type = serializers.CharField(help_text="town, village, team or department")
    units = CompareUnitSerializer(many=True, help_text="In the order of the live ranking.")


class ComparisonSerializer(serializers.Serializer):
    place = PlaceSerializer()
    period = PeriodSerializer()
    counted_at = serializers.DateTimeField(
        allow_null=True, help_text="When the rules in force were counted (the first replay)."
    )
    live_changed = serializers.BooleanField(
        help_text="The live numbers changed between the runs (the first replay's are shown)."
    )
    replays = CompareReplaySerializer(many=True)
    indicators = CompareIndicatorSerializer(many=True)
    levels = CompareLevelSerializer(many=True)
    rankings = CompareRankingSerializer(many=True)
