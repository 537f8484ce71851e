"""One's own alert preference ("My alerts"): the channels offered here, the preference as it
stands, the channels that cannot reach the user, and the one service that changes it.

Which notification is urgent, normal or routine, and what each does with the preference, is
decided in cases.alerting (a higher layer); this module only keeps what the user chose.
"""

from dataclasses import dataclass
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ServiceError
from teams.models import AlertChannel, AlertPreference, User

# The account field that holds a user's address on a channel. A channel without an entry here
# (push: a subscription of the browser, kept elsewhere) is not checked.
ADDRESS_FIELDS: dict[str, str] = {
    AlertChannel.MAIL.value: "email",
    AlertChannel.SMS.value: "phone",
    AlertChannel.DINGTALK.value: "dingtalk_userid",
    AlertChannel.WECOM.value: "wecom_userid",
}


class AlertPreferenceInvalid(ServiceError):
    code = "invalid"
    default_message = gettext_lazy("These alert settings cannot be saved.")


@dataclass(frozen=True)
class Unreachable:
    """A channel the user chose (or that urgent alerts use) that has no address to reach them."""

    channel: str
    message: str


@dataclass(frozen=True)
class Alerts:
    """The user's preference as the page and the API show it."""

    channels: tuple[str, ...]  # the channels of normal alerts, among those offered
    uses_defaults: bool
    stored_channels: tuple[str, ...] | None  # as stored: None for the defaults
    urgent_sms: bool
    quiet_start: time | None
    quiet_end: time | None
    offered: tuple[str, ...]
    unreachable: tuple[Unreachable, ...]
    updated_at: object | None


# --- selectors ---------------------------------------------------------------------------------


def offered_channels() -> tuple[str, ...]:
    """The channels beyond the inbox that this installation delivers through, in a fixed order."""
    configured = set(settings.WHISTLE_NOTIFICATION_CHANNELS)
    return tuple(name for name in AlertChannel.values if name in configured)


def alert_preference(*, user: User) -> AlertPreference | None:
    return AlertPreference.objects.filter(user=user).first()


def unreachable(*, user: User, channels: tuple[str, ...], urgent_sms: bool) -> list[Unreachable]:
    """The offered channels that alerts would use but that have no address for the user: the
    chosen ones, and SMS when urgent alerts are texted (at once, or when left unread)."""
    offered = offered_channels()
    used = [name for name in offered if name in channels]
    texts_urgent = urgent_sms or settings.WHISTLE_URGENT_ESCALATION_MINUTES > 0
    if texts_urgent and AlertChannel.SMS.value in offered and AlertChannel.SMS.value not in used:
        used.append(AlertChannel.SMS.value)
    rows = []
    for name in used:
        field = ADDRESS_FIELDS.get(name)
        if field is None or getattr(user, field, ""):
            continue
        label = AlertChannel(name).label
        if name == AlertChannel.SMS.value and name not in channels:
            message = _(
                "Urgent alerts are texted to your phone, but your account has no phone number. "
                "Ask an administrator to add it."
            )
        else:
            message = _(
                "%(channel)s cannot reach you: your account has no %(address)s. Ask an "
                "administrator to add it."
            ) % {
                "channel": str(label)[:1].upper() + str(label)[1:],
                "address": User._meta.get_field(field).verbose_name,
            }
        rows.append(Unreachable(channel=name, message=message))
    return rows


def alerts_of(*, user: User) -> Alerts:
    preference = alert_preference(user=user)
    offered = offered_channels()
    chosen = preference.chosen_channels if preference else AlertPreference.DEFAULT_CHANNELS
    channels = tuple(name for name in offered if name in chosen)
    urgent_sms = preference.urgent_sms if preference else True
    return Alerts(
        channels=channels,
        uses_defaults=preference is None or preference.channels is None,
        stored_channels=(
            tuple(preference.channels)
            if preference is not None and preference.channels is not None
            else None
        ),
        urgent_sms=urgent_sms,
        quiet_start=preference.quiet_start if preference else None,
        quiet_end=preference.quiet_end if preference else None,
        offered=offered,
        unreachable=tuple(unreachable(user=user, channels=channels, urgent_sms=urgent_sms)),
        updated_at=preference.updated_at if preference else None,
    )


# --- services ----------------------------------------------------------------------------------


def set_alert_preference(
    *,
    user: User,
    channels: list[str] | None,
    urgent_sms: bool,
    quiet_start: time | None,
    quiet_end: time | None,
) -> AlertPreference:
    """Store the user's own preference (created on first use); `channels` None means the
    defaults. A channel this installation does not offer cannot be newly chosen; one chosen
    while it was offered is kept (cases.alerting never uses a channel that is not configured).
    Two saves at once leave one row, with the values of the later one."""
    candidate = AlertPreference(
        user=user,
        channels=list(channels) if isinstance(channels, list | tuple) else channels,
        urgent_sms=urgent_sms,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
    )
    try:
        candidate.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise AlertPreferenceInvalid(
            fields={field: list(messages) for field, messages in error.message_dict.items()}
        ) from error
    with transaction.atomic():
        stored = (
            AlertPreference.objects.select_for_update()
            .filter(user=user)
            .values_list("channels", flat=True)
            .first()
        )
        if candidate.channels is not None:
            kept = set(stored) if isinstance(stored, list) else set()
            allowed = set(offered_channels()) | kept
            absent = [name for name in candidate.channels if name not in allowed]
            if absent:
                raise AlertPreferenceInvalid(
                    fields={
                        "channels": [
                            _("Not available here: %(names)s.") % {"names": ", ".join(absent)}
                        ]
                    }
                )
        preference, _created = AlertPreference.objects.update_or_create(
            user=user,
            defaults={
                "channels": candidate.channels,
                "urgent_sms": urgent_sms,
                "quiet_start": quiet_start,
                "quiet_end": quiet_end,
            },
        )
    return preference
