"""What the consultation API reads and returns. Input serializers check the shape only, as the
page forms do; the rules and their refusals come from consultation.services."""

from rest_framework import serializers

from cases.api.serializers import RefSerializer, TaskSerializer, VersionSerializer
from consultation.models import AgendaItem, Consultation, Invitation
from consultation.services import MAX_AGENDA

MAX_ID = 2**63 - 1


def _id(**kwargs: object) -> serializers.IntegerField:
    """A row id, bounded so that no database is asked about an integer it cannot hold."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def _ids(**kwargs: object) -> serializers.ListField:
    kwargs.setdefault("max_length", 200)
    return serializers.ListField(child=_id(), required=False, default=list, **kwargs)


def _text(max_length: int = 4000, **kwargs: object) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, default="", max_length=max_length, **kwargs
    )


# --- consultations: output ---------------------------------------------------------------------


class AgendaItemSerializer(serializers.ModelSerializer):
    decision = serializers.CharField(
        read_only=True, help_text="pending, tasks, escalate, suspend or close"
    )
    case_id = serializers.IntegerField(read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True)
    case_status = serializers.CharField(source="case.status", read_only=True)
    case_version = serializers.IntegerField(
        source="case.version",
        read_only=True,
        help_text="The case's version, to send with a decision.",
    )

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "order",
            "case_id",
            "case_number",
            "case_status",
            "case_version",
            "decision",
            "decision_text",
            "decided_at",
        ]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    consultation_id = serializers.IntegerField(read_only=True)
    department_id = serializers.IntegerField(read_only=True, allow_null=True)
    team_id = serializers.IntegerField(read_only=True, allow_null=True)
    user_id = serializers.IntegerField(read_only=True, allow_null=True)
    invitee = serializers.CharField(source="invitee_name", read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "consultation_id",
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
    online_link = serializers.CharField(
        read_only=True, help_text="The online meeting's address, or empty."
    )
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
            "attendance_confirmed_at",
            "agenda",
            "invitations",
        ]
        read_only_fields = fields


# --- consultations: input ----------------------------------------------------------------------


class CallConsultationSerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=[(value, value) for value in Consultation.Level.values],
        help_text="The committee: town or city.",
    )
    region = _id(help_text="The committee's town or city.")
    scheduled_at = serializers.DateTimeField(help_text="In the future.")
    place = _text(max_length=200)
    online_link = serializers.URLField(required=False, allow_blank=True, default="", max_length=500)
    cases = serializers.ListField(
        child=_id(),
        max_length=MAX_AGENDA,
        help_text="The cases on the agenda, waiting for this committee, in agenda order.",
    )
    departments = _ids()
    teams = _ids()
    people = _ids(help_text="Lawyers and village officers of the town or city.")


class ArrivalSerializer(serializers.Serializer):
    arrived_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When the invitee arrived (the committee, also after the meeting); absent: now.",
    )


class MinutesSerializer(serializers.Serializer):
    minutes = _text(max_length=20000)


class AgendaDecisionSerializer(VersionSerializer):
    kind = serializers.ChoiceField(
        choices=[
            (value, value)
            for value in (
                AgendaItem.Decision.TASKS,
                AgendaItem.Decision.ESCALATE,
                AgendaItem.Decision.SUSPEND,
                AgendaItem.Decision.CLOSE,
            )
        ],
        help_text="tasks (back to handling), escalate (town only), suspend or close.",
    )
    decision = _text(help_text="The decision and its reasons.")
    review_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="For a suspension."
    )
    tasks = TaskSerializer(many=True, required=False, default=list, max_length=10)


# --- investigations ----------------------------------------------------------------------------


class InvestigationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="planned or done")
    town_id = serializers.IntegerField()
    town_name = serializers.CharField(source="town.name")
    place_name = serializers.CharField()
    address = serializers.CharField()
    grid_id = serializers.IntegerField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    planned_for = serializers.DateTimeField()
    team_id = serializers.IntegerField()
    team_name = serializers.CharField(source="team.name")
    notes = serializers.CharField()
    hotspot_item_id = serializers.IntegerField(allow_null=True)
    hotspot_grid_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)


class InvestigationRowSerializer(InvestigationSerializer):
    finding_count = serializers.IntegerField()


class AttendanceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    department_id = serializers.IntegerField(allow_null=True)
    team_id = serializers.IntegerField(allow_null=True)
    unit = serializers.CharField(source="unit.name")
    present = serializers.BooleanField()
    people = serializers.CharField()


class CheckSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    aspect_id = serializers.IntegerField()
    aspect = serializers.CharField(source="aspect.name")
    checked = serializers.BooleanField()
    finding = serializers.CharField()
    items = RefSerializer(many=True, help_text="The checklist items a finding may be filed as.")


class FindingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    case_number = serializers.CharField(source="case.number")
    aspect_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class InvestigationDetailSerializer(InvestigationSerializer):
    departments = RefSerializer(many=True, source="department_rows")
    attendance = AttendanceSerializer(many=True, source="attendance_rows")
    checks = CheckSerializer(many=True, source="check_rows")
    findings = FindingSerializer(many=True, source="finding_rows")


class PlanInvestigationSerializer(serializers.Serializer):
    town = _id(
        required=False, allow_null=True, default=None, help_text="Default: the user's first town."
    )
    place_name = _text(max_length=200)
    address = _text(max_length=300)
    grid = _id()
    latitude = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=-90, max_value=90
    )
    longitude = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=-180, max_value=180
    )
    planned_for = serializers.DateTimeField()
    team = _id(help_text="The team in charge, of this town.")
    aspects = serializers.ListField(child=_id(), max_length=100)
    departments = _ids()
    notes = _text()
    hotspot_item = _id(required=False, allow_null=True, default=None)
    hotspot_grid = _id(required=False, allow_null=True, default=None)


class AttendedSerializer(serializers.Serializer):
    id = _id(help_text="An attendance row of the investigation.")
    present = serializers.BooleanField()
    people = _text(max_length=300)


class CheckedSerializer(serializers.Serializer):
    id = _id(help_text="A check of the investigation.")
    checked = serializers.BooleanField(required=False, default=False)
    finding = _text(help_text="Filed as a case and routed like any whistle.")
    item = _id(
        required=False,
        allow_null=True,
        default=None,
        help_text="The checklist item of the finding, in the check's aspect.",
    )


class RecordInvestigationSerializer(serializers.Serializer):
    attendance = AttendedSerializer(many=True, required=False, default=list, max_length=200)
    checks = CheckedSerializer(many=True, required=False, default=list, max_length=200)
    notes = _text()
