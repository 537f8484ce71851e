"""Response headers that Django does not set by itself, and the client address for the login
lockout.

The Content-Security-Policy allows only this site's own scripts, styles and connections: the
pages load every script and stylesheet from /static/ and carry no inline script, style
element or style attribute (JSON data blocks from json_script are not executed, so they need
no exception). Map tiles may come from the host of WHISTLE_TILE_URL. The API documentation
pages (Swagger UI and Redoc from drf-spectacular) start with an inline script, so those two
paths, and only those, also allow inline scripts and styles and blob: workers.
"""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.clientaddr import client_address

# Pages whose third-party templates need inline script and style (drf-spectacular's).
RELAXED_PATHS = ("/api/docs/", "/api/redoc/")

PERMISSIONS_POLICY = "geolocation=(self), camera=(self), microphone=(), payment=(), usb=()"


def tile_source(url: str) -> str:
    """The CSP source of a Leaflet tile URL template: its scheme and host, with the {s}
    subdomain placeholder as a wildcard. Empty when no tile URL is set or it has no host."""
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}", "tiles-subdomain"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.netloc.replace("tiles-subdomain", "*")
    if "{" in host:  # another placeholder in the host: allow the scheme's hosts we cannot name
        return ""
    return f"{parts.scheme}://{host}"


def content_security_policy(*, path: str) -> str:
    tiles = tile_source(settings.WHISTLE_TILE_URL)
    relaxed = path.startswith(RELAXED_PATHS)
    inline = " 'unsafe-inline'" if relaxed else ""
    directives = [
        "default-src 'self'",
        f"img-src 'self' data: blob:{' ' + tiles if tiles else ''}",
        f"style-src 'self'{inline}",
        f"script-src 'self'{inline}",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
    if relaxed:
        directives.append("worker-src 'self' blob:")  # Redoc's search runs in a blob worker
    return "; ".join(directives)


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy and Permissions-Policy to every response that has none.

    Django's SecurityMiddleware already sends X-Content-Type-Options, Referrer-Policy and
    Cross-Origin-Opener-Policy, and XFrameOptionsMiddleware X-Frame-Options."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(path=request.path)
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = PERMISSIONS_POLICY
        return response


def client_ip(request: HttpRequest) -> str | None:
    """The address the login lockout counts failures by (django-axes' callable)."""
    return client_address(request)
