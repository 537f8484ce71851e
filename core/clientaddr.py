"""The client's address: one notion for the login lockout, every rate limit and the audit trail.

Behind the reverse proxy (WHISTLE_BEHIND_PROXY) it is the right-most X-Forwarded-For entry,
the one our proxy appended; entries to its left come from the client and could be forged to
dodge a limit. Otherwise it is the socket's address.
"""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    if settings.WHISTLE_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR")
