"""/open311/v2/: the GeoReport v2 resources, each with a .json or .xml suffix."""

from django.urls import re_path

from cases.open311 import views

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^services" + FORMAT, views.service_list, name="open311-services"),
    re_path(
        r"^services/(?P<service_code>[^/]+)" + FORMAT,
        views.service_definition,
        name="open311-service-definition",
    ),
    re_path(r"^requests" + FORMAT, views.service_requests, name="open311-requests"),
    re_path(
        r"^requests/(?P<service_request_id>[^/]+)" + FORMAT,
        views.service_request,
        name="open311-request",
    ),
    # Not in GeoReport v2: a caller's "me too" on an open request (附议).
    re_path(
        r"^requests/(?P<service_request_id>[^/]+)/support" + FORMAT,
        views.support,
        name="open311-support",
    ),
    re_path(r"^tokens/(?P<token_id>[^/]+)" + FORMAT, views.token, name="open311-token"),
]
