"""SMS through a gateway: Aliyun SMS or Tencent Cloud SMS, each through its official SDK.

Both send one pre-approved template with the sign name; the template's variables are the case
number and the notification's subject (Aliyun: `${number}` and `${subject}`; Tencent: `{1}`
and `{2}`, in that order). The endpoint and protocol are settings, so tests and intranet
proxies can stand in for the provider.
"""

import json
from typing import Protocol

from django.conf import settings

from cases.channels.base import Channel, DeliveryError, Message, PermanentDeliveryError
from teams.models import User

# A template variable longer than this is refused by the providers (Aliyun: 35 characters
# for most variable kinds).
PARAM_LIMIT = 35


class SmsGateway(Protocol):
    def send(self, *, phone: str, params: dict[str, str]) -> str:
        """Send the configured template to `phone`; the provider's message id."""
        ...


# Aliyun's answer codes that no retry can fix (https://help.aliyun.com/document_detail/101346).
ALIYUN_PERMANENT = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.DENY_IP_RANGE",
        "InvalidAccessKeyId.NotFound",
        "SignatureDoesNotMatch",
        "Forbidden.NoPermission",
    }
)


class AliyunGateway:
    """Aliyun SMS (Dysmsapi 2017-05-25, SendSms) through alibabacloud_dysmsapi20170525."""

    def __init__(self) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as openapi

        timeout_ms = int(settings.WHISTLE_DELIVERY_TIMEOUT_SECONDS * 1000)
        self.timeout_ms = timeout_ms
        self.client = Client(
            openapi.Config(
                access_key_id=settings.WHISTLE_SMS_ACCESS_KEY_ID,
                access_key_secret=settings.WHISTLE_SMS_ACCESS_KEY_SECRET,
                endpoint=settings.WHISTLE_SMS_ENDPOINT or "dysmsapi.aliyuncs.com",
                protocol=settings.WHISTLE_SMS_PROTOCOL,
                connect_timeout=timeout_ms,
                read_timeout=timeout_ms,
            )
        )

    def send(self, *, phone: str, params: dict[str, str]) -> str:
        from alibabacloud_dysmsapi20170525 import models
        from darabonba.runtime import RuntimeOptions

        request = models.SendSmsRequest(
            phone_numbers=phone,
            sign_name=settings.WHISTLE_SMS_SIGN_NAME,
            template_code=settings.WHISTLE_SMS_TEMPLATE,
            template_param=json.dumps(params, ensure_ascii=False),
        )
        # The framework retries with backoff: the SDK's own retries would only hold the thread.
        runtime = RuntimeOptions(
            autoretry=False, connect_timeout=self.timeout_ms, read_timeout=self.timeout_ms
        )
        try:
            response = self.client.send_sms_with_options(request, runtime)
        except Exception as error:  # the SDK's exceptions carry a provider code or none
            code = str(getattr(error, "code", "") or type(error).__name__)
            text = f"aliyun: {code}: {getattr(error, 'message', '') or error}"
            if code in ALIYUN_PERMANENT:
                raise PermanentDeliveryError(text) from error
            raise DeliveryError(text) from error
        body = response.body
        if body.code != "OK":
            text = f"aliyun: {body.code}: {body.message}"
            if body.code in ALIYUN_PERMANENT:
                raise PermanentDeliveryError(text)
            raise DeliveryError(text)
        return body.biz_id or body.request_id or ""


# Tencent's error code families worth retrying; anything else (an invalid number, an
# unapproved template, failed authentication) is permanent.
TENCENT_RETRYABLE = (
    "InternalError",
    "LimitExceeded",
    "RequestLimitExceeded",
    "ClientNetworkError",
    "ServerNetworkError",
    "FailedOperation.InsufficientBalanceInSmsPackage",
)


class TencentGateway:
    """Tencent Cloud SMS (2021-01-11, SendSms) through tencentcloud-sdk-python-sms."""

    def __init__(self) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        profile = HttpProfile(
            endpoint=settings.WHISTLE_SMS_ENDPOINT or "sms.tencentcloudapi.com",
            protocol=settings.WHISTLE_SMS_PROTOCOL,
            reqTimeout=max(1, round(settings.WHISTLE_DELIVERY_TIMEOUT_SECONDS)),
        )
        self.client = sms_client.SmsClient(
            credential.Credential(
                settings.WHISTLE_SMS_ACCESS_KEY_ID, settings.WHISTLE_SMS_ACCESS_KEY_SECRET
            ),
            settings.WHISTLE_SMS_REGION,
            ClientProfile(httpProfile=profile),
        )

    @staticmethod
    def _error(code: str, text: str) -> DeliveryError:
        message = f"tencent: {code}: {text}"
        if code.startswith(TENCENT_RETRYABLE):
            return DeliveryError(message)
        return PermanentDeliveryError(message)

    def send(self, *, phone: str, params: dict[str, str]) -> str:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.PhoneNumberSet = [phone if phone.startswith("+") else f"+86{phone}"]
        request.SmsSdkAppId = settings.WHISTLE_SMS_SDK_APP_ID
        request.SignName = settings.WHISTLE_SMS_SIGN_NAME
        request.TemplateId = settings.WHISTLE_SMS_TEMPLATE
        request.TemplateParamSet = [params["number"], params["subject"]]
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as error:
            raise self._error(str(error.code or "Error"), str(error.message or "")) from error
        except Exception as error:  # a transport error the SDK did not wrap
            raise DeliveryError(f"tencent: {type(error).__name__}: {error}") from error
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise DeliveryError("tencent: empty SendStatusSet")
        if status.Code != "Ok":
            raise self._error(status.Code, status.Message or "")
        return status.SerialNo or response.RequestId or ""


GATEWAYS: dict[str, type] = {"aliyun": AliyunGateway, "tencent": TencentGateway}


class SmsChannel(Channel):
    """A text message to `User.phone` through the gateway of WHISTLE_SMS_PROVIDER."""

    name = "sms"

    def __init__(self) -> None:
        self._gateway: SmsGateway | None = None

    @property
    def gateway(self) -> SmsGateway:
        if self._gateway is None:
            provider = settings.WHISTLE_SMS_PROVIDER
            if provider not in GATEWAYS:
                raise PermanentDeliveryError(f"sms: unknown provider {provider!r}")
            self._gateway = GATEWAYS[provider]()
        return self._gateway

    def address(self, recipient: User) -> str | None:
        phone = "".join(recipient.phone.split())
        return phone or None

    def send(self, *, address: str, message: Message) -> str:
        params = {"number": message.number[:PARAM_LIMIT], "subject": message.subject[:PARAM_LIMIT]}
        return self.gateway.send(phone=address, params=params)
