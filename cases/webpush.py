"""Web Push: one alert to one browser subscription (teams.models.PushSubscription), encrypted
for that browser (RFC 8291, aes128gcm) and signed with the installation's VAPID key (RFC 8292).

The push channel (cases.channels.push) calls it; it does not retry: a push service that answers
404 or 410 says the subscription is gone (SubscriptionGone, the channel drops the row); any
other failure raises WebPushFailed, and the caller decides whether to try again."""

import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

# Seconds a push service keeps an alert for a phone that is off, and waits for us.
TTL_SECONDS = 24 * 3600
TIMEOUT_SECONDS = 10
GONE = (404, 410)


class WebPushFailed(Exception):
    """The push service did not take the alert (network, 5xx, 429, a refusal): try again."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


def push_configured() -> bool:
    return bool(settings.WHISTLE_VAPID_PUBLIC_KEY and settings.WHISTLE_VAPID_PRIVATE_KEY)


def push_offered() -> bool:
    """Whether the inbox offers "Turn on alerts on this phone": the keys are set and push is
    one of the notification channels (else a subscription would never receive anything)."""
    return push_configured() and "push" in settings.WHISTLE_NOTIFICATION_CHANNELS


class SubscriptionGone(Exception):
    """The push service says this browser's subscription no longer exists (404 or 410)."""


def push(
    *, endpoint: str, p256dh: str, auth: str, payload: dict, timeout: float = TIMEOUT_SECONDS
) -> None:
    """Send `payload` ({"title", "body", "url", "tag"}) to one browser subscription. Touches
    no database (the delivery channel calls it from its sending threads)."""
    if not push_configured():
        raise ImproperlyConfigured(
            "WHISTLE_VAPID_PUBLIC_KEY and WHISTLE_VAPID_PRIVATE_KEY must be set to send Web Push."
        )
    try:
        webpush(
            subscription_info={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=json.dumps(payload, ensure_ascii=False),
            vapid_private_key=Vapid.from_string(settings.WHISTLE_VAPID_PRIVATE_KEY),
            # A fresh dict: pywebpush writes the audience and expiry into it.
            vapid_claims={"sub": settings.WHISTLE_VAPID_SUBJECT},
            ttl=TTL_SECONDS,
            timeout=timeout,
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in GONE:
            raise SubscriptionGone(endpoint) from error
        raise WebPushFailed(str(error), status=status) from error
    except OSError as error:  # requests' connection errors and timeouts are OSErrors
        raise WebPushFailed(str(error)) from error
