"""Forms of the policy lab's pages: a new scenario, the scenario editor, a replay's request
and its new name.

The fields render the input and keep what was typed; the services decide (policylab.rules
checks every limit, day and weight), and their refusals land on the fields by name
(core.views.run_service): "limit_<item>_<stage>", "holidays", "workdays", "yellow_at_percent",
"town_evaluation_weight", "weight_<key>", "deduction_<kind>", "name", and "scheme" and
"limits" for what belongs to a whole section.
"""

from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext_lazy as _

from assessment.forms import PERIOD_KINDS, DateInput
from assessment.indicators import LABELS, RATE_KEYS
from assessment.models import SchemeDeduction
from checklists.models import Aspect, Item, Stage, TimeUnit, stage_choices
from policylab.rules import STAGES
from teams.levels import CITY, PREFECTURE, level_label, on_chain, with_levels
from teams.models import Region

# The indicators a scheme may weigh (policylab.rules.parse_scheme).
WEIGHABLE_KEYS = (*RATE_KEYS, "avg_handling_hours", "p90_handling_hours")
STAGE_LABELS = dict(stage_choices())
# The consultations of a committee a deployment may leave off the escalation chain, and its
# level (teams.levels.on_chain): no case reaches them then.
CHAIN_STAGES = {Stage.CITY_CONSULTATION: CITY, Stage.PREFECTURE_CONSULTATION: PREFECTURE}
UNIT_CHOICES = list(TimeUnit.choices)


class NewScenarioForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    city = forms.ModelChoiceField(
        label=level_label("city", capital=True), queryset=Region.objects.none(), required=False
    )

    def __init__(self, *args, cities, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["city"].queryset = cities
        self.fields["city"].empty_label = None
        self.several_cities = cities.count() > 1
        if not self.several_cities:
            self.fields["city"].widget = forms.HiddenInput()


class SectionField(forms.CharField):
    """Not an input: where the errors of a whole section (the scheme, the limits) go."""

    def __init__(self) -> None:
        super().__init__(required=False, widget=forms.HiddenInput())


@dataclass
class LimitCell:
    item: Item
    stage: str
    amount: forms.BoundField
    unit: forms.BoundField
    in_force: tuple[int, str] | None
    differs: bool


@dataclass
class AspectTable:
    aspect: Aspect
    stages: list[tuple[str, str]]
    # Per stage: the "set for every item" amount and unit.
    every: list[tuple[forms.BoundField, forms.BoundField]]
    rows: list[tuple[Item, list[LimitCell | None]]] = field(default_factory=list)


def _limit_map(rows: list[dict]) -> dict[tuple[int, str], tuple[int, str]]:
    return {(int(row["item"]), str(row["stage"])): (row["amount"], row["unit"]) for row in rows}


class ScenarioForm(forms.Form):
    """The scenario editor: every item's stage limits per aspect, a value per aspect and
    stage for all its items, the calendar's extra days, the yellow light and the scheme."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    holidays = forms.CharField(
        label=_("Extra holidays"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One date a line (YYYY-MM-DD), on top of the calendar in force."),
    )
    workdays = forms.CharField(
        label=_("Extra working days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Make-up working days (调休), one date a line (YYYY-MM-DD)."),
    )
    yellow_at_percent = forms.CharField(
        label=_("Yellow light at (percent of each limit)"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("Empty: each limit keeps its own yellow light."),
    )
    town_evaluation_weight = forms.CharField(
        label=with_levels(_("Weight of the %(towns)s' evaluation of departments")),
        required=False,
        help_text=_("A share between 0 and 1 (0.3 is 30%)."),
    )
    scheme = SectionField()
    limits = SectionField()

    def __init__(self, *args, scenario, in_force: list[dict], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scenario = scenario
        self.in_force = _limit_map(in_force)
        self.current = _limit_map(scenario.limits)
        self.cells = sorted(set(self.current) | set(self.in_force))
        items = Item.objects.filter(pk__in={item for item, _stage in self.cells}).select_related(
            "aspect"
        )
        self.items = {item.pk: item for item in items}
        # No case reaches the consultation of a committee off the chain: the top level's where
        # the deployment left it out, the prefecture's unless it put it there (four levels).
        self.cells = [
            cell
            for cell in self.cells
            if cell[0] in self.items
            and (cell[1] not in CHAIN_STAGES or on_chain(CHAIN_STAGES[cell[1]]))
        ]
        for item, stage in self.cells:
            amount, unit = self.current.get((item, stage), ("", ""))
            self.fields[f"limit_{item}_{stage}"] = forms.CharField(
                required=False,
                initial=amount,
                label=STAGE_LABELS.get(stage, stage),
                widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 5}),
            )
            self.fields[f"unit_{item}_{stage}"] = forms.ChoiceField(
                required=False,
                initial=unit,
                choices=[("", "—"), *UNIT_CHOICES],
                label=_("unit"),
            )
        self.aspect_stages: dict[int, list[str]] = {}
        for item, stage in self.cells:
            stages = self.aspect_stages.setdefault(self.items[item].aspect_id, [])
            if stage not in stages:
                stages.append(stage)
        for aspect_id, stages in self.aspect_stages.items():
            stages.sort(key=STAGES.index)
            for stage in stages:
                self.fields[f"aspect_{aspect_id}_{stage}"] = forms.IntegerField(
                    required=False,
                    min_value=1,
                    label=_("every item"),
                    widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 5}),
                )
                self.fields[f"aspectunit_{aspect_id}_{stage}"] = forms.ChoiceField(
                    required=False,
                    choices=[("", _("each item's own unit")), *UNIT_CHOICES],
                    label=_("unit"),
                )
        scheme = scenario.scheme or {}
        weights = {row["key"]: row for row in scheme.get("indicators") or []}
        self.fields["town_evaluation_weight"].initial = scheme.get("town_evaluation_weight", "")
        for key in WEIGHABLE_KEYS:
            row = weights.get(key, {})
            self.fields[f"weight_{key}"] = forms.CharField(
                required=False, label=LABELS[key], initial=row.get("weight") or ""
            )
            self.fields[f"floor_{key}"] = forms.CharField(
                required=False, label=_("full marks from"), initial=row.get("floor") or ""
            )
            self.fields[f"ceiling_{key}"] = forms.CharField(
                required=False, label=_("full marks up to"), initial=row.get("ceiling") or ""
            )
        points = {row["kind"]: row["points"] for row in scheme.get("deductions") or []}
        for kind, label in SchemeDeduction.Kind.choices:
            self.fields[f"deduction_{kind}"] = forms.CharField(
                required=False, label=label, initial=points.get(kind, "")
            )
        self.fields["name"].initial = scenario.name
        self.fields["note"].initial = scenario.note
        self.fields["holidays"].initial = "\n".join(scenario.holidays or [])
        self.fields["workdays"].initial = "\n".join(scenario.workdays or [])
        self.fields["yellow_at_percent"].initial = scenario.yellow_at_percent

    # --- what the template shows --------------------------------------------------------

    def _value(self, name: str) -> str:
        return str(self[name].value() if self[name].value() is not None else "").strip()

    def aspect_tables(self) -> list[AspectTable]:
        by_aspect: dict[int, list[int]] = {}
        for item_id in sorted(self.items, key=lambda pk: self._item_order(self.items[pk])):
            by_aspect.setdefault(self.items[item_id].aspect_id, []).append(item_id)
        cells = set(self.cells)
        tables = []
        for aspect_id, item_ids in by_aspect.items():
            aspect = self.items[item_ids[0]].aspect
            stages = self.aspect_stages[aspect_id]
            table = AspectTable(
                aspect=aspect,
                stages=[(stage, STAGE_LABELS.get(stage, stage)) for stage in stages],
                every=[
                    (self[f"aspect_{aspect_id}_{stage}"], self[f"aspectunit_{aspect_id}_{stage}"])
                    for stage in stages
                ],
            )
            for item_id in item_ids:
                row = []
                for stage in stages:
                    if (item_id, stage) not in cells:
                        row.append(None)
                        continue
                    in_force = self.in_force.get((item_id, stage))
                    amount = self._value(f"limit_{item_id}_{stage}")
                    unit = self._value(f"unit_{item_id}_{stage}")
                    # An empty cell keeps the limit in force.
                    differs = bool(amount) and (
                        in_force is None or (amount, unit) != (str(in_force[0]), in_force[1])
                    )
                    row.append(
                        LimitCell(
                            item=self.items[item_id],
                            stage=stage,
                            amount=self[f"limit_{item_id}_{stage}"],
                            unit=self[f"unit_{item_id}_{stage}"],
                            in_force=in_force,
                            differs=differs,
                        )
                    )
                table.rows.append((self.items[item_id], row))
            tables.append(table)
        return tables

    @staticmethod
    def _item_order(item: Item) -> tuple:
        return (item.aspect.order, item.aspect.code, item.order, item.code)

    def weight_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (
                LABELS[key],
                self[f"weight_{key}"],
                self[f"floor_{key}"],
                self[f"ceiling_{key}"],
            )
            for key in WEIGHABLE_KEYS
        ]

    def deduction_fields(self) -> list[forms.BoundField]:
        return [self[f"deduction_{kind}"] for kind in SchemeDeduction.Kind.values]

    # --- what the service gets ----------------------------------------------------------

    def service_input(self) -> dict:
        """The arguments of services.update_scenario from the cleaned form: the limits typed
        per item, overridden by a value given for an aspect and stage (an empty cell keeps the
        limit in force); dates one a line; the scheme ({} when nothing is weighed)."""
        data = self.cleaned_data
        limits = []
        for item_id, stage in self.cells:
            amount = (data.get(f"limit_{item_id}_{stage}") or "").strip()
            unit = data.get(f"unit_{item_id}_{stage}") or ""
            aspect_id = self.items[item_id].aspect_id
            every = data.get(f"aspect_{aspect_id}_{stage}")
            if every is not None:
                amount = str(every)
                unit = data.get(f"aspectunit_{aspect_id}_{stage}") or unit
                if not unit:
                    unit = self.in_force.get((item_id, stage), (None, ""))[1]
            if not amount:
                continue
            limits.append({"item": item_id, "stage": stage, "amount": amount, "unit": unit})
        return {
            "name": data.get("name") or "",
            "note": data.get("note") or "",
            "limits": limits,
            "holidays": _lines(data.get("holidays")),
            "workdays": _lines(data.get("workdays")),
            "yellow_at_percent": (data.get("yellow_at_percent") or "").strip() or None,
            "scheme": self._scheme(),
        }

    def _scheme(self) -> dict:
        data = self.cleaned_data
        indicators = []
        for key in WEIGHABLE_KEYS:
            weight = (data.get(f"weight_{key}") or "").strip()
            floor = (data.get(f"floor_{key}") or "").strip()
            ceiling = (data.get(f"ceiling_{key}") or "").strip()
            if not (weight or floor or ceiling):
                continue
            indicators.append(
                {
                    "key": key,
                    "weight": weight or "0",
                    "floor": floor or None,
                    "ceiling": ceiling or None,
                }
            )
        deductions = []
        for kind in SchemeDeduction.Kind.values:
            points = (data.get(f"deduction_{kind}") or "").strip()
            if points:
                deductions.append({"kind": kind, "points": points})
        town = (data.get("town_evaluation_weight") or "").strip()
        if not (indicators or deductions or town):
            return {}
        return {
            "town_evaluation_weight": town or "0",
            "indicators": indicators,
            "deductions": deductions,
        }


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ReplayForm(forms.Form):
    """A replay's request: its name, the place (the city or one of its towns) and the period
    (a kind and a day inside it, or a custom start and end), read by parse_period."""

    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_("Empty: the scenario, the place and the period."),
    )
    place = forms.ModelChoiceField(label=_("Place"), queryset=Region.objects.none())
    kind = forms.ChoiceField(label=_("Period"), choices=PERIOD_KINDS, initial="month")
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
    period = SectionField()

    def __init__(self, *args, places, parse, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["place"].empty_label = None
        self._parse = parse
        self.period_value = None

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned.get("kind") != "custom" and not cleaned.get("anchor"):
            self.add_error("anchor", _("Give a day of the period (YYYY-MM-DD)."))
            return cleaned
        try:
            self.period_value = self._parse(self.data)
        except ValueError as error:
            self.add_error("period", str(error))
        return cleaned


class RenameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
