"""Admin pages for cases: read-only, because every change goes through the case services
(the transition table is the only writer of status); administrators read the trace here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cases.models import (
    Attachment,
    Case,
    Deadline,
    Delivery,
    Dispatch,
    Event,
    IdempotencyKey,
    Notification,
    Postponement,
    SupervisionOrder,
    SuspensionRequest,
)
from teams.levels import CITY, TOWN, VILLAGE, level_label


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and details only: no add, change or delete from the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class DispatchInline(ReadOnlyInline):
    model = Dispatch
    fields = [
        "team",
        "department",
        "state",
        "dispatched_at",
        "report_in_due",
        "reported_in_at",
        "late",
    ]
    readonly_fields = fields


class DeadlineInline(ReadOnlyInline):
    model = Deadline
    fields = ["stage", "dispatch", "due_at", "warned_at", "fired_at", "met_at", "paused_at"]
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = Event
    fields = [
        "created_at",
        "action",
        "actor",
        "actor_label",
        "from_status",
        "to_status",
        "to_level",
    ]
    readonly_fields = fields
    show_change_link = False


class TownFilter(admin.RelatedFieldListFilter):
    """The case's middle-level region, titled with the deployment's name for it."""

    @property
    def title(self) -> str:
        return level_label(TOWN)

    @title.setter
    def title(self, value: str) -> None:
        pass  # set from the field's verbose name by the base class: the level name wins


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "item", "status", "level", "village_name", "town_name", "filed_at"]
    list_filter = ["status", "level", "source", "priority", ("town", TownFilter), "item__aspect"]
    search_fields = ["number", "tracking_code", "description", "address"]
    date_hierarchy = "filed_at"
    list_select_related = ["item", "village", "town"]
    inlines = [DispatchInline, DeadlineInline, EventInline]

    # The regions' columns take the deployment's level names (the fields' verbose names are
    # the generic tier words, kept out of the migrations).
    @admin.display(description=level_label(VILLAGE), ordering="village")
    def village_name(self, case: Case):
        return case.village

    @admin.display(description=level_label(TOWN), ordering="town")
    def town_name(self, case: Case):
        return case.town

    @admin.display(description=level_label(CITY))
    def city_name(self, case: Case):
        return case.city

    readonly_fields = ["village_name", "town_name", "city_name"]
    _NAMED = {"village": "village_name", "town": "town_name", "city": "city_name"}

    def get_fields(self, request, obj=None):
        fields = [self._NAMED.get(name, name) for name in super().get_fields(request, obj)]
        return list(dict.fromkeys(fields))  # each once, where the field stood


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "team",
        "department",
        "state",
        "report_in_due",
        "reported_in_at",
        "late",
    ]
    list_filter = [
        "state",
        "late",
        "origin",
        "return_reason",
        "return_ruling",
        "team",
        "department",
    ]
    search_fields = ["case__number"]
    list_select_related = ["case", "team", "department"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "case",
        "action",
        "actor",
        "actor_label",
        "from_status",
        "to_status",
    ]
    list_filter = ["action", "to_status", "to_level"]
    search_fields = ["case__number", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["case", "actor"]


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "stage",
        "dispatch",
        "due_at",
        "warned_at",
        "fired_at",
        "met_at",
        "paused_at",
    ]
    list_filter = ["stage", "postponed", ("fired_at", admin.EmptyFieldListFilter)]
    search_fields = ["case__number"]
    list_select_related = ["case"]


@admin.register(Postponement)
class PostponementAdmin(ReadOnlyAdmin):
    list_display = ["case", "deadline", "amount", "unit", "decision", "requested_at", "decided_at"]
    list_filter = ["decision"]
    search_fields = ["case__number", "reason"]


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(ReadOnlyAdmin):
    """Orders are issued and met through the case services (the `supervise` action and the
    resolution of the unit's part); the admin reads them, late ones first by deadline."""

    list_display = ["case", "dispatch", "issued_by", "issued_at", "due_at", "met_at"]
    list_filter = [("met_at", admin.EmptyFieldListFilter), "issued_at"]
    search_fields = ["case__number", "note"]
    list_select_related = ["case", "dispatch__team", "dispatch__department", "issued_by"]
    date_hierarchy = "due_at"


@admin.register(SuspensionRequest)
class SuspensionRequestAdmin(ReadOnlyAdmin):
    """Requested and decided through the case services (`request_suspension`,
    `review_suspension`); the admin reads them."""

    list_display = ["case", "requested_by", "requested_at", "review_on", "state", "decided_at"]
    list_filter = ["state", "requested_at"]
    search_fields = ["case__number", "reason", "decision_note"]
    list_select_related = ["case", "requested_by"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = [
        "case",
        "kind",
        "purpose",
        "state",
        "public",
        "original_name",
        "size",
        "created_at",
    ]
    list_filter = ["kind", "purpose", "state", "public"]
    search_fields = ["case__number", "original_name"]


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = [
        "channel",
        "status",
        "skip_reason",
        "attempts",
        "not_before",
        "sent_at",
        "provider_id",
        "last_error",
    ]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "kind", "case", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["recipient__username", "case__number"]
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """Each notification's journey per channel: what failed, why, and when it is retried."""

    list_display = [
        "notification",
        "channel",
        "status",
        "skip_reason",
        "attempts",
        "not_before",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "channel", "skip_reason", "only_if_unread"]
    search_fields = ["notification__recipient__username", "notification__case__number"]
    date_hierarchy = "created_at"
    list_select_related = ["notification__recipient"]
    readonly_fields = ["claim"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["key", "user", "client", "endpoint", "case", "created_at"]
    search_fields = ["key", "case__number"]
    list_filter = ["endpoint"]


admin.site.empty_value_display = _("(none)")
