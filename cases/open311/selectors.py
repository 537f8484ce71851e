"""Reads of the Open311 endpoint: services (whistle-able checklist items), their definitions,
and service requests (cases), field for field as GeoReport v2 names them.

Who reads decides what a request shows (README, "Open311"). Anyone, with or without a key:
the service, the status, status_notes (the latest public step in words, or the message of a
public update), the times, the grid's code and a place rounded to about 100 m, and media_url
only for a photo the public may see (cases.open311.public). The whistle's own description,
address, exact place and the hotline's own media URL are shown to the public only once the
case is public (`Case.public`, the publish_case action), and always to the api_key of the
client system that filed the request: its own record. Never contact data or a reporter.
Lists are paged: at most 50 requests a call without a key, 1,000 with one."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from cases.models import ApiClient, Attachment, Case, Event, Level
from cases.open311.errors import Open311Error
from cases.open311.public import (
    CLOSED_STATUSES,
    open311_status,
    public_attachment_url,
    public_attachments_filter,
    rounded,
    status_notes,
)
from cases.selectors_pages.village import running_case_deadline
from checklists.demo import items_for_cities
from checklists.models import Item
from teams.models import Region

MAX_REQUESTS = 1000  # a page, for a client system with its api_key
MAX_ANONYMOUS_REQUESTS = 50  # a page, for anyone else
MAX_SPAN = timedelta(days=90)
MAX_DESCRIPTION = 4000

HOTLINE_TICKET = "HOTLINE_TICKET"
LEGAL_BASIS = "LEGAL_BASIS"


@dataclass(frozen=True)
class Attribute:
    code: str
    variable: bool
    datatype: str  # string, number, datetime, text, singlevaluelist, multivaluelist
    required: bool
    order: int
    description: str
    datatype_description: str | None = None
    values: list[tuple[str, str]] = field(default_factory=list)
    max_length: int | None = None


def attributes_for(item: Item) -> list[Attribute]:
    """The questions of a service: the hotline's own work-order number to match its records,
    and (for reading only) the legal basis the item is enforced under."""
    attributes = [
        Attribute(
            code=HOTLINE_TICKET,
            variable=True,
            datatype="string",
            required=False,
            order=1,
            description=_("The work-order number of the 12345 hotline, to match its records."),
            datatype_description=_("Up to 64 characters."),
            max_length=64,
        )
    ]
    if item.legal_basis:
        attributes.append(
            Attribute(
                code=LEGAL_BASIS,
                variable=False,
                datatype="text",
                required=False,
                order=2,
                description=item.legal_basis,
            )
        )
    return attributes


def jurisdiction(*, jurisdiction_id: str) -> Region:
    """The city a jurisdiction_id names; without one, the only city there is."""
    cities = Region.objects.filter(level=Region.Level.CITY)
    if jurisdiction_id:
        city = cities.filter(code=jurisdiction_id).first()
        if city is None:
            raise Open311Error(404, _("jurisdiction_id not found."))
        return city
    found = list(cities.order_by("code")[:2])
    if len(found) != 1:
        raise Open311Error(400, _("jurisdiction_id was not provided."))
    return found[0]


def whistleable_items() -> QuerySet[Item]:
    return Item.objects.filter(whistleable=True, active=True).select_related("aspect")


def _keywords(item: Item) -> str:
    words = [item.code, item.name_zh, item.name_en, item.aspect.name_zh, item.aspect.name_en]
    unique = dict.fromkeys(word.replace(",", " ").strip() for word in words if word)
    return ",".join(unique)


def service_row(item: Item) -> dict[str, Any]:
    return {
        "service_code": item.code,
        "service_name": item.name,
        "description": item.description,
        "metadata": True,
        "type": "realtime",
        "keywords": _keywords(item),
        "group": item.aspect.name,
    }


def service_list(*, city_id: int | None = None) -> list[dict[str, Any]]:
    """The services of a city: the demo item only in the demo city (checklists.demo)."""
    items = items_for_cities(whistleable_items(), city_ids={city_id})
    return [service_row(item) for item in items]


def service_item(*, service_code: str, whistleable_only: bool) -> Item:
    """The item of a service code. Filing may name an item that is not for whistling, so that
    screening refuses it with where to go instead; the service list shows only the others."""
    items = whistleable_items() if whistleable_only else Item.objects.select_related("aspect")
    item = items.filter(code=service_code).first() if service_code else None
    if item is None:
        raise Open311Error(404, _("service_code not found."))
    return item


def service_definition(*, service_code: str) -> dict[str, Any]:
    item = service_item(service_code=service_code, whistleable_only=True)
    return {
        "service_code": item.code,
        "attributes": [
            {
                "variable": attribute.variable,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": attribute.datatype_description,
                "order": attribute.order,
                "description": attribute.description,
                "values": [{"key": key, "name": name} for key, name in attribute.values],
            }
            for attribute in attributes_for(item)
        ],
    }


def parse_when(value: str, *, name: str) -> datetime | None:
    """A W3C date-time (or date) of a query parameter; naive values are local time."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = parse_datetime(value.replace(" ", "+"))
        if parsed is None:
            day = parse_date(value)
            if day is not None:
                parsed = datetime(day.year, day.month, day.day)
    except ValueError:
        parsed = None
    if parsed is None:
        raise Open311Error(
            400,
            _("%(name)s is not a W3C date-time such as 2025-06-10T09:00:00+08:00.")
            % {"name": name},
        )
    # Far-off years would overflow the 90-day window arithmetic and the time zone conversion.
    if not 1900 <= parsed.year <= 9000:
        raise Open311Error(400, _("%(name)s is out of range.") % {"name": name})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def request_window(*, start_date: str, end_date: str, now: datetime) -> tuple[datetime, datetime]:
    """The spec's default window: 90 days, ending now unless dates say otherwise."""
    start = parse_when(start_date, name="start_date")
    end = parse_when(end_date, name="end_date")
    if start is None and end is None:
        end = now
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Error(400, _("end_date is before start_date."))
    if end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date and end_date may be at most 90 days apart."))
    return start, end


