"""The login lockout with one limit per kind of guessing (django-axes' database handler).

Axes counts failed sign-ins per combination of AXES_LOCKOUT_PARAMETERS but compares every
combination with one AXES_FAILURE_LIMIT. Guessing comes in three shapes that need different
limits:

- one username from one address (a forgotten password, or guessing): AXES_FAILURE_LIMIT;
- many usernames from one address (password spraying): WHISTLE_LOCKOUT_ADDRESS_LIMIT, higher,
  since an office may share one public address;
- one username from many addresses (a distributed guess): WHISTLE_LOCKOUT_USERNAME_LIMIT,
  higher, since this lock also stops the colleague at their own desk.

So the handler reports to axes the failures "counted against the pair's limit": the largest
overrun of any combination's own limit, shifted so that reaching AXES_FAILURE_LIMIT means some
combination reached its limit. For the pair it is the plain count.

A success clears only the failures of that username from that address: clearing the whole
address would let a sprayer reset the address's count by signing in to an account of their own.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def parameter_limit(parameter: str | list[str], *, pair_limit: int) -> int:
    """The failure limit of one lockout combination."""
    names = {parameter} if isinstance(parameter, str) else set(parameter)
    if names == {"ip_address"}:
        return settings.WHISTLE_LOCKOUT_ADDRESS_LIMIT
    if names == {"username"}:
        return settings.WHISTLE_LOCKOUT_USERNAME_LIMIT
    return pair_limit


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        pair_limit = get_failure_limit(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        attempts_list = self.get_user_attempts(request, credentials)
        overruns = []
        for parameter, attempts in zip(parameters, attempts_list, strict=True):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            overruns.append(failures - parameter_limit(parameter, pair_limit=pair_limit))
        return max(0, pair_limit + max(overruns, default=-pair_limit))

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        count, _rows = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address
        ).delete()
        return count
