"""The installable app: the web app manifest (its name in the user's language) and the service
worker, served from the site root so that its scope is the whole site. Neither needs a
sign-in: the browser fetches both on its own, the worker again to look for a new version."""

import hashlib
import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from teams.levels import level_words

# What the whistle form needs to work with no signal, cached when the worker installs.
PRECACHE_STATIC = (
    "favicon.svg",
    "icons/whistle-192.png",
    "vendor/pico/pico.min.css",
    "css/whistle.css",
    "css/unread_badge.css",
    "css/filing.css",
    "css/lists.css",
    "vendor/htmx/htmx.min.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/images/marker-icon.png",
    "vendor/leaflet/images/marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png",
    "js/whistle.js",
    "js/drafts.js",
    "js/app.js",
    "js/geo.js",
    "js/filing.js",
)
# Pages shown from the cache (the last version seen) when there is no network: the home page,
# the whistle form and its grids, the grid worker's own cases, the board, the inbox.
OFFLINE_PAGES = (
    "home",
    "cases:file",
    "cases:grids_geojson",
    "cases:mine",
    "cases:board",
    "cases:notifications",
)
# Filled in on first load of each page the worker may fetch, not at install (an install is
# anonymous for pages the user may not open).
PRECACHE_PAGES = ("cases:file", "cases:grids_geojson", "cases:mine")


def _urls(names: tuple[str, ...]) -> list[str]:
    return [reverse(name) for name in names]


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    name = _("Whistle")
    response = JsonResponse(
        {
            "id": "/",
            "name": name,
            "short_name": name,
            "description": _("Blow a whistle from the %(village)s; teams report in.")
            % level_words(),
            "lang": get_language(),
            "start_url": reverse("home"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#0172ad",
            "icons": [
                {"src": static("icons/whistle-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("icons/whistle-512.png"), "sizes": "512x512", "type": "image/png"},
                {"src": static("favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
            ],
        },
        content_type="application/manifest+json",
    )
    response["Cache-Control"] = "no-cache"
    response["Vary"] = "Accept-Language, Cookie"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The worker's script. Its cache version is a digest of the script and the hashed static
    names, so a release with a changed file installs a new worker that drops the old caches."""
    context = {
        "static_urls": json.dumps([static(path) for path in PRECACHE_STATIC]),
        "offline_pages": json.dumps(_urls(OFFLINE_PAGES)),
        "precache_pages": json.dumps(_urls(PRECACHE_PAGES)),
        "drafts_js": json.dumps(static("js/drafts.js")),
        "sign_in_paths": json.dumps([reverse("login"), reverse("logout")]),
        "app_name": json.dumps(_("Whistle")),
        "offline_title": json.dumps(_("No connection")),
        "offline_text": json.dumps(
            _("This page was not saved on this phone. It opens again when there is a network.")
        ),
        "version": "",
    }
    body = loader.render_to_string("teams/service_worker.js", context, request)
    context["version"] = json.dumps(hashlib.sha256(body.encode()).hexdigest()[:16])
    body = loader.render_to_string("teams/service_worker.js", context, request)
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response
