"""The forms of a transfer (移交): a case to another village, a dispatch to another unit. They
offer the places and units in the actor's reach; the service checks the same rules and its
refusals land on the same fields (cases/services/transfers.py)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms_detail import (
    CaseActionForm,
    DispatchActionForm,
    HandlerChoiceMixin,
    TeamChoiceField,
    _text,
)
from cases.selectors import transfer_villages
from cases.selectors_pages import detail as selectors
from teams.levels import with_levels


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.parent.name}"


class TransferForm(CaseActionForm):
    village = VillageChoiceField(
        label=with_levels(_("Move to the %(village)s")),
        queryset=None,
        required=False,
        empty_label=with_levels(_("choose a %(village)s")),
        help_text=_("It is screened there again, with fresh time limits."),
    )
    reason = _text(_("Why it is transferred"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = transfer_villages(user=self.user, case=self.case)


class TransferDispatchForm(HandlerChoiceMixin, DispatchActionForm):
    team = TeamChoiceField(label=_("Team"), queryset=None, required=False)
    department = TeamChoiceField(label=_("Department"), queryset=None, required=False)
    reason = _text(_("Why it is moved"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams, departments = selectors.dispatch_targets(case=self.dispatch.case)
        self.handler_fields(
            teams.exclude(pk=self.dispatch.team_id or 0),
            departments.exclude(pk=self.dispatch.department_id or 0),
        )
