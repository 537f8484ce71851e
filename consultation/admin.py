"""Consultations and investigations in the admin: read them; the hot spot numbers are edited
here. Changes to cases go through the services, never through these forms."""

from django.contrib import admin

from consultation.models import (
    AgendaItem,
    Consultation,
    Finding,
    HotSpotSettings,
    Investigation,
    InvestigationAttendance,
    InvestigationCheck,
    Invitation,
)
from teams.levels import TOWN, level_label


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AgendaInline(ReadOnlyInline):
    model = AgendaItem
    fields = ("order", "case", "decision", "decision_text", "decided_at", "decided_by")
    readonly_fields = fields


class InvitationInline(ReadOnlyInline):
    model = Invitation
    fields = ("department", "team", "user", "confirmed_at", "checked_in_at", "late")
    readonly_fields = fields


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    list_display = ("scheduled_at", "level", "region", "status", "called_by")
    list_filter = ("level", "status")
    date_hierarchy = "scheduled_at"
    inlines = [AgendaInline, InvitationInline]
    readonly_fields = [f.name for f in Consultation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its decided agenda items are final (core.db_roles)


class AttendanceInline(ReadOnlyInline):
    model = InvestigationAttendance
    fields = ("department", "team", "present", "people")
    readonly_fields = fields


class CheckInline(ReadOnlyInline):
    model = InvestigationCheck
    fields = ("aspect", "checked", "finding")
    readonly_fields = fields


class FindingInline(ReadOnlyInline):
    model = Finding
    fields = ("aspect", "case", "created_at")
    readonly_fields = fields


@admin.register(Investigation)
class InvestigationAdmin(admin.ModelAdmin):
    list_display = ("place_name", "investigation_town", "planned_for", "team", "status")
    list_filter = ("status",)
    inlines = [AttendanceInline, CheckInline, FindingInline]
    readonly_fields = ("investigation_town",)

    @admin.display(description=level_label(TOWN, capital=True), ordering="town")
    def investigation_town(self, obj: Investigation) -> str:
        """The town under the deployment's name (the model's verbose name stays generic)."""
        return str(obj.town)

    def get_fields(self, request, obj=None) -> list[str]:
        fields = [f for f in super().get_fields(request, obj) if f != "investigation_town"]
        return ["investigation_town" if f == "town" else f for f in fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(HotSpotSettings)
class HotSpotSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "threshold", "window_days")

    def has_add_permission(self, request) -> bool:
        return not HotSpotSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
