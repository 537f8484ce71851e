"""A new sign-in asks again whether a second factor is owed (the middleware's remembered
answer belongs to the sign-in before)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from teams.two_factor.middleware import CHECKED_KEY


@receiver(user_logged_in, dispatch_uid="teams.two_factor.forget_check")
def forget_the_last_check(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session.pop(CHECKED_KEY, None)
