"""Local stand-ins for the providers behind the delivery channels (tests and `make bench`).

Each stand-in is a real HTTP server on 127.0.0.1 in a thread that checks the request as the
provider documents it and answers with the provider's documented JSON:

- Aliyun SMS (Dysmsapi 2017-05-25 SendSms, RPC style: Action/Version in x-acs-* headers,
  PhoneNumbers, SignName, TemplateCode, TemplateParam in the query, ACS3-HMAC-SHA256 auth):
  `{"Code": "OK", "Message": "OK", "BizId": ..., "RequestId": ...}`.
- Tencent Cloud SMS (2021-01-11 SendSms: X-TC-Action/X-TC-Version headers, TC3-HMAC-SHA256
  auth, JSON body PhoneNumberSet, SmsSdkAppId, SignName, TemplateId, TemplateParamSet):
  `{"Response": {"SendStatusSet": [{"Code": "Ok", "SerialNo": ...}], "RequestId": ...}}`.
- DingTalk (GET /gettoken?appkey&appsecret, POST
  /topapi/message/corpconversation/asyncsend_v2?access_token with agent_id, userid_list, msg):
  `{"errcode": 0, "task_id": ..., "request_id": ...}`.
- WeCom (GET /cgi-bin/gettoken?corpid&corpsecret, POST /cgi-bin/message/send?access_token with
  touser, msgtype, agentid, text): `{"errcode": 0, "errmsg": "ok", "msgid": ...}`.

`script` holds what the next sends meet, one word each: "ok", "fail" (a retryable error),
"permanent" (an invalid number or user), "timeout" (no answer within `hang` seconds),
"token" (the access token is refused: 42001 expired); afterwards every send succeeds.
`delay` slows every send (the slow gateway of the benchmark). A request that breaks the
documented format is answered with an error and kept in `problems`.
"""

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ALIYUN = "aliyun"
TENCENT = "tencent"
DINGTALK = "dingtalk"
WECOM = "wecom"


