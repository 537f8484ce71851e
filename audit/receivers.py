"""Sign-in events into the audit trail, from the signals of Django's auth and django-axes (the
sources of these events: no view of ours sees every sign-in, the API's token sign-in included)."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.models import AccessKind
from audit.services import record_access

# Django names the username field of the credentials after the user model's USERNAME_FIELD.
USERNAME_KEYS = ("username", "email")


def _typed_username(credentials: dict | None) -> str:
    for key in USERNAME_KEYS:
        value = (credentials or {}).get(key)
        if isinstance(value, str) and value:
            return value
    return ""


@receiver(user_logged_in, dispatch_uid="audit-sign-in")
def _signed_in(sender, request, user, **kwargs) -> None:
    record_access(request=request, kind=AccessKind.SIGN_IN, user=user)


@receiver(user_logged_out, dispatch_uid="audit-sign-out")
def _signed_out(sender, request, user, **kwargs) -> None:
    # A sign-out without a session (user None) is still a request worth its line.
    record_access(request=request, kind=AccessKind.SIGN_OUT, user=user)


@receiver(user_login_failed, dispatch_uid="audit-sign-in-failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    record_access(
        request=request, kind=AccessKind.SIGN_IN_FAILED, username=_typed_username(credentials)
    )


@receiver(user_locked_out, dispatch_uid="audit-locked-out")
def _locked_out(sender, request, username=None, ip_address=None, **kwargs) -> None:
    record_access(request=request, kind=AccessKind.LOCKED_OUT, username=username or "")
