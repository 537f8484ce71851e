"""Delivery channels beyond the inbox, behind one interface (cases.channels.base.Channel).

The framework (cases.channels.delivery) keeps one Delivery row per notification and channel,
claims due rows, sends them through the channel and records the outcome with retries.
"""

import logging

from django.conf import settings

from cases.channels.base import Channel, DeliveryError, Message, PermanentDeliveryError
from cases.channels.dingtalk import DingTalkChannel
from cases.channels.mail import MailChannel
from cases.channels.push import PushChannel
from cases.channels.sms import SmsChannel
from cases.channels.wecom import WeComChannel

logger = logging.getLogger(__name__)

INBOX = "inbox"

REGISTRY: dict[str, type[Channel]] = {
    MailChannel.name: MailChannel,
    PushChannel.name: PushChannel,
    SmsChannel.name: SmsChannel,
    DingTalkChannel.name: DingTalkChannel,
    WeComChannel.name: WeComChannel,
}


def configured_names() -> list[str]:
    """The delivery channels named in WHISTLE_NOTIFICATION_CHANNELS (not the inbox), in
    order; unknown names are logged and left out."""
    names = []
    for name in settings.WHISTLE_NOTIFICATION_CHANNELS:
        if name == INBOX:
            continue
        if name not in REGISTRY:
            logger.warning("Unknown notification channel %r in settings", name)
            continue
        names.append(name)
    return names


def channel(name: str) -> Channel:
    return REGISTRY[name]()


__all__ = [
    "INBOX",
    "REGISTRY",
    "Channel",
    "DeliveryError",
    "Message",
    "PermanentDeliveryError",
    "channel",
    "configured_names",
]
