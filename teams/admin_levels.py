"""The admin page where a deployment names its levels, two or three (teams.levels)."""

from django.contrib import admin
from django.http import HttpRequest

from teams.levels import LEVELS
from teams.models import LevelName


@admin.register(LevelName)
class LevelNameAdmin(admin.ModelAdmin):
    list_display = (
        "level",
        "name_zh",
        "name_en",
        "plural_en",
        "whistles_here",
        "committee",
        "in_use",
    )
    list_editable = ("name_zh", "name_en", "plural_en", "whistles_here", "committee", "in_use")
    list_display_links = ("level",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """One row per tier: adding stops once the three are named."""
        return super().has_add_permission(request) and LevelName.objects.count() < len(LEVELS)

    def has_delete_permission(self, request: HttpRequest, obj: LevelName | None = None) -> bool:
        return False  # a tier's name is changed, never removed (the defaults would come back)
