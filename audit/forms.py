"""The audit search form: every filter optional; bad dates are refused with a message."""

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import AccessKind, Outcome
from audit.selectors import AuditFilters


class AuditSearchForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("Any kind")), *AccessKind.choices], required=False
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("Any outcome")), *Outcome.choices], required=False
    )
    case_number = forms.CharField(label=_("Case number"), max_length=64, required=False)
    address = forms.CharField(label=_("Client address"), max_length=64, required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        return data

    def filters(self) -> AuditFilters | None:
        """The filters of a valid form; None when it is not valid (nothing is shown)."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return AuditFilters(
            username=data["username"].strip(),
            kind=data["kind"],
            outcome=data["outcome"],
            case_number=data["case_number"].strip(),
            address=data["address"].strip(),
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
