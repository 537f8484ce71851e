"""The upload form of the import page; the services check the file itself."""

from django import forms
from django.utils.translation import gettext_lazy as _

from rollout.models import ImportRun


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportRun.Kind.choices)
    # Not required here: start_import refuses a missing file with its own message.
    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("GeoJSON for regions and grids; CSV or XLSX for the other kinds."),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: check the file and report, write nothing"),
        required=False,
        initial=True,
    )