class StandIn:
    def __init__(self, provider: str, *, delay: float = 0.0, hang: float = 3.0) -> None:
        self.provider = provider
        self.delay = delay
        self.hang = hang
        self.script: list[str] = []
        self.lock = threading.Lock()
        self.sends: list[dict] = []  # every send request, counted when it arrives
        self.delivered: list[dict] = []  # the sends answered with success
        self.token_requests = 0
        self.problems: list[str] = []
        self.tokens: set[str] = set()
        self._ids = itertools.count(1)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, payload: dict) -> None:
                body = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json;charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (a timeout it was meant to meet)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
                status, payload = stand_in.answer(
                    self.command, url.path, query, dict(self.headers), body
                )
                self._answer(status, payload)

            do_GET = _handle
            do_POST = _handle

        class Server(ThreadingHTTPServer):
            # Many sending threads connect at once: the default backlog of 5 would drop
            # connections (a timeout the real gateway would not cause).
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """host:port, as the SMS SDKs take their endpoint."""
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def __enter__(self) -> "StandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- behaviour -----------------------------------------------------------------------------

    def _next(self) -> str:
        with self.lock:
            return self.script.pop(0) if self.script else "ok"

    def _problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def _arrived(self, request: dict) -> None:
        with self.lock:
            self.sends.append(request)

    def _delivered(self, request: dict) -> None:
        with self.lock:
            self.delivered.append(request)

    def _new_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def answer(self, method: str, path: str, query: dict, headers: dict, body: bytes):
        headers = {k.lower(): v for k, v in headers.items()}
        handler = {
            ALIYUN: self._aliyun,
            TENCENT: self._tencent,
            DINGTALK: self._dingtalk,
            WECOM: self._wecom,
        }[self.provider]
        return handler(method, path, query, headers, body)

    def _behave(self) -> str:
        """Wait as the gateway would, then the scripted outcome of this send."""
        outcome = self._next()
        if self.delay:
            time.sleep(self.delay)
        if outcome == "timeout":
            time.sleep(self.hang)
        return outcome

    # --- Aliyun SMS ----------------------------------------------------------------------------

    def _aliyun(self, method, path, query, headers, body):
        request_id = f"ALI-REQ-{self._new_id()}"
        wanted = ("PhoneNumbers", "SignName", "TemplateCode", "TemplateParam")
        missing = [name for name in wanted if not query.get(name)]
        if (
            method != "POST"
            or path != "/"
            or headers.get("x-acs-action") != "SendSms"
            or headers.get("x-acs-version") != "2017-05-25"
            or not headers.get("authorization", "").startswith("ACS3-HMAC-SHA256 ")
            or missing
        ):
            self._problem(f"aliyun: {method} {path} {headers.get('x-acs-action')} {missing}")
            return 400, {
                "Code": "MissingParameter",
                "Message": f"missing {missing}",
                "RequestId": request_id,
            }
        try:
            params = json.loads(query["TemplateParam"])
        except ValueError:
            params = None
        if not isinstance(params, dict):
            self._problem("aliyun: TemplateParam is not a JSON object")
            return 200, {
                "Code": "isv.INVALID_JSON_PARAM",
                "Message": "JSON参数不合法",
                "RequestId": request_id,
            }
        request = {"phone": query["PhoneNumbers"], "params": params, "query": query}
        self._arrived(request)
        outcome = self._behave()
        if outcome == "fail":
            return 200, {
                "Code": "isv.BUSINESS_LIMIT_CONTROL",
                "Message": "触发分钟级流控Permits:1",
                "RequestId": request_id,
            }
        if outcome == "permanent":
            return 200, {
                "Code": "isv.MOBILE_NUMBER_ILLEGAL",
                "Message": "非法手机号",
                "RequestId": request_id,
            }
        biz_id = f"{self._new_id():06d}^0"
        request["id"] = biz_id
        if outcome == "ok":  # not a timeout the client already gave up on
            self._delivered(request)
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}

    # --- Tencent Cloud SMS ---------------------------------------------------------------------

    def _tencent(self, method, path, query, headers, body):
        request_id = f"tc-{self._new_id():08d}"
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {}
        wanted = ("PhoneNumberSet", "SmsSdkAppId", "SignName", "TemplateId", "TemplateParamSet")
        missing = [name for name in wanted if not data.get(name)]
        if (
            method != "POST"
            or headers.get("x-tc-action") != "SendSms"
            or headers.get("x-tc-version") != "2021-01-11"
            or not headers.get("authorization", "").startswith("TC3-HMAC-SHA256 ")
            or missing
        ):
            self._problem(f"tencent: {method} {headers.get('x-tc-action')} {missing}")
            return 200, {
                "Response": {
                    "Error": {
                        "Code": "MissingParameter",
                        "Message": f"The request is missing {missing}",
                    },
                    "RequestId": request_id,
                }
            }
        phone = data["PhoneNumberSet"][0]
        request = {"phone": phone, "params": data["TemplateParamSet"], "body": data}
        self._arrived(request)
        outcome = self._behave()
        if outcome == "fail":
            return 200, {
                "Response": {
                    "Error": {"Code": "InternalError.Timeout", "Message": "请求下发短信超时"},
                    "RequestId": request_id,
                }
            }
        code, message = "Ok", "send success"
        if outcome == "permanent":
            code, message = "InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误"
        serial = f"2640:{self._new_id():019d}"
        request["id"] = serial
        if outcome == "ok":
            self._delivered(request)
        return 200, {
            "Response": {
                "SendStatusSet": [
                    {
                        "SerialNo": serial,
                        "PhoneNumber": phone,
                        "Fee": 1,
                        "SessionContext": "",
                        "Code": code,
                        "Message": message,
                        "IsoCode": "CN",
                    }
                ],
                "RequestId": request_id,
            }
        }

    # --- DingTalk and WeCom --------------------------------------------------------------------

    def _token(self, query: dict, id_key: str, secret_key: str) -> tuple[int, dict]:
        with self.lock:
            self.token_requests += 1
        if not query.get(id_key) or not query.get(secret_key):
            self._problem(f"{self.provider}: gettoken without {id_key}/{secret_key}")
            return 200, {"errcode": 40013, "errmsg": "invalid corpid"}
        token = f"TOKEN-{self._new_id()}"
        with self.lock:
            self.tokens.add(token)
        return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def _message(self, method, query, body, fields, user_key):
        """The common checks of a message send: its token, method and body fields."""
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {}
        missing = [name for name in fields if data.get(name) in (None, "", {})]
        if method != "POST" or missing:
            self._problem(f"{self.provider}: {method} missing {missing}")
            return None, (200, {"errcode": 40035, "errmsg": f"missing {missing}"})
        token = query.get("access_token", "")
        with self.lock:
            known = token in self.tokens
        if not known:
            self._problem(f"{self.provider}: unknown access token {token!r}")
            return None, (200, {"errcode": 40014, "errmsg": "invalid access_token"})
        request = {"user": data[user_key], "body": data}
        self._arrived(request)
        outcome = self._behave()
        if outcome == "token":
            with self.lock:
                self.tokens.discard(token)
            return None, (200, {"errcode": 42001, "errmsg": "access_token expired"})
        return (outcome, request), None

    def _dingtalk(self, method, path, query, headers, body):
        if path == "/gettoken":
            return self._token(query, "appkey", "appsecret")
        if path != "/topapi/message/corpconversation/asyncsend_v2":
            self._problem(f"dingtalk: unknown path {path}")
            return 404, {"errcode": 404, "errmsg": "not found"}
        result, refusal = self._message(
            method, query, body, ("agent_id", "userid_list", "msg"), "userid_list"
        )
        if refusal:
            return refusal
        outcome, request = result
        msg = request["body"]["msg"]
        if msg.get("msgtype") != "text" or not msg.get("text", {}).get("content"):
            self._problem("dingtalk: msg is not a text message")
        request_id = f"dt-{self._new_id()}"
        if outcome == "fail":
            return 200, {"errcode": -1, "errmsg": "系统繁忙", "request_id": request_id}
        if outcome == "permanent":
            return 200, {"errcode": 33012, "errmsg": "无效的USERID", "request_id": request_id}
        task_id = self._new_id() + 100000
        request["id"] = str(task_id)
        if outcome == "ok":
            self._delivered(request)
        return 200, {"errcode": 0, "errmsg": "ok", "task_id": task_id, "request_id": request_id}

    def _wecom(self, method, path, query, headers, body):
        if path == "/cgi-bin/gettoken":
            return self._token(query, "corpid", "corpsecret")
        if path != "/cgi-bin/message/send":
            self._problem(f"wecom: unknown path {path}")
            return 404, {"errcode": 404, "errmsg": "not found"}
        result, refusal = self._message(
            method, query, body, ("touser", "msgtype", "agentid", "text"), "touser"
        )
        if refusal:
            return refusal
        outcome, request = result
        if request["body"]["msgtype"] != "text" or not request["body"]["text"].get("content"):
            self._problem("wecom: not a text message")
        if outcome == "fail":
            return 200, {"errcode": -1, "errmsg": "system busy"}
        if outcome == "permanent":
            return 200, {
                "errcode": 0,
                "errmsg": "ok",
                "invaliduser": request["user"],
                "msgid": "",
            }
        msgid = f"msg-{self._new_id()}"
        request["id"] = msgid
        if outcome == "ok":
            self._delivered(request)
        return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": msgid}


