"""Writes of the second factor: enrol an authenticator, check a code, replace the recovery
codes, turn it off. A wrong code is counted on its device even though the call raises (the
throttle's counter is saved before the error leaves the transaction)."""

import logging
import re
from base64 import b32encode

from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from teams.models import User
from teams.two_factor.errors import CodeRefused, NoEnrolment, SecondFactorRequired, TooManyTries
from teams.two_factor.selectors import second_factor_required

logger = logging.getLogger("whistle.security")

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"
_TOTP_CODE = re.compile(r"^\d{6}$")


def normalise_code(code: str) -> str:
    """Spaces and dashes a person types into a code do not count; recovery codes are
    lower case."""
    return re.sub(r"[\s-]+", "", code or "").lower()


def secret_text(*, device: TOTPDevice) -> str:
    """The device's secret in base32, in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _refuse_if_throttled(device: Device) -> None:
    allowed, details = device.verify_is_allowed()
    if allowed:
        return
    locked_until = (details or {}).get("locked_until")
    if locked_until is None:
        raise TooManyTries()
    seconds = max(1, int((locked_until - timezone.now()).total_seconds() + 0.999))
    raise TooManyTries(
        ngettext(
            "Too many wrong codes. Wait %(seconds)d second and try again.",
            "Too many wrong codes. Wait %(seconds)d seconds and try again.",
            seconds,
        )
        % {"seconds": seconds}
    )


def _issue_recovery_codes(*, user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    device.throttle_reset()
    return codes


@transaction.atomic
def start_enrolment(*, user: User) -> TOTPDevice:
    """The authenticator being set up: the same secret on every visit until it is confirmed,
    so a phone that scanned it once still matches."""
    pending = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("-pk")
        .first()
    )
    if pending is not None:
        return pending
    return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def confirm_enrolment(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator being set up with one of its codes; it replaces any earlier
    authenticator, and a fresh set of recovery codes is issued (returned, shown once)."""
    code = normalise_code(code)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-pk")
            .first()
        )
        if device is None:
            raise NoEnrolment()
        _refuse_if_throttled(device)
        accepted = bool(_TOTP_CODE.match(code)) and device.verify_token(code)
        if not accepted and not _TOTP_CODE.match(code):
            device.throttle_increment()
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            codes = _issue_recovery_codes(user=user)
            logger.info("two-factor: %s enrolled an authenticator", user.get_username())
            return device, codes
    logger.warning("two-factor: wrong enrolment code for %s", user.get_username())
    raise CodeRefused()


def verify_second_factor(*, user: User, code: str) -> Device:
    """The device that accepts `code`: six digits go to the authenticator, anything else to
    the recovery codes (each works once). Refused: CodeRefused, or TooManyTries while the
    device's throttle (1, 2, 4, 8 ... seconds after each wrong code) holds."""
    code = normalise_code(code)
    model = TOTPDevice if _TOTP_CODE.match(code) else StaticDevice
    with transaction.atomic():
        device = (
            model.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("-pk")
            .first()
        )
        if device is None and model is StaticDevice:
            # No recovery codes left: still count the try against the authenticator.
            device = (
                TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
            if device is None:
                raise NoEnrolment()
            _refuse_if_throttled(device)
            device.throttle_increment()
        elif device is None:
            raise NoEnrolment()
        else:
            _refuse_if_throttled(device)
            if code and device.verify_token(code):
                logger.info("two-factor: %s verified with %s", user.get_username(), device.name)
                return device
    logger.warning("two-factor: wrong code for %s", user.get_username())
    raise CodeRefused()


@transaction.atomic
def replace_recovery_codes(*, user: User) -> list[str]:
    """A new set of recovery codes; the old ones stop working. Only with an authenticator."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise NoEnrolment()
    logger.info("two-factor: %s replaced the recovery codes", user.get_username())
    return _issue_recovery_codes(user=user)


@transaction.atomic
def turn_off_second_factor(*, user: User) -> None:
    """Remove the authenticator and the recovery codes; refused for the privileged roles."""
    if second_factor_required(user=user):
        raise SecondFactorRequired()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    logger.info("two-factor: %s turned two-factor sign-in off", user.get_username())
