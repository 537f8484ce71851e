"""Open311 GeoReport v2 endpoints, each in .json and .xml. Thin: parameters in, selectors and
services do the work, refusals go out as the spec's errors array."""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from cases.models import ApiClient
from cases.open311 import selectors, services
from cases.open311.errors import Open311Error
from cases.open311.ratelimit import client_bucket
from cases.open311.render import errors_response, respond


def endpoint(*methods: str) -> Callable:
    """Answer an Open311Error (and a wrong method) in the requested format."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, fmt: str, **kwargs) -> HttpResponse:
            try:
                if request.method not in methods:
                    response = errors_response(fmt, 405, [_("Method not allowed.")])
                    response["Allow"] = ", ".join(methods)
                    return response
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as error:
                return errors_response(
                    fmt, error.status, error.descriptions, retry_after=error.retry_after
                )

        return wrapper

    return decorate


def _throttle_reader(request: HttpRequest) -> ApiClient | None:
    """Reading needs no key; with one, the client's limit counts, else the address's. The
    client of the key, if any: it reads its own requests in full and pages of 1,000."""
    api_key = request.GET.get("api_key", "")
    if api_key:
        client = services.authenticate_client(api_key=api_key)
        services.throttle_client(client=client)
        return client
    services.throttle_anonymous(ip=client_bucket(request))
    return None


def _city(request: HttpRequest):
    return selectors.jurisdiction(jurisdiction_id=request.GET.get("jurisdiction_id", "").strip())


@endpoint("GET")
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    _throttle_reader(request)
    city = _city(request)
    return respond(fmt, "services", selectors.service_list(city_id=city.pk))


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    _throttle_reader(request)
    _city(request)
    definition = selectors.service_definition(service_code=service_code)
    return respond(fmt, "service_definition", definition)


@csrf_exempt
@endpoint("GET", "POST")
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create_request(request, fmt)
    client = _throttle_reader(request)
    city = _city(request)
    params = request.GET
    page = selectors.page_of(params, client=client)
    start, end = selectors.request_window(
        start_date=params.get("start_date", ""),
        end_date=params.get("end_date", ""),
        now=timezone.now(),
    )
    rows, more = selectors.service_requests(
        city=city,
        ids=selectors.split_list(params.get("service_request_id", "")),
        codes=selectors.split_list(params.get("service_code", "")),
        statuses=[s.lower() for s in selectors.split_list(params.get("status", ""))],
        start=start,
        end=end,
        page=page,
        client=client,
        absolute=request.build_absolute_uri,
    )
    response = respond(fmt, "service_requests", rows)
    if more:  # the next page, as RFC 8288 links it
        following = params.copy()
        following["page"] = str(page.number + 1)
        following["page_size"] = str(page.size)
        url = request.build_absolute_uri(f"{request.path}?{following.urlencode()}")
        response["Link"] = f'<{url}>; rel="next"'
    return response


def _create_request(request: HttpRequest, fmt: str) -> HttpResponse:
    client = services.authenticate_client(api_key=request.POST.get("api_key", ""))
    services.throttle_client(client=client)
    filed = services.submit_request(
        client=client,
        data=request.POST,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
        track_url=request.build_absolute_uri(reverse("track")),
    )
    row = {
        "service_request_id": filed.case.number,
        "service_notice": filed.service_notice,
        "account_id": filed.account_id or None,
    }
    return respond(fmt, "service_requests", [row])


@csrf_exempt
@endpoint("POST")
def support(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    """A caller's "me too" (附议) on an open request: backed instead of filed again."""
    client = services.authenticate_client(api_key=request.POST.get("api_key", ""))
    services.throttle_client(client=client)
    supported = services.support_request(
        client=client,
        service_request_id=service_request_id,
        data=request.POST,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    row = {
        "service_request_id": supported.case.number,
        "service_notice": supported.service_notice,
        "supporters": supported.supporters,
    }
    return respond(fmt, "service_requests", [row])


@endpoint("GET")
def service_request(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    client = _throttle_reader(request)
    row = selectors.service_request(
        city=_city(request),
        service_request_id=service_request_id,
        client=client,
        absolute=request.build_absolute_uri,
    )
    return respond(fmt, "service_requests", [row])


@endpoint("GET")
def token(request: HttpRequest, fmt: str, token_id: str) -> HttpResponse:
    _throttle_reader(request)
    row = selectors.token_request(city=_city(request), token=token_id)
    return respond(fmt, "service_requests", [row])
