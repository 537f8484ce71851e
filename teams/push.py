"""A user's Web Push subscriptions (one per browser with alerts turned on): check what a
browser sent, keep it once per endpoint, remove it. Sending is cases.webpush."""

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from teams.models import PushSubscription, User

MAX_ENDPOINT = PushSubscription._meta.get_field("endpoint").max_length
MAX_USER_AGENT = PushSubscription._meta.get_field("user_agent").max_length


@dataclass(frozen=True)
class SubscriptionData:
    """What PushSubscription.toJSON() of a browser gives, checked."""

    endpoint: str
    p256dh: str
    auth: str


def _b64url(value: object, *, length: int, message: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValidationError(message)
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValidationError(message) from error
    if len(raw) != length:
        raise ValidationError(message)
    return value.rstrip("=")


def parse_subscription(data: object) -> SubscriptionData:
    """The subscription a browser sent ({"endpoint", "keys": {"p256dh", "auth"}}), or a
    ValidationError saying in the user's language what is wrong with it."""
    if not isinstance(data, dict):
        raise ValidationError(_("Send the browser's push subscription as a JSON object."))
    endpoint = data.get("endpoint")
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if (
        parts is None
        or parts.scheme != "https"
        or not parts.hostname
        or len(endpoint) > MAX_ENDPOINT
    ):
        raise ValidationError(
            _(
                "The push service's address (endpoint) must be an https address "
                "of at most %(n)d characters."
            )
            % {"n": MAX_ENDPOINT}
        )
    keys = data.get("keys")
    if not isinstance(keys, dict):
        raise ValidationError(_("The subscription has no keys (p256dh and auth)."))
    p256dh = _b64url(
        keys.get("p256dh"),
        length=65,
        message=_("The browser's public key (p256dh) is not a P-256 key in base64url."),
    )
    auth = _b64url(
        keys.get("auth"),
        length=16,
        message=_("The authentication secret (auth) is not 16 bytes in base64url."),
    )
    return SubscriptionData(endpoint=endpoint, p256dh=p256dh, auth=auth)


def subscribe(
    *, user: User, subscription: SubscriptionData, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Keep the browser's subscription for `user`; the same endpoint again updates its row
    (a phone subscribing twice, or signed in by another user now: alerts follow the user
    signed in). Returns the row and whether it is new."""
    values = {
        "user": user,
        "p256dh": subscription.p256dh,
        "auth": subscription.auth,
        "user_agent": user_agent[:MAX_USER_AGENT],
    }
    try:
        with transaction.atomic():
            return PushSubscription.objects.update_or_create(
                endpoint=subscription.endpoint, defaults=values
            )
    except IntegrityError:
        # Two requests of one browser at once: the other one created the row.
        PushSubscription.objects.filter(endpoint=subscription.endpoint).update(**values)
        return PushSubscription.objects.get(endpoint=subscription.endpoint), False


def unsubscribe(*, user: User, endpoint: str) -> int:
    """Remove the user's own subscription of this endpoint; another user's stays."""
    deleted, _details = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted


def forget_endpoints(*, endpoints: list[str]) -> int:
    """Drop the subscriptions a push service answered are gone (the delivery channel collects
    them while sending, and drops them at once after)."""
    if not endpoints:
        return 0
    deleted, _details = PushSubscription.objects.filter(endpoint__in=endpoints).delete()
    return deleted


def push_subscriptions(*, user: User) -> list[PushSubscription]:
    return list(PushSubscription.objects.filter(user=user))
