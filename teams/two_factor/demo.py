"""The demo's second factor: the privileged demo users (town1, city1, supervisor1, auditor1,
admin) get an authenticator with one published key and ten published recovery codes, put back
by every `seed_demo`, so that the demo can be signed into without a phone (README, Demo
logins)."""

from base64 import b32encode

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from teams.models import User
from teams.privilege import is_privileged
from teams.two_factor.services import RECOVERY_NAME

# 20 bytes, as django-otp's own keys; public like the demo password.
DEMO_TOTP_KEY = b"whistle-demo-totp-20"
DEMO_RECOVERY_CODES = [f"demo{n:04d}" for n in range(1, 11)]
DEMO_DEVICE_NAME = "demo authenticator"


def demo_secret() -> str:
    """The demo key as an authenticator app takes it (base32)."""
    return b32encode(DEMO_TOTP_KEY).decode().rstrip("=")


@transaction.atomic
def give_demo_second_factor(*, users: list[User]) -> list[str]:
    """Give each privileged user among `users` the demo authenticator and recovery codes,
    replacing whatever else they had; the usernames that got them. A second run changes
    nothing, except to put back the recovery codes used since."""
    given = []
    for user in users:
        if not is_privileged(user=user):
            continue
        _demo_authenticator(user=user)
        _demo_recovery_codes(user=user)
        given.append(user.get_username())
    return given


def _demo_authenticator(*, user: User) -> None:
    wanted = {"key": DEMO_TOTP_KEY.hex(), "confirmed": True, "throttling_failure_count": 0}
    device = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME).first()
    TOTPDevice.objects.filter(user=user).exclude(pk=getattr(device, "pk", None)).delete()
    if device is None:
        TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, **wanted)
        return
    changed = [name for name, value in wanted.items() if getattr(device, name) != value]
    if changed:
        for name in changed:
            setattr(device, name, wanted[name])
        device.throttling_failure_timestamp = None
        device.save(update_fields=[*changed, "throttling_failure_timestamp"])


def _demo_recovery_codes(*, user: User) -> None:
    device = StaticDevice.objects.filter(user=user, name=RECOVERY_NAME).first()
    StaticDevice.objects.filter(user=user).exclude(pk=getattr(device, "pk", None)).delete()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    elif not device.confirmed or device.throttling_failure_count:
        device.confirmed = True
        device.throttle_reset(commit=False)
        device.save()
    device.token_set.exclude(token__in=DEMO_RECOVERY_CODES).delete()
    present = set(device.token_set.values_list("token", flat=True))
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=code)
        for code in DEMO_RECOVERY_CODES
        if code not in present
    )
