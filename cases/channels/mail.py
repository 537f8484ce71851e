"""Mail through Django's configured email backend (SMTP in production)."""

from django.core.mail import send_mail

from cases.channels.base import Channel, Message
from teams.models import User


class MailChannel(Channel):
    name = "mail"

    def address(self, recipient: User) -> str | None:
        return recipient.email or None

    def send(self, *, address: str, message: Message) -> str:
        # Any error (SMTP refused, timeout) is retried by the framework.
        body = f"{message.body}\n\n{message.link}" if message.link else message.body
        send_mail(message.subject, body, None, [address], fail_silently=False)
        return ""
