"""The admin page where a deployment names its levels, two to four (teams.levels). In rollout,
beside the levels import, because taking the top level out of use reads the cases
(rollout.levels)."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from rollout.levels import leaving_chain_problem
from teams.levels import CITY, PREFECTURE, PREFECTURE_ABOVE_A_GAP, TIERS, leaves_a_gap
from teams.models import LevelName


class LevelNameForm(forms.ModelForm):
    class Meta:
        model = LevelName
        fields = (
            "level",
            "name_en",
            "plural_en",
            "name_zh",
            "whistles_here",
            "committee",
            "in_use",
        )

    def clean(self) -> dict:
        data = super().clean()
        level = data.get("level") or self.instance.level
        in_use, committee = data.get("in_use", True), data.get("committee", True)
        problem = leaving_chain_problem(level=level, committee=committee, in_use=in_use)
        if problem:
            self.add_error("in_use" if not in_use else "committee", problem)
        # The prefecture's committee sits on the chain only above the top level's.
        if level in (CITY, PREFECTURE) and leaves_a_gap({level: committee and in_use}):
            self.add_error("committee", PREFECTURE_ABOVE_A_GAP)
        return data


@admin.register(LevelName)
class LevelNameAdmin(admin.ModelAdmin):
    form = LevelNameForm
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
        return super().has_add_permission(request) and LevelName.objects.count() < len(TIERS)

    def has_delete_permission(self, request: HttpRequest, obj: LevelName | None = None) -> bool:
        return False  # a tier's name is changed, never removed (the defaults would come back)
