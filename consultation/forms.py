"""Forms of the consultation and investigation pages: they check the shape of the input, the
services check the rules, and the services' refusals land on the same fields."""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.forms_detail import ReasonForm, _text
from cases.services import Task
from consultation.models import AgendaItem
from consultation.services import Attended, Checked, Decision
from teams.levels import (
    CITY,
    PREFECTURE,
    TOWN,
    committee_choices,
    level_above,
    level_label,
    with_levels,
)

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NamedChoiceField(forms.ModelChoiceField):
    """Shows teams, departments, regions and grids by their name in the reader's language."""

    def label_from_instance(self, obj: Any) -> str:
        return getattr(obj, "name", None) or str(obj)


class NamedMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return getattr(obj, "name", None) or str(obj)


class PersonChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.username


class CaseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.number} · {obj.item.name} · {obj.village.name}"


class CallConsultationForm(forms.Form):
    seat = forms.TypedChoiceField(label=_("Committee"), coerce=int)
    scheduled_at = forms.DateTimeField(label=_("Date and time"), widget=DATETIME_WIDGET)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    online_link = forms.URLField(
        label=_("Online meeting link"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("A place, an online link, or both."),
    )
    cases = CaseChoiceField(
        label=_("Cases on the agenda"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
    )
    departments = NamedMultipleChoiceField(
        label=_("Departments"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    teams = NamedMultipleChoiceField(
        label=_("Teams"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    people = PersonChoiceField(
        label=with_levels(_("Lawyers and %(village)s officers")),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        seats: list,
        cases: Any,
        departments: Any,
        teams: Any,
        people: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.seats = seats
        self.fields["seat"].choices = [
            (index, f"{seat.region.name} · {dict(committee_choices())[seat.level]}")
            for index, seat in enumerate(seats)
        ]
        self.fields["cases"].queryset = cases
        self.fields["departments"].queryset = departments
        self.fields["teams"].queryset = teams
        self.fields["people"].queryset = people

    def clean_seat(self) -> Any:
        index = self.cleaned_data["seat"]
        if not 0 <= index < len(self.seats):
            raise forms.ValidationError(_("Choose a committee of yours."))
        return self.seats[index]

    def clean_scheduled_at(self) -> Any:
        value = self.cleaned_data["scheduled_at"]
        if value <= timezone.now():
            raise forms.ValidationError(_("The consultation must be in the future."))
        return value


class ArrivalForm(forms.Form):
    """The clerk's arrival time for one invitee; empty means "now" (recorded at the door)."""

    arrived_at = forms.DateTimeField(
        label=_("Arrived at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty to record the arrival now."),
    )


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=_("Minutes"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Who spoke, what was discussed, what was agreed."),
    )


DECISION_KINDS = [
    (AgendaItem.Decision.TASKS, _("Tasks for named departments or teams: back to handling")),
    (AgendaItem.Decision.ESCALATE, with_levels(_("Escalate to the %(city)s committee"))),
    (AgendaItem.Decision.SUSPEND, _("Suspend (挂账) until a review date")),
    (AgendaItem.Decision.CLOSE, _("Close the case")),
]


# Where an escalation goes, by the committee above the one deciding (teams.levels.level_above).
ESCALATE_TO = {
    CITY: with_levels(_("Escalate to the %(city)s committee")),
    PREFECTURE: with_levels(_("Escalate to the %(prefecture)s committee")),
}


def decision_kinds(level: str) -> list[tuple[str, str]]:
    """The decisions a committee of this level may take, their labels read now: a page with
    several agenda items reads the level names once and passes these to every form. A
    committee escalates only to one above it on the chain: the town's to the city's, the
    city's to the prefecture's (four levels, when the deployment put it there)."""
    above = level_above(level)
    return [
        (value, str(ESCALATE_TO[above] if value == AgendaItem.Decision.ESCALATE else label))
        for value, label in DECISION_KINDS
        if above is not None or value != AgendaItem.Decision.ESCALATE
    ]


class DecisionForm(forms.Form):
    """The decision on one agenda item; its tasks come from the TaskFormSet beside it."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    kind = forms.ChoiceField(label=_("Decision"), choices=DECISION_KINDS, widget=forms.RadioSelect)
    decision = forms.CharField(
        label=_("Decision and reasons"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For a suspension or a closure, the reason is recorded on the case."),
    )
    review_on = forms.DateField(
        label=_("Review on"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("Only for a suspension."),
    )

    def __init__(
        self, *args: Any, level: str, kinds: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds if kinds is not None else decision_kinds(level)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("kind") == AgendaItem.Decision.SUSPEND:
            review_on = data.get("review_on")
            if review_on is None:
                self.add_error("review_on", _("Give the date of the review."))
            elif review_on <= timezone.localdate():
                self.add_error("review_on", _("The review date must be in the future."))
        return data


class TaskForm(forms.Form):
    """One task of a decision: a team or a department, what to do, by when. A row left empty
    is ignored."""

    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    department = forms.TypedChoiceField(
        label=_("Department"), required=False, coerce=int, empty_value=None
    )
    action = forms.CharField(
        label=_("Action"), max_length=2000, required=False, widget=forms.TextInput()
    )
    due_at = forms.DateTimeField(label=_("Deadline"), required=False, widget=DATETIME_WIDGET)

    def __init__(self, *args: Any, teams: list, departments: list, **kwargs: Any) -> None:
        """`teams` and `departments` are (id, name) pairs read once for the whole page."""
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "—"), *teams]
        self.fields["department"].choices = [("", "—"), *departments]

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) for name in ("team", "department", "action", "due_at"))

    def clean(self) -> dict:
        data = super().clean()
        if self.is_blank:
            return data
        if bool(data.get("team")) == bool(data.get("department")):
            self.add_error("team", _("Choose one team or one department."))
        if not (data.get("action") or "").strip():
            self.add_error("action", _("Say what must be done."))
        due_at = data.get("due_at")
        if due_at is None:
            if "due_at" not in self.errors:
                self.add_error("due_at", _("Give the deadline."))
        elif due_at <= timezone.now():
            self.add_error("due_at", _("The deadline must be in the future."))
        return data

    def task(self) -> Task:
        data = self.cleaned_data
        return Task(
            action=data["action"],
            due_at=data["due_at"],
            team_id=data.get("team"),
            department_id=data.get("department"),
        )


class BaseTaskFormSet(forms.BaseFormSet):
    def tasks(self) -> list[Task]:
        return [form.task() for form in self.forms if not form.is_blank]


MAX_TASKS = 10  # the rows one decision may have; the server refuses more
TaskFormSet = forms.formset_factory(
    TaskForm, formset=BaseTaskFormSet, extra=3, max_num=MAX_TASKS, validate_max=True
)
ADD_ROW = "add_row"  # the name of the "add a row" submit button (works without JavaScript)


def decision_forms(
    *,
    item: AgendaItem,
    level: str,
    teams: Any,
    departments: Any,
    data: Any = None,
    kinds: list[tuple[str, str]] | None = None,
) -> tuple[DecisionForm, BaseTaskFormSet]:
    """The decision form and its task rows, prefixed by the agenda item so several sit on one
    page. With the "add a row" button in `data`, the same form comes back unbound, filled with
    what was entered, with one more task row (up to MAX_TASKS)."""
    prefix = f"item{item.pk}"
    kwargs = {"teams": teams, "departments": departments}
    if data is not None and ADD_ROW in data:
        return _with_one_more_row(prefix=prefix, level=level, data=data, form_kwargs=kwargs)
    form = DecisionForm(
        data,
        prefix=prefix,
        level=level,
        kinds=kinds,
        initial={"version": item.case.version, "kind": "tasks"},
    )
    formset = TaskFormSet(data, prefix=f"{prefix}-tasks", form_kwargs=kwargs)
    return form, formset


def _with_one_more_row(
    *, prefix: str, level: str, data: Any, form_kwargs: dict
) -> tuple[DecisionForm, BaseTaskFormSet]:
    try:
        rows = int(data.get(f"{prefix}-tasks-TOTAL_FORMS", 0))
    except (TypeError, ValueError):
        rows = 0
    rows = max(0, min(rows, MAX_TASKS))
    task_fields = ("team", "department", "action", "due_at")
    initial_rows = [
        {name: data.get(f"{prefix}-tasks-{index}-{name}", "") for name in task_fields}
        for index in range(rows)
    ]
    form = DecisionForm(
        prefix=prefix,
        level=level,
        initial={
            name: data.get(f"{prefix}-{name}", "")
            for name in ("version", "kind", "decision", "review_on")
        },
    )
    formset = TaskFormSet(initial=initial_rows, prefix=f"{prefix}-tasks", form_kwargs=form_kwargs)
    formset.extra = 1 if rows < MAX_TASKS else 0
    return form, formset


def decision_of(form: DecisionForm, formset: BaseTaskFormSet) -> Decision:
    data = form.cleaned_data
    tasks = formset.tasks() if data["kind"] == AgendaItem.Decision.TASKS else []
    return Decision(
        kind=data["kind"],
        text=data["decision"],
        tasks=tuple(tasks),
        review_on=data.get("review_on"),
    )


# --- investigations ----------------------------------------------------------------------------


PLANNING_CHOICES = {
    "town": "towns",
    "grid": "grids",
    "team": "teams",
    "aspects": "aspects",
    "departments": "departments",
}


class PlanInvestigationForm(forms.Form):
    town = NamedChoiceField(label=level_label(TOWN, capital=True), queryset=None)
    place_name = forms.CharField(
        label=_("Place"),
        max_length=200,
        help_text=_("An enterprise, a street, a new residential compound..."),
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    grid = NamedChoiceField(label=_("Grid"), queryset=None)
    latitude = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(
        label=_("Longitude"), required=False, min_value=-180, max_value=180
    )
    planned_for = forms.DateTimeField(label=_("Date and time of the visit"), widget=DATETIME_WIDGET)
    team = NamedChoiceField(label=_("Team in charge"), queryset=None)
    aspects = NamedMultipleChoiceField(
        label=_("Aspects to check"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    departments = NamedMultipleChoiceField(
        label=_("Departments taking part"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    hotspot_item = forms.IntegerField(widget=forms.HiddenInput, required=False)
    hotspot_grid = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, choices: dict, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, key in PLANNING_CHOICES.items():
            self.fields[name].queryset = choices[key]


class RecordInvestigationForm(forms.Form):
    """Who came, what was checked, what was found: fields per attendance row and per check."""

    notes = forms.CharField(
        label=_("Notes on the visit"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, view: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.view = view
        self.attendance_rows = []
        for row in view.attendance:
            present = f"present_{row.pk}"
            people = f"people_{row.pk}"
            self.fields[present] = forms.BooleanField(
                label=_("%(unit)s came") % {"unit": row.unit.name}, required=False
            )
            self.fields[people] = forms.CharField(
                label=_("Who came"), required=False, max_length=300
            )
            self.attendance_rows.append((row, self[present], self[people]))
        self.check_rows = []
        for check in view.checks:
            checked, finding, item = (
                f"checked_{check.pk}",
                f"finding_{check.pk}",
                f"item_{check.pk}",
            )
            self.fields[checked] = forms.BooleanField(
                label=_("%(aspect)s checked") % {"aspect": check.aspect.name}, required=False
            )
            self.fields[finding] = forms.CharField(
                label=_("What was found"),
                required=False,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Each finding is filed as a case and routed like any whistle."),
            )
            self.fields[item] = forms.TypedChoiceField(
                label=_("Checklist item of the finding"),
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", "—")]
                + [
                    (i.pk, f"{i.code} {i.name}")
                    for i in view.items_by_aspect.get(check.aspect_id, [])
                ],
            )
            self.check_rows.append((check, self[checked], self[finding], self[item]))

    def attended(self) -> list[Attended]:
        data = self.cleaned_data
        return [
            Attended(
                attendance_id=row.pk,
                present=data.get(f"present_{row.pk}", False),
                people=data.get(f"people_{row.pk}", ""),
            )
            for row in self.view.attendance
        ]

    def checked(self) -> list[Checked]:
        data = self.cleaned_data
        return [
            Checked(
                check_id=check.pk,
                checked=data.get(f"checked_{check.pk}", False),
                finding=data.get(f"finding_{check.pk}", ""),
                item_id=data.get(f"item_{check.pk}"),
            )
            for check in self.view.checks
        ]


class CloseCaseForm(ReasonForm):
    """Close a case at its consultation, from the case page (the registry's `close`)."""

    reason = _text(_("Why the case is closed"))
