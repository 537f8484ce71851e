"""The bulk form of the list pages: one action (or an export) on the rows ticked in the list.

The rows' checkboxes sit in the list (`form="bulk-…"`), the form beside it; the services check
each row (cases.services.bulk)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.services.bulk import MAX_ROWS, bulk_action_names
from cases.workflow import REGISTRY
from core.exports import FORMATS

EXPORT = "export"


class IdsField(forms.Field):
    """The ids of the ticked rows (name="ids", once per row)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        ids = []
        for raw in values:
            text = str(raw).strip()
            if not text.isdigit() or not 1 <= int(text) <= 2**63 - 1:
                raise forms.ValidationError(_("Select rows of the list."))
            ids.append(int(text))
        return list(dict.fromkeys(ids))

    def validate(self, value: list[int]) -> None:
        if not value:
            raise forms.ValidationError(_("Select at least one row."))
        if len(value) > MAX_ROWS:
            raise forms.ValidationError(
                _("Select at most %(count)d rows at once.") % {"count": MAX_ROWS}
            )


class BulkForm(forms.Form):
    action = forms.ChoiceField(label=_("With the selected rows"))
    ids = IdsField()
    assignee = forms.IntegerField(label=_("Team member"), required=False, min_value=1)
    note = forms.CharField(label=_("What the units must do now"), required=False, max_length=4000)
    format = forms.ChoiceField(
        label=_("File format"),
        required=False,
        choices=[(name, name.upper()) for name in FORMATS],
    )
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    def __init__(self, *args: Any, on: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on = on
        self.fields["action"].choices = [
            *((name, REGISTRY.get(on=on, name=name).button) for name in bulk_action_names(on=on)),
            (EXPORT, _("Export")),
        ]

    def clean(self) -> dict:
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not data.get("assignee"):
            self.add_error("assignee", _("Choose the member to assign."))
        if action == "urge" and not (data.get("note") or "").strip():
            self.add_error("note", _("Say what the units must do now."))
        return data

    def action_data(self) -> dict:
        """The input every row's action shares, in the services' names."""
        data = self.cleaned_data
        if data["action"] == "assign":
            return {"assignee": data["assignee"]}
        if data["action"] == "urge":
            return {"note": data["note"]}
        return {}
