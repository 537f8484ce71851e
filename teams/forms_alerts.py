"""The "My alerts" form: the channels offered here, texting urgent alerts, and quiet hours."""

from django import forms
from django.utils.translation import gettext_lazy as _

from teams.models import AlertChannel


class AlertPreferenceForm(forms.Form):
    """What the user may choose; the service (teams.alerts) checks it again and stores it."""

    channels = forms.MultipleChoiceField(
        label=_("Channels for normal alerts"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick none to keep normal alerts in the inbox only."),
    )
    urgent_sms = forms.BooleanField(
        label=_("Text me urgent alerts at once"),
        required=False,
        help_text=_(
            "Off: an urgent alert is texted only if you have not read it after the delay above."
        ),
    )
    quiet_start = forms.TimeField(
        label=_("Quiet hours from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("For example 22:00 until 07:00. Leave both empty for no quiet hours."),
    )

    def __init__(self, *args, offered: tuple[str, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channels"].choices = [(name, AlertChannel(name).label) for name in offered]
        if AlertChannel.SMS.value not in offered:
            del self.fields["urgent_sms"]
