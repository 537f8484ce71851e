"""WeCom (企业微信) application messages: /cgi-bin/gettoken and /cgi-bin/message/send.

https://developer.work.weixin.qq.com/document/path/90236
"""

from django.conf import settings

from cases.channels.base import Message, PermanentDeliveryError
from cases.channels.workapp import WorkMessagingChannel
from teams.models import User


class WeComChannel(WorkMessagingChannel):
    """A text application message to `User.wecom_userid` from the configured agent."""

    name = "wecom"
    credentials_path = "/cgi-bin/gettoken"
    send_path = "/cgi-bin/message/send"
    token_errors = frozenset({40014, 42001})
    retryable_errors = frozenset({-1, 45009, 45033, 45047})

    def __init__(self) -> None:
        super().__init__(
            base_url=settings.WHISTLE_WECOM_BASE_URL, app_id=settings.WHISTLE_WECOM_CORP_ID
        )

    def address(self, recipient: User) -> str | None:
        return recipient.wecom_userid or None

    def token_params(self) -> dict[str, str]:
        return {
            "corpid": settings.WHISTLE_WECOM_CORP_ID,
            "corpsecret": settings.WHISTLE_WECOM_SECRET,
        }

    def body(self, *, address: str, message: Message) -> dict:
        return {
            "touser": address,
            "msgtype": "text",
            "agentid": int(settings.WHISTLE_WECOM_AGENT_ID or 0),
            "text": {"content": message.text()},
            "safe": 0,
        }

    def accepted(self, *, address: str, answer: dict) -> str:
        # A user id the directory does not know is reported, not refused.
        if address in str(answer.get("invaliduser", "")).split("|"):
            raise PermanentDeliveryError(f"wecom: invalid user {address}")
        return str(answer.get("msgid", ""))
