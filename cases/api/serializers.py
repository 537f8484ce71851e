"""What the case API reads and returns. Input serializers check the shape only (as the page
forms do); the rules and their refusals come from the case services."""

from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.models import (
    Attachment,
    Case,
    Deadline,
    Dispatch,
    Event,
    Notification,
    Postponement,
    Satisfaction,
)
from cases.rejections import COMMON_REASONS
from cases.workflow import CASE, DISPATCH, REGISTRY
from checklists.models import Item, TimeUnit
from checklists.selectors import item_by_pk
from teams.models import Grid
from teams.selectors import grid_with_regions

LIGHTS = ("green", "yellow", "red", "")


def _id(**kwargs: object) -> serializers.IntegerField:
    """A row id, bounded so that no database is asked about an integer it cannot hold."""
    return serializers.IntegerField(min_value=1, max_value=2**63 - 1, **kwargs)


class RefSerializer(serializers.Serializer):
    """A related row by id, code and name in the reader's language."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class RegionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: object) -> str:
        return user.get_full_name() or user.get_username()


class CaseRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class CaseListSerializer(serializers.ModelSerializer):
    item = RefSerializer()
    grid = RefSerializer()
    village = RegionRefSerializer()
    light = serializers.ChoiceField(
        choices=LIGHTS, help_text="Warning light of the running case-level deadline."
    )
    light_due_at = serializers.DateTimeField(
        allow_null=True, help_text="Due time of the running case-level deadline."
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "status",
            "level",
            "source",
            "priority",
            "item",
            "grid",
            "village",
            "address",
            "description",
            "version",
            "filed_at",
            "updated_at",
            "light",
            "light_due_at",
        ]


class PostponementSerializer(serializers.ModelSerializer):
    requested_by = UserRefSerializer()
    decided_by = UserRefSerializer(allow_null=True)

    class Meta:
        model = Postponement
        fields = [
            "id",
            "deadline",
            "reason",
            "amount",
            "unit",
            "requested_by",
            "requested_at",
            "decision",
            "decided_by",
            "decided_at",
            "decision_note",
        ]


class DeadlineSerializer(serializers.ModelSerializer):
    light = serializers.ChoiceField(choices=LIGHTS)
    time_left_seconds = serializers.IntegerField(
        allow_null=True, help_text="Time left in the limit's own time; negative when overdue."
    )
    running = serializers.BooleanField()
    postponements = PostponementSerializer(many=True, source="postponement_rows")

    class Meta:
        model = Deadline
        fields = [
            "id",
            "stage",
            "dispatch",
            "amount",
            "unit",
            "started_at",
            "warn_at",
            "due_at",
            "met_at",
            "fired_at",
            "paused_at",
            "postponed",
            "running",
            "light",
            "time_left_seconds",
            "postponements",
        ]


class DispatchSerializer(serializers.ModelSerializer):
    team = RefSerializer(allow_null=True)
    department = RefSerializer(allow_null=True)
    assignee = UserRefSerializer(allow_null=True)
    available_actions = serializers.ListField(
        child=serializers.ChoiceField(choices=[a.name for a in REGISTRY.of(DISPATCH)]),
        help_text="Dispatch actions the requesting user may take now.",
    )

    class Meta:
        model = Dispatch
        fields = [
            "id",
            "case",
            "team",
            "department",
            "origin",
            "task",
            "state",
            "dispatched_at",
            "report_in_due",
            "reported_in_at",
            "late",
            "assignee",
            "handling_note",
            "handled_at",
            "resolved_at",
            "due_at",
            "returned_at",
            "return_reason",
            "return_note",
            "return_ruling",
            "return_ruled_at",
            "available_actions",
        ]


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "kind",
            "purpose",
            "event",
            "dispatch",
            "original_name",
            "content_type",
            "size",
            "state",  # a photo is served once "ready" (re-encoded by a worker)
            "public",
            "created_at",
            "url",
        ]

    def get_url(self, attachment: Attachment) -> str:
        return reverse("cases:attachment", args=[attachment.pk])


class CaseDetailSerializer(serializers.ModelSerializer):
    item = RefSerializer()
    grid = RefSerializer()
    village = RegionRefSerializer()
    town = RegionRefSerializer()
    city = RegionRefSerializer()
    reporter = UserRefSerializer(allow_null=True)
    possible_duplicate_of = CaseRefSerializer(allow_null=True)
    merged_into = CaseRefSerializer(allow_null=True)
    rejection_code = serializers.CharField(
        read_only=True,
        help_text="The code of a common reason for rejection (not_on_list, dispute, duplicate, "
        "merged), or empty.",
    )
    rejection_reason = serializers.CharField(
        source="reason_for_rejection",
        read_only=True,
        help_text="Why it was not accepted, in the language asked for (Accept-Language).",
    )
    light = serializers.ChoiceField(choices=LIGHTS)
    dispatches = DispatchSerializer(many=True, source="dispatch_rows")
    deadlines = DeadlineSerializer(many=True, source="deadline_rows")
    attachments = AttachmentSerializer(many=True, source="attachment_rows")
    available_actions = serializers.ListField(
        child=serializers.ChoiceField(choices=[a.name for a in REGISTRY.of(CASE)]),
        help_text="Case actions the requesting user may take now.",
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "status",
            "level",
            "source",
            "priority",
            "item",
            "grid",
            "village",
            "town",
            "city",
            "latitude",
            "longitude",
            "address",
            "description",
            "reporter",
            "version",
            "rework_count",
            "possible_duplicate_of",
            "merged_into",
            "rejection_code",
            "rejection_reason",
            "redirect",
            "resolution_note",
            "legal_instrument_number",
            "satisfaction",
            "resolved_level",
            "filed_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "light",
            "dispatches",
            "deadlines",
            "attachments",
            "available_actions",
        ]


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor_name", help_text="Who acted: a person's name, or the timer."
    )
    actor_id = serializers.IntegerField(allow_null=True)
    label = serializers.CharField(help_text="What happened, in the reader's language.")
    data = serializers.DictField(help_text="The event's details as recorded.")

    class Meta:
        model = Event
        fields = [
            "id",
            "action",
            "label",
            "actor",
            "actor_id",
            "actor_label",
            "dispatch",
            "from_status",
            "to_status",
            "from_level",
            "to_level",
            "data",
            "public",
            "created_at",
        ]


class NotificationSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(allow_null=True)
    subject = serializers.CharField(help_text="In the reader's language.")
    body = serializers.CharField(help_text="In the reader's language.")

    class Meta:
        model = Notification
        fields = ["id", "kind", "case", "case_number", "subject", "body", "created_at", "read_at"]


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=_id(), required=False, max_length=1000)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, data: dict) -> dict:
        if not data.get("all") and not data.get("ids"):
            raise serializers.ValidationError(
                {"ids": [_("Give the ids to mark read, or all: true.")]}
            )
        return data


class MarkReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


# Input of the actions.


def _text(**kwargs: object) -> serializers.CharField:
    kwargs.setdefault("max_length", 4000)
    return serializers.CharField(required=False, allow_blank=True, default="", **kwargs)


def _photos() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        max_length=20,
        help_text="Photos (multipart/form-data, the field repeated).",
    )


class ReferencePrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A PrimaryKeyRelatedField that finds its row through a selector of reference data
    (kept in the process, see core.reference) instead of a query per request; it accepts
    and refuses exactly what `queryset` would (the queryset still documents the schema)."""

    def __init__(
        self,
        *,
        find: Callable[[int], Model | None],
        accept: Callable[[Any], bool] = lambda row: True,
        **kwargs: Any,
    ) -> None:
        self.find = find
        self.accept = accept
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Model:
        model = self.queryset.model
        try:
            if isinstance(data, bool):
                raise TypeError
            pk = model._meta.pk.get_prep_value(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        # A row id the database could not hold names no row, as the queryset would find.
        found = self.find(pk) if pk is not None and -(2**63) <= pk < 2**63 else None
        if found is None or not self.accept(found):
            self.fail("does_not_exist", pk_value=data)
        return found


class FileWhistleSerializer(serializers.Serializer):
    item = ReferencePrimaryKeyField(
        queryset=Item.objects.filter(active=True),
        find=lambda pk: item_by_pk(pk=pk),
        accept=lambda item: item.active,
    )
    description = _text()
    grid = ReferencePrimaryKeyField(
        queryset=Grid.objects.select_related("village__parent__parent"),
        find=lambda pk: grid_with_regions(pk=pk),
        required=False,
        allow_null=True,
        default=None,
    )
    latitude = serializers.FloatField(required=False, allow_null=True, default=None)
    longitude = serializers.FloatField(required=False, allow_null=True, default=None)
    address = _text(max_length=300)
    photos = _photos()


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, help_text="The case's version the client read."
    )


