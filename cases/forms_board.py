"""The dispatch board's filter: which warning light to show."""

from django import forms
from django.utils.translation import gettext_lazy as _


class LightFilterForm(forms.Form):
    light = forms.ChoiceField(
        label=_("Warning light"),
        required=False,
        choices=[
            ("", _("all lights")),
            ("red", _("red: overdue")),
            ("yellow", _("yellow: due soon")),
            ("green", _("green: on time")),
        ],
    )

    def chosen(self) -> str:
        """The chosen light, or "" for all (also when the input was not a light)."""
        if self.is_valid():
            return self.cleaned_data["light"]
        return ""
