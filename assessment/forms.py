"""Forms of the dashboard pages: the period filter (a GET form every page shares), the unit
type of the rankings, the drill-down's parameters and the town's evaluation of departments."""

from datetime import date
from decimal import Decimal

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from teams.levels import level_label
from teams.models import Department

PERIOD_KINDS = [
    ("day", _("Day")),
    ("week", _("Week")),
    ("month", _("Month")),
    ("quarter", _("Quarter")),
    ("year", _("Year")),
    ("custom", _("Custom range")),
]

RANKED_TYPES = [
    ("city", level_label("city", plural=True, capital=True)),
    ("department", _("Departments")),
    ("team", _("Teams")),
    ("town", level_label("town", plural=True, capital=True)),
    ("village", level_label("village", plural=True, capital=True)),
]

PARTS = [("numerator", _("counted")), ("denominator", _("out of"))]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class PeriodForm(forms.Form):
    """Which period a page shows: a kind and a day inside it, or a custom start and end.

    The fields only render and pre-check the input; assessment.periods.parse_period decides,
    and its refusal (a translated message) becomes the form's error."""

    kind = forms.ChoiceField(label=_("Period"), choices=PERIOD_KINDS, required=False)
    anchor = forms.DateField(
        label=_("Any day in the period"),
        required=False,
        widget=DateInput(),
        help_text=_("For a day, week, month, quarter or year."),
    )
    start = forms.DateField(
        label=_("From"), required=False, widget=DateInput(), help_text=_("For a custom range.")
    )
    end = forms.DateField(
        label=_("Until"), required=False, widget=DateInput(), help_text=_("For a custom range.")
    )

    def __init__(self, data, *, parse, default, **kwargs) -> None:
        self._parse = parse
        self._default = default
        super().__init__(data, **kwargs)
        self.period = None

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        given = {k: v for k, v in self.data.items() if k in self.fields and v not in ("", None)}
        if not given:
            self.period = self._default
            return cleaned
        try:
            self.period = self._parse(self.data)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="period") from None
        return cleaned


class RankingForm(forms.Form):
    type = forms.ChoiceField(label=_("Rank"), choices=RANKED_TYPES, required=False)

    def unit_type(self) -> str:
        if self.is_valid() and self.cleaned_data["type"]:
            return self.cleaned_data["type"]
        return "department"


class DrillDownForm(forms.Form):
    """Which number's cases to list: an indicator, its numerator or denominator, a unit."""

    indicator = forms.CharField(max_length=40)
    part = forms.ChoiceField(choices=PARTS)
    unit_type = forms.CharField(max_length=20)
    unit_id = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, indicator_keys, unit_types, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._indicator_keys = set(indicator_keys)
        self._unit_types = set(unit_types)

    def clean_indicator(self) -> str:
        key = self.cleaned_data["indicator"]
        if key not in self._indicator_keys:
            raise forms.ValidationError(_("There is no such indicator."), code="indicator")
        return key

    def clean_unit_type(self) -> str:
        unit_type = self.cleaned_data["unit_type"]
        if unit_type not in self._unit_types:
            raise forms.ValidationError(_("There is no such kind of unit."), code="unit_type")
        return unit_type


class TownEvaluationForm(forms.Form):
    """The town committee's monthly score (0-100) of one department, with a note."""

    month = forms.TypedChoiceField(
        label=_("Month"),
        coerce=date.fromisoformat,
        help_text=_("The current month or the one before."),
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), empty_label=None
    )
    score = forms.DecimalField(
        label=_("Score"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        help_text=_("From 0 to 100."),
        widget=forms.NumberInput(attrs={"min": "0", "max": "100", "step": "0.5"}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What went well or badly this month."),
    )

    def __init__(self, *args, departments, months, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self.fields["month"].choices = [
            (month.isoformat(), date_format(month, "YEAR_MONTH_FORMAT")) for month in months
        ]


class ClosingCorrectionForm(forms.Form):
    """A supervisor's correction of when a closed case counts as closed, with the reason."""

    case_number = forms.CharField(
        label=_("Case number"), max_length=64, help_text=_("As on the case page, e.g. HN-...")
    )
    counts_from = forms.DateTimeField(
        label=_("Counts as closed from"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("When the case was really closed (e.g. verified on site)."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the closed figures change: it is shown with them."),
    )