class RejectSerializer(VersionSerializer):
    reason_code = serializers.ChoiceField(
        choices=[reason.value for reason in COMMON_REASONS],
        required=False,
        allow_blank=True,
        default="",
        help_text="A common reason by its code, read in each reader's language.",
    )
    reason = _text(help_text="Own words; needed without a reason_code.")
    redirect = _text(help_text="Where to go instead.")


class MergeSerializer(VersionSerializer):
    into = serializers.CharField(
        max_length=32, help_text="The number (or id) of the open case of this village it repeats."
    )


class NoteSerializer(VersionSerializer):
    note = _text()


class NotePhotosSerializer(VersionSerializer):
    note = _text()
    photos = _photos()


class ResolveSerializer(NotePhotosSerializer):
    legal_instrument_number = _text(max_length=64)


class ReasonSerializer(VersionSerializer):
    reason = _text()


class TaskSerializer(serializers.Serializer):
    team = _id(required=False, allow_null=True, default=None)
    department = _id(required=False, allow_null=True, default=None)
    action = _text(help_text="What must be done.")
    due_at = serializers.DateTimeField()


class DecideSerializer(VersionSerializer):
    decision = _text()
    tasks = TaskSerializer(many=True, allow_empty=True, max_length=50)


class VerifySerializer(VersionSerializer):
    passed = serializers.BooleanField()
    reason = _text()
    photos = _photos()


