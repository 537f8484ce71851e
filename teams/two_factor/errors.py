"""Why the second factor was refused."""

from django.utils.translation import gettext_lazy as _

from core.errors import ServiceError


class CodeRefused(ServiceError):
    code = "code_refused"
    default_message = _(
        "That code is not right. Type the 6 digits your authenticator app shows now, or one "
        "of your recovery codes."
    )
    http_status = 400


class TooManyTries(ServiceError):
    code = "too_many_tries"
    default_message = _("Too many wrong codes. Wait a little and try again.")
    http_status = 429


class NoEnrolment(ServiceError):
    code = "no_enrolment"
    default_message = _("Set up your authenticator app first.")
    http_status = 409


class SecondFactorRequired(ServiceError):
    code = "second_factor_required"
    default_message = _(
        "Your role requires two-factor sign-in: it cannot be turned off for your account."
    )
    http_status = 403
