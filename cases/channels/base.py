"""The interface every delivery channel implements, and the errors a send may raise."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from teams.models import User


class DeliveryError(Exception):
    """A send failed in a way worth trying again (a timeout, a 5xx, a rate limit)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermanentDeliveryError(DeliveryError):
    """A send that will never succeed as it is (an invalid number, an unknown user id): the
    delivery is given up at once instead of retried."""


@dataclass(frozen=True)
class Message:
    """One notification rendered in its reader's language, ready for any channel."""

    subject: str
    body: str
    url: str | None
    link: str  # "Open the case: <url>" in the reader's language, or ""
    number: str
    kind: str
    language: str

    def text(self) -> str:
        """Subject, body and link as one plain text (DingTalk, WeCom)."""
        return "\n\n".join(part for part in (self.subject, self.body, self.link) if part)


class Channel:
    """One way of reaching a recipient beyond the inbox.

    `address` says where a recipient is reached on this channel (None: nowhere, and the
    delivery is skipped with "no address"); `send` delivers one message there and returns the
    provider's message id, raising DeliveryError (retried later) or PermanentDeliveryError
    (given up). `send` runs in a worker thread and must not touch the database; it must time
    out within a few seconds. Credentials come from settings, read when the channel is made.
    """

    name: ClassVar[str] = ""

    def address(self, recipient: User) -> str | None:
        raise NotImplementedError

    def addresses(self, recipients: Iterable[User]) -> dict[int, str | None]:
        """Many recipients' addresses at once (a channel whose addresses live in another
        table, such as push subscriptions, overrides this with one query)."""
        return {user.pk: self.address(user) for user in recipients}

    def send(self, *, address: str, message: Message) -> str:
        raise NotImplementedError

    def finish(self) -> None:
        """Called in the worker's own thread after a chunk was sent: the place for database
        work the sending threads found to do (push: forget the subscriptions that are gone)."""


def short_error(error: BaseException | str, limit: int = 200) -> str:
    """A one-line, bounded error text for the delivery row (never a credential: channels raise
    messages built from the provider's code and text only)."""
    text = error if isinstance(error, str) else (f"{type(error).__name__}: {error}")
    text = " ".join(str(text).split())
    return text[: limit - 1] + "…" if len(text) > limit else text
