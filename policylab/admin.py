"""The policy lab in the administration: scenarios and replays listed, read only (they are
made, changed and run through the lab's pages and API, within a city)."""

from django.contrib import admin

from policylab.models import Replay, Scenario
from teams.levels import level_label


class CityFilter(admin.RelatedFieldListFilter):
    """The scenario's city, titled by the deployment's name of the top level."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.title = level_label("city")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed here: the services check every rule and keep replays whole."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Scenario)
class ScenarioAdmin(ReadOnlyAdmin):
    list_display = ["name", "city_column", "yellow_at_percent", "created_by", "updated_at"]
    list_filter = [("city", CityFilter)]
    search_fields = ["name", "note"]
    list_select_related = ["city", "created_by"]

    @admin.display(description=level_label("city"), ordering="city")
    def city_column(self, obj: Scenario) -> str:
        return str(obj.city)


@admin.register(Replay)
class ReplayAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "scenario",
        "region",
        "period_start",
        "period_end",
        "state",
        "cases_done",
        "cases_total",
        "requested_by",
        "created_at",
    ]
    list_filter = ["state", "period_kind"]
    search_fields = ["name", "scenario__name"]
    list_select_related = ["scenario", "region", "requested_by"]
