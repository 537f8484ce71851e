"""Forms of the case list (a GET filter form) and of marking notifications read."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.models import Status
from cases.selectors_pages.lists import DEFAULT_SORT, CaseFilters, items_by_aspect
from cases.timers import GREEN, RED, YELLOW
from teams.levels import case_levels
from teams.models import Grid

# Above this many grids a select becomes unwieldy: the grid is typed by its code instead.
GRID_CHOICE_LIMIT = 200

SORT_CHOICES = [
    ("-filed_at", _("Newest first")),
    ("filed_at", _("Oldest first")),
    ("number", _("Number, ascending")),
    ("-number", _("Number, descending")),
    ("due", _("Due soonest first")),
    ("-due", _("Due latest first")),
]

LIGHT_CHOICES = [
    ("", _("Any light")),
    (RED, _("Red: overdue")),
    (YELLOW, _("Yellow: due soon")),
    (GREEN, _("Green: on time")),
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class CaseFilterForm(forms.Form):
    """The list's filters. Bound to request.GET; every field is optional."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Part of the case number or of the description."),
        widget=forms.TextInput(attrs={"type": "search", "data-testid": "filter-q"}),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    level = forms.ChoiceField(label=_("Level"), required=False)
    item = forms.TypedChoiceField(label=_("Checklist item"), required=False, coerce=int)
    grid = forms.ModelChoiceField(
        label=_("Grid"), required=False, queryset=Grid.objects.none(), to_field_name="code"
    )
    light = forms.ChoiceField(label=_("Warning light"), required=False, choices=LIGHT_CHOICES)
    filed_from = forms.DateField(label=_("Filed from"), required=False, widget=DateInput())
    filed_to = forms.DateField(label=_("Filed until"), required=False, widget=DateInput())
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)
    taken_up = forms.BooleanField(
        label=_("Only whistles taken up (no rejected or merged ones)"), required=False
    )

    def __init__(self, *args: object, grids, **kwargs: object) -> None:
        """`grids`: the grids the user may filter by (a queryset, validated against)."""
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *Status.choices]
        self.fields["level"].choices = [("", _("Any level")), *case_levels()]
        self.fields["item"].choices = [("", _("Any item")), *items_by_aspect(grids=grids)]
        grid_field = self.fields["grid"]
        grid_field.queryset = grids
        grid_field.empty_label = _("Any grid")
        shown = list(grids[: GRID_CHOICE_LIMIT + 1])
        if len(shown) > GRID_CHOICE_LIMIT:
            grid_field.widget = forms.TextInput()
            grid_field.help_text = _("Type the grid's code.")
        else:
            grid_field.choices = [("", _("Any grid"))] + [(grid.code, str(grid)) for grid in shown]
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("data-testid", f"filter-{name}")
        self.fields["q"].widget.attrs["aria-describedby"] = "id_q_helptext"

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("filed_from"), data.get("filed_to")
        if start and end and start > end:
            self.add_error("filed_to", _("The end date comes before the start date."))
        return data

    def filters(self) -> CaseFilters:
        """The validated filters; none at all when any filter is not valid."""
        if not self.is_valid():
            return CaseFilters()
        data = self.cleaned_data
        grid = data.get("grid")
        return CaseFilters(
            status=data.get("status") or "",
            level=data.get("level") or "",
            item_id=data.get("item") or None,
            grid_id=grid.pk if grid else None,
            light=data.get("light") or "",
            filed_from=data.get("filed_from"),
            filed_to=data.get("filed_to"),
            text=(data.get("q") or "").strip(),
            taken_up=bool(data.get("taken_up")),
        )

    def sort_order(self) -> str:
        if self.is_valid() and self.cleaned_data.get("sort"):
            return self.cleaned_data["sort"]
        return DEFAULT_SORT


class IdListField(forms.Field):
    """Several integer ids from repeated parameters (ids=3&ids=7)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("These are not valid notification ids.")}

    def to_python(self, value: object) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            return [int(v) for v in values]
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class MarkReadForm(forms.Form):
    """Mark some notifications (ids) or all of them (all=1) read."""

    ids = IdListField(label=_("Notifications"), required=False)
    all = forms.BooleanField(label=_("All notifications"), required=False)

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors and not data.get("ids") and not data.get("all"):
            raise ValidationError(_("Choose the notifications to mark as read."))
        return data
