"""WeCom (企业微信) application messages: /cgi-bin/gettoken and /cgi-bin/message/send.

https://developer.work.weixin.qq.com/document/path/90236
"""

import json

from django.conf import settings

from cases.channels import tokens
from cases.channels.base import Channel, DeliveryError, Message, PermanentDeliveryError
from cases.channels.dingtalk import call
from teams.models import User

# The token is invalid (40014) or expired (42001): fetch a new one and send again once.
TOKEN_ERRORS = frozenset({40014, 42001})
# Worth retrying later: system busy, frequency limits.
RETRYABLE_ERRORS = frozenset({-1, 45009, 45033, 45047})


class WeComChannel(Channel):
    """A text application message to `User.wecom_userid` from the configured agent."""

    name = "wecom"

    def __init__(self) -> None:
        self.base = settings.WHISTLE_WECOM_BASE_URL.rstrip("/")
        self.key = ("wecom", self.base, settings.WHISTLE_WECOM_CORP_ID)

    def address(self, recipient: User) -> str | None:
        return recipient.wecom_userid or None

    def _fetch_token(self) -> tuple[str, float]:
        answer = call(
            "GET",
            f"{self.base}/cgi-bin/gettoken",
            params={
                "corpid": settings.WHISTLE_WECOM_CORP_ID,
                "corpsecret": settings.WHISTLE_WECOM_SECRET,
            },
        )
        if answer.get("errcode") != 0 or not answer.get("access_token"):
            code = answer.get("errcode")
            raise DeliveryError(f"wecom gettoken: {code}: {answer.get('errmsg', '')}")
        return answer["access_token"], float(answer.get("expires_in") or 7200)

    def send(self, *, address: str, message: Message) -> str:
        body = {
            "touser": address,
            "msgtype": "text",
            "agentid": int(settings.WHISTLE_WECOM_AGENT_ID or 0),
            "text": {"content": message.text()},
            "safe": 0,
        }
        for attempt in range(2):
            token = tokens.get(self.key, self._fetch_token)
            answer = call(
                "POST",
                f"{self.base}/cgi-bin/message/send",
                params={"access_token": token},
                data=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json"},
            )
            code = answer.get("errcode")
            if code == 0:
                # A user id the directory does not know is reported, not refused.
                if address in str(answer.get("invaliduser", "")).split("|"):
                    raise PermanentDeliveryError(f"wecom: invalid user {address}")
                return str(answer.get("msgid", ""))
            if code in TOKEN_ERRORS and attempt == 0:
                tokens.forget(self.key, token)
                continue
            break
        text = f"wecom: {code}: {answer.get('errmsg', '')}"
        if code in RETRYABLE_ERRORS or code in TOKEN_ERRORS:
            raise DeliveryError(text)
        raise PermanentDeliveryError(text)
