"""What DingTalk and WeCom work messages share: an app access token fetched with the app's
credentials and cached until it expires (refetched once when refused), and a JSON send whose
answer carries `errcode` (0 = accepted, some codes worth a retry, the others final)."""

import json
from typing import ClassVar

import requests
from django.conf import settings

from cases.channels import tokens
from cases.channels.base import Channel, DeliveryError, Message, PermanentDeliveryError


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


class WorkMessagingChannel(Channel):
    """A text message from the configured app to one user id of the provider's directory."""

    credentials_path: ClassVar[str] = ""  # where the app's credentials buy an access token
    send_path: ClassVar[str] = ""
    # The token was refused (invalid or expired): fetch a new one and send again once.
    token_errors: ClassVar[frozenset[int]] = frozenset()
    # Worth retrying later: system busy, rate limits.
    retryable_errors: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, *, base_url: str, app_id: str) -> None:
        self.base = base_url.rstrip("/")
        self.key = (self.name, self.base, app_id)

    def token_params(self) -> dict[str, str]:
        raise NotImplementedError

    def body(self, *, address: str, message: Message) -> dict:
        raise NotImplementedError

    def accepted(self, *, address: str, answer: dict) -> str:
        """The provider's message id of an answer with errcode 0."""
        raise NotImplementedError

    def _fetch_token(self) -> tuple[str, float]:
        answer = call("GET", f"{self.base}{self.credentials_path}", params=self.token_params())
        if answer.get("errcode") != 0 or not answer.get("access_token"):
            code = answer.get("errcode")
            raise DeliveryError(f"{self.name} gettoken: {code}: {answer.get('errmsg', '')}")
        return answer["access_token"], float(answer.get("expires_in") or 7200)

    def send(self, *, address: str, message: Message) -> str:
        data = json.dumps(self.body(address=address, message=message), ensure_ascii=False)
        for attempt in range(2):
            token = tokens.get(self.key, self._fetch_token)
            answer = call(
                "POST",
                f"{self.base}{self.send_path}",
                params={"access_token": token},
                data=data.encode(),
                headers={"Content-Type": "application/json"},
            )
            code = answer.get("errcode")
            if code == 0:
                return self.accepted(address=address, answer=answer)
            if code in self.token_errors and attempt == 0:
                tokens.forget(self.key, token)
                continue
            break
        text = f"{self.name}: {code}: {answer.get('errmsg', '')}"
        if code in self.retryable_errors or code in self.token_errors:
            raise DeliveryError(text)
        raise PermanentDeliveryError(text)