class SuspendSerializer(VersionSerializer):
    reason = _text()
    review_on = serializers.DateField()


class RequestSuspensionSerializer(VersionSerializer):
    reason = _text(help_text="Required: why the case cannot be solved for now.")
    review_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The proposed review date."
    )


class ReviewSuspensionSerializer(VersionSerializer):
    approve = serializers.BooleanField(
        help_text="true: the case is suspended until the review date; false: refused."
    )
    review_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When approving: another review date than the proposed one.",
    )
    note = _text(help_text="Required when refusing: the requester reads it.")


class RescheduleReviewSerializer(VersionSerializer):
    review_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The new review date."
    )
    note = _text()


class EvaluateSerializer(VersionSerializer):
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)
    comment = _text(max_length=1000)


class AddDispatchSerializer(VersionSerializer):
    team = _id(required=False, allow_null=True, default=None)
    department = _id(required=False, allow_null=True, default=None)
    task = _text()


class RequestPostponementSerializer(VersionSerializer):
    deadline = _id()
    amount = serializers.IntegerField(min_value=1, max_value=1000)
    unit = serializers.ChoiceField(choices=TimeUnit.choices)
    reason = _text()


class PostUpdateSerializer(VersionSerializer):
    message = _text(
        max_length=1000, help_text="The message the citizen reads (tracking page, Open311)."
    )
    photos = _photos()


class PublishPhotoSerializer(VersionSerializer):
    attachment = _id(help_text="The id of a photo or document of this case.")
    public = serializers.BooleanField(help_text="true: the public sees it; false: internal.")


class PublishCaseSerializer(VersionSerializer):
    public = serializers.BooleanField(
        help_text="true: the public reads the whistle's text, address and photos; false: not."
    )


class AssignSerializer(VersionSerializer):
    assignee = _id()


class ReturnDispatchSerializer(VersionSerializer):
    return_reason = serializers.ChoiceField(
        choices=Dispatch.ReturnReason.choices, help_text="Why the dispatch is returned."
    )
    note = _text(help_text="Required: what the committee needs to know to dispatch it again.")


class ReviewReturnSerializer(VersionSerializer):
    return_ruling = serializers.ChoiceField(
        choices=Dispatch.ReturnRuling.choices,
        help_text="upheld: the committee dispatches elsewhere; overruled: the same unit again.",
    )
    note = _text()


class TransferSerializer(VersionSerializer):
    village = _id(
        help_text="The village the case moves to: of the actor's town (town committee) or "
        "city (city committee), not its own."
    )
    reason = _text(help_text="Required: why the case is transferred.")


class TransferDispatchSerializer(VersionSerializer):
    team = _id(required=False, allow_null=True, default=None)
    department = _id(required=False, allow_null=True, default=None)
    reason = _text(help_text="Required: why the dispatch is moved to this team or department.")


class SuperviseSerializer(VersionSerializer):
    note = _text(help_text="What the unit must do by the deadline.")
    due_at = serializers.DateTimeField(help_text="The order's own deadline, in the future.")


class PostponementDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = _text()
    version = serializers.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        required=False,
        allow_null=True,
        default=None,
        help_text="The case's version the client read (optional here).",
    )


_shared: dict[type, serializers.Serializer] = {}


def represent(serializer_class: type[serializers.Serializer], instance: object) -> dict:
    """The output of an output-only serializer, from one instance per class kept for the
    process: DRF otherwise builds every (nested) field from the model for each response, a
    few milliseconds for the case detail. Its fields keep no state between calls."""
    serializer = _shared.get(serializer_class)
    if serializer is None:
        serializer = _shared[serializer_class] = serializer_class()
    return serializer.to_representation(instance)
