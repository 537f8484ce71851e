"""Web Push to every browser a user turned alerts on in (teams.models.PushSubscription),
through cases.webpush (VAPID, encrypted for each browser)."""

import json
from collections.abc import Iterable

from django.conf import settings

from cases.channels.base import Channel, DeliveryError, Message, PermanentDeliveryError
from cases.webpush import SubscriptionGone, WebPushFailed, push, push_configured
from teams.models import PushSubscription, User
from teams.push import forget_endpoints

# A push message must stay under about 4 KB once encrypted: the body is cut well below.
BODY_LIMIT = 1000


class PushChannel(Channel):
    """One delivery reaches all of a user's subscribed browsers; it counts as sent when at
    least one push service took it. A subscription the push service says is gone is dropped
    after the chunk (finish), not retried."""

    name = "push"

    def __init__(self) -> None:
        self.gone: list[str] = []  # appended from the sending threads (atomic under the GIL)

    def address(self, recipient: User) -> str | None:
        return self.addresses([recipient]).get(recipient.pk)

    def addresses(self, recipients: Iterable[User]) -> dict[int, str | None]:
        """Each user's subscriptions as one JSON address, newest first; one query."""
        ids = [user.pk for user in recipients]
        found: dict[int, list[dict]] = {}
        rows = (
            PushSubscription.objects.filter(user_id__in=ids)
            .order_by("user_id", "-created_at", "-id")
            .values_list("user_id", "endpoint", "p256dh", "auth")
        )
        for user_id, endpoint, p256dh, auth in rows:
            found.setdefault(user_id, []).append(
                {"endpoint": endpoint, "p256dh": p256dh, "auth": auth}
            )
        return {pk: json.dumps(found[pk]) if pk in found else None for pk in ids}

    def send(self, *, address: str, message: Message) -> str:
        if not push_configured():
            raise PermanentDeliveryError("push: the VAPID keys are not set")
        body = message.body if len(message.body) <= BODY_LIMIT else message.body[:BODY_LIMIT] + "…"
        payload = {
            "title": message.subject,
            "body": body,
            "url": message.url or "/notifications/",
            "tag": f"case-{message.number}" if message.number else message.kind,
        }
        reached, gone, failures = 0, 0, []
        for subscription in json.loads(address):
            try:
                push(
                    **subscription,
                    payload=payload,
                    timeout=settings.WHISTLE_DELIVERY_TIMEOUT_SECONDS,
                )
            except SubscriptionGone:
                self.gone.append(subscription["endpoint"])
                gone += 1
            except WebPushFailed as error:
                failures.append(f"HTTP {error.status}" if error.status else "no answer")
            else:
                reached += 1
        if reached:
            return f"{reached} of {reached + len(failures) + gone} browsers"
        if failures:
            raise DeliveryError(f"push: {', '.join(failures)}")
        raise PermanentDeliveryError("push: every subscription is gone")

    def finish(self) -> None:
        forget_endpoints(endpoints=self.gone)
        self.gone = []
