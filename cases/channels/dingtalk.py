"""DingTalk work notifications (工作通知): corp conversation asyncsend_v2 with an app token.

https://open.dingtalk.com/document/orgapp/asynchronous-sending-of-enterprise-session-messages
"""

import json

import requests
from django.conf import settings

from cases.channels import tokens
from cases.channels.base import Channel, DeliveryError, Message, PermanentDeliveryError
from teams.models import User

# The token was refused: fetch a new one and send again once.
TOKEN_ERRORS = frozenset({40014, 42001, 88})
# Worth retrying later: system busy, rate limits.
RETRYABLE_ERRORS = frozenset({-1, 90002, 90006, 90018, 143105})


def call(method: str, url: str, **kwargs) -> dict:
    """One HTTP call with the channel's timeout; a transport error or non-JSON answer is
    retryable."""
    try:
        response = requests.request(
            method, url, timeout=settings.WHISTLE_DELIVERY_TIMEOUT_SECONDS, **kwargs
        )
    except requests.RequestException as error:
        raise DeliveryError(f"{type(error).__name__}") from error
    if response.status_code >= 500:
        raise DeliveryError(f"HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as error:
        raise DeliveryError(f"HTTP {response.status_code}: not JSON") from error


class DingTalkChannel(Channel):
    """A text work notification to `User.dingtalk_userid` from the configured agent."""

    name = "dingtalk"

    def __init__(self) -> None:
        self.base = settings.WHISTLE_DINGTALK_BASE_URL.rstrip("/")
        self.key = ("dingtalk", self.base, settings.WHISTLE_DINGTALK_APP_KEY)

    def address(self, recipient: User) -> str | None:
        return recipient.dingtalk_userid or None

    def _fetch_token(self) -> tuple[str, float]:
        answer = call(
            "GET",
            f"{self.base}/gettoken",
            params={
                "appkey": settings.WHISTLE_DINGTALK_APP_KEY,
                "appsecret": settings.WHISTLE_DINGTALK_APP_SECRET,
            },
        )
        if answer.get("errcode") != 0 or not answer.get("access_token"):
            code = answer.get("errcode")
            raise DeliveryError(f"dingtalk gettoken: {code}: {answer.get('errmsg', '')}")
        return answer["access_token"], float(answer.get("expires_in") or 7200)

    def send(self, *, address: str, message: Message) -> str:
        body = {
            "agent_id": int(settings.WHISTLE_DINGTALK_AGENT_ID or 0),
            "userid_list": address,
            "msg": {"msgtype": "text", "text": {"content": message.text()}},
        }
        for attempt in range(2):
            token = tokens.get(self.key, self._fetch_token)
            answer = call(
                "POST",
                f"{self.base}/topapi/message/corpconversation/asyncsend_v2",
                params={"access_token": token},
                data=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json"},
            )
            code = answer.get("errcode")
            if code == 0:
                return str(answer.get("task_id", ""))
            if code in TOKEN_ERRORS and attempt == 0:
                tokens.forget(self.key, token)
                continue
            break
        text = f"dingtalk: {code}: {answer.get('errmsg', '')}"
        if code in RETRYABLE_ERRORS or code in TOKEN_ERRORS:
            raise DeliveryError(text)
        raise PermanentDeliveryError(text)