def configure(settings, stand_in: StandIn) -> None:
    """Point the channel of `stand_in` at it (a pytest-django `settings` or a dict of
    environment variables for worker processes)."""
    values = {
        ALIYUN: {
            "WHISTLE_SMS_PROVIDER": "aliyun",
            "WHISTLE_SMS_ENDPOINT": stand_in.endpoint,
            "WHISTLE_SMS_PROTOCOL": "http",
            "WHISTLE_SMS_ACCESS_KEY_ID": "LTAI-test-key",
            "WHISTLE_SMS_ACCESS_KEY_SECRET": "test-secret",
            "WHISTLE_SMS_SIGN_NAME": "吹哨报到",
            "WHISTLE_SMS_TEMPLATE": "SMS_123456789",
        },
        TENCENT: {
            "WHISTLE_SMS_PROVIDER": "tencent",
            "WHISTLE_SMS_ENDPOINT": stand_in.endpoint,
            "WHISTLE_SMS_PROTOCOL": "http",
            "WHISTLE_SMS_ACCESS_KEY_ID": "AKID-test",
            "WHISTLE_SMS_ACCESS_KEY_SECRET": "test-secret",
            "WHISTLE_SMS_SIGN_NAME": "吹哨报到",
            "WHISTLE_SMS_TEMPLATE": "1234567",
            "WHISTLE_SMS_SDK_APP_ID": "1400000001",
            "WHISTLE_SMS_REGION": "ap-guangzhou",
        },
        DINGTALK: {
            "WHISTLE_DINGTALK_BASE_URL": stand_in.url,
            "WHISTLE_DINGTALK_APP_KEY": "ding-app-key",
            "WHISTLE_DINGTALK_APP_SECRET": "ding-secret",
            "WHISTLE_DINGTALK_AGENT_ID": "2000001",
        },
        WECOM: {
            "WHISTLE_WECOM_BASE_URL": stand_in.url,
            "WHISTLE_WECOM_CORP_ID": "ww-corp",
            "WHISTLE_WECOM_SECRET": "wecom-secret",
            "WHISTLE_WECOM_AGENT_ID": "1000002",
        },
    }[stand_in.provider]
    for name, value in values.items():
        if isinstance(settings, dict):
            settings[name] = value
        else:
            setattr(settings, name, value)
