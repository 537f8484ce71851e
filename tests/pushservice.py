"""A push service for tests: a small HTTP server on 127.0.0.1 that plays the part of the
browser vendors' push services. It holds each subscription's browser-side key material (a
P-256 key pair and a 16-byte auth secret, made as a browser makes them), checks the VAPID
Authorization header of every POST (RFC 8292: an ES256 JWT for this origin, signed by the key
it names), decrypts the aes128gcm body (RFC 8291, with http_ece) and keeps the payload."""

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def vapid_keys() -> tuple[str, str]:
    """A VAPID key pair as the settings take it: (public point, private 32 bytes), base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url(public_point(key)), b64url(private)


@dataclass
class BrowserKeys:
    """What a browser keeps for one subscription; its public half goes to the server."""

    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        return b64url(public_point(self.private_key))

    @property
    def auth_b64(self) -> str:
        return b64url(self.auth)


@dataclass
class Delivery:
    path: str
    payload: dict
    ttl: str
    claims: dict


@dataclass
class PushService:
    vapid_public_key: str
    subscriptions: dict[str, BrowserKeys] = field(default_factory=dict)
    answers: dict[str, int] = field(default_factory=dict)  # path -> status to answer
    delivered: list[Delivery] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def subscribe(self, name: str) -> tuple[str, BrowserKeys]:
        """A new subscription: its endpoint and the browser's keys."""
        keys = BrowserKeys(private_key=ec.generate_private_key(ec.SECP256R1()), auth=os.urandom(16))
        path = f"/push/{name}"
        self.subscriptions[path] = keys
        return self.origin + path, keys

    def check_vapid(self, authorization: str) -> dict:
        """The claims of a valid VAPID header (vapid t=<jwt>, k=<public key>), else ValueError."""
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError(f"not a vapid header: {authorization!r}")
        params = dict(part.strip().split("=", 1) for part in rest.split(","))
        if params.get("k") != self.vapid_public_key:
            raise ValueError("signed with another key than the installation's")
        header, claims, signature = params["t"].split(".")
        if json.loads(unb64url(header)) != {"typ": "JWT", "alg": "ES256"}:
            raise ValueError("not an ES256 JWT")
        raw = unb64url(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(params["k"]))
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as error:
            raise ValueError("bad JWT signature") from error
        data = json.loads(unb64url(claims))
        if data.get("aud") != self.origin:
            raise ValueError(f"audience {data.get('aud')!r} is not {self.origin!r}")
        if not time.time() < data.get("exp", 0) <= time.time() + 24 * 3600:
            raise ValueError("expiry not within 24 hours")
        if not str(data.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError("no contact (sub)")
        return data

    def handle(self, path: str, headers, body: bytes) -> int:
        if path in self.answers:
            return self.answers[path]
        keys = self.subscriptions.get(path)
        if keys is None:
            return 404
        try:
            claims = self.check_vapid(headers.get("Authorization", ""))
            if headers.get("Content-Encoding") != "aes128gcm":
                raise ValueError("not aes128gcm")
            plain = http_ece.decrypt(
                body, private_key=keys.private_key, auth_secret=keys.auth, version="aes128gcm"
            )
        except (ValueError, KeyError) as error:
            self.refused.append(str(error))
            return 400
        self.delivered.append(
            Delivery(
                path=path, payload=json.loads(plain), ttl=headers.get("TTL", ""), claims=claims
            )
        )
        return 201

    def start(self) -> "PushService":
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = service.handle(self.path, self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def start_push_service(settings) -> PushService:
    """A push service on 127.0.0.1, with the installation's VAPID keys set to a new pair."""
    public, private = vapid_keys()
    settings.WHISTLE_VAPID_PUBLIC_KEY = public
    settings.WHISTLE_VAPID_PRIVATE_KEY = private
    settings.WHISTLE_VAPID_SUBJECT = "mailto:ops@example.test"
    return PushService(vapid_public_key=public).start()
