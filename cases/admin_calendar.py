"""Admin of the working calendar: years (with confirmation), exception days and office hours.

Every save and delete invalidates the cached calendar of all processes, so the next deadline
computed anywhere sees the change."""

from django.contrib import admin, messages
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cases.calendar import invalidate_calendar, provisional_years
from cases.calendar_services import confirm_year, mark_year_edited, unconfirm_year
from cases.models import CalendarDay, CalendarYear, OfficeHours


class CalendarAdminMixin:
    """Invalidate the calendar cache on every change, and remind of provisional years."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        invalidate_calendar()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        invalidate_calendar()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        invalidate_calendar()

    warn_provisional = False

    def changelist_view(self, request, extra_context=None):
        years = provisional_years() if self.warn_provisional else []
        if years and request.method == "GET":
            messages.warning(
                request,
                ngettext(
                    "The working calendar for %(years)s is provisional: weekdays count as "
                    "working days until an administrator enters its holidays and confirms it.",
                    "The working calendars for %(years)s are provisional: weekdays count as "
                    "working days until an administrator enters their holidays and confirms "
                    "them.",
                    len(years),
                )
                % {"years": ", ".join(str(year) for year in years)},
            )
        return super().changelist_view(request, extra_context)


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarAdminMixin, admin.ModelAdmin):
    list_display = ["year", "status", "source", "confirmed_by", "confirmed_at"]
    list_filter = ["confirmed", "source"]
    readonly_fields = ["confirmed_by", "confirmed_at"]
    actions = ["confirm_selected_years"]
    warn_provisional = True

    @admin.display(description=_("status"), ordering="confirmed")
    def status(self, obj: CalendarYear):
        if obj.provisional:
            return format_html(
                '<strong style="color:#b45309;background:#fef3c7;padding:0 .4em">{}</strong>',
                _("provisional"),
            )
        return _("confirmed")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "confirmed" in form.changed_data:
            if obj.confirmed:
                confirm_year(year=obj.year, user=request.user)
            else:
                unconfirm_year(year=obj.year)

    @admin.action(description=_("Confirm selected years"), permissions=["change"])
    def confirm_selected_years(self, request, queryset):
        years = [row.year for row in queryset]
        for year in years:
            confirm_year(year=year, user=request.user)
        self.message_user(
            request,
            ngettext(
                "Confirmed the calendar of %(count)d year.",
                "Confirmed the calendars of %(count)d years.",
                len(years),
            )
            % {"count": len(years)},
            messages.SUCCESS,
        )


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarAdminMixin, admin.ModelAdmin):
    list_display = ["date", "weekday", "kind", "name"]
    list_filter = ["kind"]
    search_fields = ["name"]
    date_hierarchy = "date"
    warn_provisional = True

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        mark_year_edited(year=obj.date.year)
        if change and "date" in form.changed_data and form.initial.get("date"):
            mark_year_edited(year=form.initial["date"].year)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        mark_year_edited(year=obj.date.year)

    def delete_queryset(self, request, queryset):
        years = {day.year for day in queryset.values_list("date", flat=True)}
        super().delete_queryset(request, queryset)
        for year in sorted(years):
            mark_year_edited(year=year)

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarDay) -> str:
        return date_format(obj.date, "l")


@admin.register(OfficeHours)
class OfficeHoursAdmin(CalendarAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "start", "end"]
