"""The spot-check forms: the draw, and the revisit's outcome (a case action, also shown on the
case page by the registry). They check the shape; spotchecks.services checks the rules."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.forms_detail import CaseActionForm, PhotosField
from spotchecks.models import SpotCheckCase
from spotchecks.selectors import DrawChoices
from teams.levels import level_label

Outcome = SpotCheckCase.Outcome


class RevisitForm(CaseActionForm):
    outcome = forms.ChoiceField(
        label=_("Outcome of the revisit"),
        choices=[
            (Outcome.CONFIRMED, _("Confirmed: the problem is solved")),
            (Outcome.FALSE_REPLY, _("Not actually resolved: reopen it to the same unit")),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note, or what is still wrong"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = PhotosField(help_text=_("Required when the problem is not actually resolved."))


class DrawForm(forms.Form):
    city = forms.ModelChoiceField(
        label=level_label("city", capital=True), queryset=None, empty_label=None
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False)
    department = forms.ModelChoiceField(label=_("Department"), queryset=None, required=False)
    closed_from = forms.DateField(
        label=_("Closed from"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    closed_to = forms.DateField(
        label=_("Closed until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    size = forms.IntegerField(label=_("Sample size"), min_value=0, max_value=10**6)
    seed = forms.IntegerField(
        label=_("Seed"),
        required=False,
        min_value=0,
        help_text=_("Leave empty for a new random draw; a recorded seed repeats a draw."),
    )

    def __init__(self, *args: Any, choices: DrawChoices, **kwargs: Any) -> None:
        today = timezone.localdate()
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("size", settings.WHISTLE_SPOT_CHECK_SAMPLE_SIZE)
        kwargs["initial"].setdefault("closed_from", today.replace(day=1))
        kwargs["initial"].setdefault("closed_to", today)
        super().__init__(*args, **kwargs)
        self.fields["city"].queryset = choices.cities
        self.fields["team"].queryset = choices.teams
        self.fields["department"].queryset = choices.departments

    def clean(self) -> dict:
        data = super().clean()
        if bool(data.get("team")) == bool(data.get("department")):
            self.add_error("team", _("Choose one team or one department."))
        return data
