"""Reads about a user's second factor."""

from enum import StrEnum

from django.conf import settings
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from teams.models import User
from teams.privilege import is_privileged


class Owed(StrEnum):
    """What a signed-in session still owes before it may go anywhere."""

    NOTHING = "nothing"
    CODE = "code"  # the user has an authenticator: give its code (or a recovery code)
    ENROLMENT = "enrolment"  # a privileged user without one: set it up first


def authenticator(*, user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if any."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("-pk").first()


def has_second_factor(*, user: User) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def recovery_device(*, user: User) -> StaticDevice | None:
    return StaticDevice.objects.devices_for_user(user, confirmed=True).order_by("-pk").first()


def second_factor_required(*, user: User) -> bool:
    """Whether the user may not go without a second factor (privileged roles, staff)."""
    return settings.WHISTLE_REQUIRE_TWO_FACTOR and is_privileged(user=user)


def owed(*, user: User, verified: bool) -> Owed:
    """What the session of `user` must still do: nothing once verified; a code when the user
    has a device; enrolment when the user must have one and has none."""
    if not user.is_authenticated or verified:
        return Owed.NOTHING
    if has_second_factor(user=user):
        return Owed.CODE
    if second_factor_required(user=user):
        return Owed.ENROLMENT
    return Owed.NOTHING