def split_list(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _latest_public_event() -> QuerySet[Event]:
    return Event.objects.filter(
        case_id=OuterRef("pk"), case_filed_at=OuterRef("filed_at"), public=True
    ).order_by("-created_at", "-id")


def _latest_public_photo() -> Subquery:
    return Subquery(
        Attachment.objects.filter(
            public_attachments_filter(), case_id=OuterRef("pk"), kind=Attachment.Kind.PHOTO
        )
        .order_by("-created_at", "-id")
        .values("id")[:1]
    )


def _requests() -> QuerySet[Case]:
    return Case.objects.select_related(
        "item", "grid", "village", "town", "city", "city__parent", "api_submission"
    ).annotate(
        latest_public_action=Subquery(_latest_public_event().values("action")[:1]),
        latest_public_message=Subquery(
            _latest_public_event()
            .annotate(message=KeyTextTransform("message", "data"))
            .values("message")[:1]
        ),
        latest_public_photo=_latest_public_photo(),
        expected_at=running_case_deadline("due_at"),
    )


def w3c(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _agency(case: Case) -> str:
    """The region whose committee has the case: a prefecture-level case's (four levels) is the
    prefecture above its city, or the city where it stands alone."""
    if case.level == Level.PREFECTURE:
        return (case.city.parent or case.city).name
    region = {Level.VILLAGE: case.village, Level.TOWN: case.town, Level.CITY: case.city}.get(
        case.level, case.village
    )
    return region.name


def _relative(path: str) -> str:
    return path


def _filed_by(case: Case, client: ApiClient | None) -> bool:
    submission = getattr(case, "api_submission", None)
    return client is not None and submission is not None and submission.client_id == client.pk


def _media_url(*, case: Case, full: bool, absolute: Callable[[str], str]) -> str | None:
    photo = getattr(case, "latest_public_photo", None)
    if photo is not None:
        return absolute(public_attachment_url(attachment_id=photo))
    submission = getattr(case, "api_submission", None)
    return (submission.media_url or None) if submission and full else None


def request_row(
    case: Case, *, client: ApiClient | None = None, absolute: Callable[[str], str] = _relative
) -> dict[str, Any]:
    """The fields of one case in GeoReport v2 order that `client` may read (None: the
    public); `absolute` makes a path of this site a full URL (the request's
    build_absolute_uri)."""
    full = case.public or _filed_by(case, client)
    action = getattr(case, "latest_public_action", None)
    is_open = case.status not in CLOSED_STATUSES
    return {
        "service_request_id": case.number,
        "status": open311_status(case.status),
        "status_notes": status_notes(
            action=action, message=getattr(case, "latest_public_message", None)
        ),
        "service_name": case.item.name,
        "service_code": case.item.code,
        "description": case.description if full else None,
        "agency_responsible": _agency(case),
        "service_notice": None,
        "requested_datetime": w3c(case.filed_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(getattr(case, "expected_at", None)) if is_open else None,
        "address": (case.address or None) if full else None,
        "address_id": case.grid.code,
        "zipcode": None,
        "lat": case.latitude if full else rounded(case.latitude),
        "long": case.longitude if full else rounded(case.longitude),
        "media_url": _media_url(case=case, full=full, absolute=absolute),
    }


@dataclass(frozen=True)
class Page:
    number: int  # from 1
    size: int


def _positive(value: str, *, name: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1 or len(value) > 9:
        raise Open311Error(400, _("%(name)s must be a whole number from 1.") % {"name": name})
    return int(value)


def page_of(params: QueryDict, *, client: ApiClient | None) -> Page:
    """`page` (from 1) and `page_size` (at most 50 without an api_key, 1,000 with one; the
    most by default)."""
    most = MAX_REQUESTS if client is not None else MAX_ANONYMOUS_REQUESTS
    size = _positive(params.get("page_size", ""), name="page_size") or most
    if size > most:
        raise Open311Error(
            400, _("page_size may be at most %(count)d with this key.") % {"count": most}
        )
    return Page(number=_positive(params.get("page", ""), name="page") or 1, size=size)


STATUS_FILTERS = frozenset({"open", "closed"})


def service_requests(
    *,
    city: Region,
    ids: list[str],
    codes: list[str],
    statuses: list[str],
    start: datetime,
    end: datetime,
    page: Page,
    client: ApiClient | None = None,
    absolute: Callable[[str], str] = _relative,
) -> tuple[list[dict[str, Any]], bool]:
    """One page of the city's requests, newest first, and whether another page follows.
    Asked by id, the ids alone decide."""
    cases = _requests().filter(city=city)
    if ids:
        cases = cases.filter(number__in=ids[:MAX_REQUESTS])
    else:
        unknown = [status for status in statuses if status not in STATUS_FILTERS]
        if unknown:
            raise Open311Error(400, _("status must be open, closed or both."))
        cases = cases.filter(filed_at__gte=start, filed_at__lte=end)
        if codes:
            cases = cases.filter(item__code__in=codes)
        if set(statuses) == {"open"}:
            cases = cases.exclude(status__in=CLOSED_STATUSES)
        elif set(statuses) == {"closed"}:
            cases = cases.filter(status__in=CLOSED_STATUSES)
    offset = (page.number - 1) * page.size
    rows = list(cases.order_by("-filed_at", "-id")[offset : offset + page.size + 1])
    more = len(rows) > page.size
    shown = [request_row(case, client=client, absolute=absolute) for case in rows[: page.size]]
    return shown, more


def service_request(
    *,
    city: Region,
    service_request_id: str,
    client: ApiClient | None = None,
    absolute: Callable[[str], str] = _relative,
) -> dict[str, Any]:
    case = _requests().filter(city=city, number=service_request_id).first()
    if case is None:
        raise Open311Error(404, _("service_request_id not found."))
    return request_row(case, client=client, absolute=absolute)


def token_request(*, city: Region, token: str) -> dict[str, Any]:
    """Filing is immediate, so a token is the service_request_id of a request filed through
    this endpoint; it answers for nothing else."""
    case = (
        Case.objects.filter(city=city, number=token, api_submission__isnull=False)
        .only("number")
        .first()
    )
    if case is None:
        raise Open311Error(404, _("token not found."))
    return {"service_request_id": case.number, "token": token}
