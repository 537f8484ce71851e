"""DingTalk work notifications (工作通知): corp conversation asyncsend_v2 with an app token.

https://open.dingtalk.com/document/orgapp/asynchronous-sending-of-enterprise-session-messages
"""

from django.conf import settings

from cases.channels.base import Message
from cases.channels.workapp import WorkMessagingChannel
from teams.models import User


class DingTalkChannel(WorkMessagingChannel):
    """A text work notification to `User.dingtalk_userid` from the configured agent."""

    name = "dingtalk"
    credentials_path = "/gettoken"
    send_path = "/topapi/message/corpconversation/asyncsend_v2"
    token_errors = frozenset({40014, 42001, 88})
    retryable_errors = frozenset({-1, 90002, 90006, 90018, 143105})

    def __init__(self) -> None:
        super().__init__(
            base_url=settings.WHISTLE_DINGTALK_BASE_URL, app_id=settings.WHISTLE_DINGTALK_APP_KEY
        )

    def address(self, recipient: User) -> str | None:
        return recipient.dingtalk_userid or None

    def token_params(self) -> dict[str, str]:
        return {
            "appkey": settings.WHISTLE_DINGTALK_APP_KEY,
            "appsecret": settings.WHISTLE_DINGTALK_APP_SECRET,
        }

    def body(self, *, address: str, message: Message) -> dict:
        return {
            "agent_id": int(settings.WHISTLE_DINGTALK_AGENT_ID or 0),
            "userid_list": address,
            "msg": {"msgtype": "text", "text": {"content": message.text()}},
        }

    def accepted(self, *, address: str, answer: dict) -> str:
        return str(answer.get("task_id", ""))
