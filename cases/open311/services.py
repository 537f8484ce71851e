"""Writes of the Open311 endpoint: API keys of client systems, rate limits, and filing a
service request as a whistle of source "12345 hotline" through the ordinary screening."""

import hashlib
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.errors import CaseError, IdempotencyKeyReused, IllegalTransition, StaleCase
from cases.models import (
    ApiClient,
    ApiSubmission,
    Case,
    IdempotencyKey,
    Level,
    Source,
    Supporter,
)
from cases.models.idempotency import request_fingerprint
from cases.open311 import ratelimit
from cases.open311.errors import Open311Error, from_case_error
from cases.open311.selectors import (
    MAX_DESCRIPTION,
    attributes_for,
    jurisdiction,
    service_item,
)
from cases.selectors import locate_grid
from cases.services import file_whistle, support_case_for_caller
from teams.levels import level_words
from teams.models import Grid
from teams.names import person_name

ANONYMOUS_PER_MINUTE = 60


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_api_key(*, client: ApiClient) -> str:
    """Give the client a new key (the old one stops working) and return it: it is shown once
    and only its hash is kept. Issuing a key makes a revoked client active again."""
    key = secrets.token_urlsafe(32)
    client.key_hash = hash_key(key)
    client.key_prefix = key[:8]
    client.active = True
    client.revoked_at = None
    client.save()
    return key


def create_api_client(
    *, name: str, jurisdiction_id: str = "", rate_limit_per_minute: int = 120
) -> tuple[ApiClient, str]:
    client = ApiClient(name=name, rate_limit_per_minute=rate_limit_per_minute)
    if jurisdiction_id:
        client.jurisdiction_id = jurisdiction_id
    return client, issue_api_key(client=client)


def revoke_api_client(*, client: ApiClient) -> ApiClient:
    client.active = False
    client.revoked_at = client.revoked_at or timezone.now()
    client.save(update_fields=["active", "revoked_at"])
    return client


def authenticate_client(*, api_key: str) -> ApiClient:
    """The active client of a key; a missing, unknown or revoked key is refused alike."""
    key = (api_key or "").strip()
    client = (
        ApiClient.objects.filter(key_hash=hash_key(key), active=True, revoked_at__isnull=True)
        .only("id", "name", "jurisdiction_id", "rate_limit_per_minute")
        .first()
        if key
        else None
    )
    if client is None:
        raise Open311Error(403, _("Invalid api_key received -- can't proceed."))
    return client


def throttle(*, bucket: str, limit: int) -> None:
    allowed, retry_after = ratelimit.hit(bucket=bucket, limit=limit, window_seconds=60)
    if not allowed:
        raise Open311Error(
            429, _("Too many requests: try again in a minute."), retry_after=retry_after
        )


def throttle_client(*, client: ApiClient) -> None:
    throttle(bucket=f"open311:client:{client.pk}", limit=client.rate_limit_per_minute)


def throttle_anonymous(*, ip: str) -> None:
    throttle(bucket=f"open311:ip:{ip}", limit=ANONYMOUS_PER_MINUTE)


@dataclass(frozen=True)
class Filed:
    case: Case
    created: bool
    service_notice: str
    account_id: str


def body_fingerprint(data: Mapping) -> str:
    """What the client sent (every field but the key), as the REST API fingerprints a body:
    the same Idempotency-Key with another body is refused (422)."""
    fields = (
        {name: values for name, values in data.lists() if name != "api_key"}
        if hasattr(data, "lists")
        else {name: value for name, value in data.items() if name != "api_key"}
    )
    return request_fingerprint(fields)


def _value(data: Mapping, name: str) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _coordinate(data: Mapping, name: str) -> float | None:
    raw = _value(data, name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, _("%(name)s is not a number.") % {"name": name}) from None
    if not math.isfinite(value):
        raise Open311Error(400, _("%(name)s is not a number.") % {"name": name})
    return value


def _attribute_answers(data: Mapping, item) -> dict[str, str | list[str]]:
    """attribute[CODE] answers of the item's variable attributes; unknown codes are ignored."""
    answers: dict[str, str | list[str]] = {}
    errors = []
    for attribute in attributes_for(item):
        if not attribute.variable:
            continue
        name = f"attribute[{attribute.code}]"
        values = [v.strip() for v in (data.getlist(name) if hasattr(data, "getlist") else [])]
        values = [v for v in values if v]
        if not values:
            if attribute.required:
                errors.append(_("%(name)s is required.") % {"name": name})
            continue
        if attribute.values:
            keys = {key for key, _label in attribute.values}
            if any(v not in keys for v in values):
                errors.append(_("%(name)s has a value that is not offered.") % {"name": name})
                continue
        if attribute.max_length and any(len(v) > attribute.max_length for v in values):
            errors.append(
                _("%(name)s may be at most %(length)d characters.")
                % {"name": name, "length": attribute.max_length}
            )
            continue
        answers[attribute.code] = values if attribute.datatype == "multivaluelist" else values[0]
    if errors:
        raise Open311Error(400, *errors)
    return answers


def _place(
    *, city, latitude: float | None, longitude: float | None, address_id: str, address: str
) -> Grid:
    if (latitude is None) != (longitude is None):
        raise Open311Error(400, _("Give both lat and long."))
    if latitude is not None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise Open311Error(400, _("lat and long are not a valid location."))
        grid = locate_grid(latitude=latitude, longitude=longitude)
        if grid is None or grid.village.parent.parent_id != city.pk:
            raise Open311Error(400, _("This place lies outside every grid of the jurisdiction."))
        return grid
    if address_id:
        grid = (
            Grid.objects.select_related("village")
            .filter(code=address_id, village__parent__parent=city)
            .first()
        )
        if grid is None:
            raise Open311Error(400, _("address_id is not the code of a grid of the jurisdiction."))
        return grid
    if address:
        raise Open311Error(
            400,
            _(
                "An address_string alone cannot be placed on the grid map: send lat and long, "
                "or the grid code as address_id."
            ),
        )
    raise Open311Error(400, _("A location is required: lat and long, or address_id."))


def submit_request(
    *, client: ApiClient, data: Mapping, idempotency_key: str = "", track_url: str = ""
) -> Filed:
    """File a service request as a hotline whistle. Screening refuses what is not for
    whistling (HTTP 400 with where to go instead); a retry with the same Idempotency-Key
    returns the first case."""
    jurisdiction_id = _value(data, "jurisdiction_id")
    city = jurisdiction(jurisdiction_id=jurisdiction_id or client.jurisdiction_id)
    if city.code != client.jurisdiction_id:
        raise Open311Error(403, _("This api_key may not file requests in this jurisdiction."))
    service_code = _value(data, "service_code")
    if not service_code:
        raise Open311Error(400, _("service_code was not provided."))
    item = service_item(service_code=service_code, whistleable_only=False)
    description = _value(data, "description")
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, _("description may be at most 4,000 characters."))
    email = _value(data, "email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise Open311Error(400, _("email is not a valid address.")) from None
    media_url = _value(data, "media_url")
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise Open311Error(400, _("media_url is not a valid http(s) URL.")) from None
        if len(media_url) > 1000:
            raise Open311Error(400, _("media_url may be at most 1,000 characters."))
    latitude = _coordinate(data, "lat")
    longitude = _coordinate(data, "long")
    address = _value(data, "address_string")
    grid = _place(
        city=city,
        latitude=latitude,
        longitude=longitude,
        address_id=_value(data, "address_id"),
        address=address,
    )
    answers = _attribute_answers(data, item)
    name = person_name(given=_value(data, "first_name"), family=_value(data, "last_name"))
    account_id = _value(data, "account_id")[:64]
    try:
        with transaction.atomic():
            result = file_whistle(
                user=None,
                source=Source.HOTLINE,
                client=client.name,
                idempotency_key=idempotency_key,
                request_hash=body_fingerprint(data),
                item=item,
                description=description,
                grid=grid,
                latitude=latitude,
                longitude=longitude,
                address=address,
                contact_name=name,
                contact_phone=_value(data, "phone"),
                contact_email=email,
                actor_label=Source.HOTLINE,
            )
            ApiSubmission.objects.get_or_create(
                case=result.case,
                defaults={
                    "client": client,
                    "media_url": media_url,
                    "account_id": account_id,
                    "attributes": answers,
                },
            )
    except CaseError as error:
        raise from_case_error(error) from error
    case = result.case
    if case.level == Level.VILLAGE:
        notice = _(
            "Received as case %(number)s; the %(village)s screens it first. The caller can follow "
            "it at %(url)s with the tracking code %(code)s."
        )
    else:  # the item's hotline rule sent it straight to the town
        notice = _(
            "Received as case %(number)s; it went straight to the %(town)s's dispatch. The caller "
            "can follow it at %(url)s with the tracking code %(code)s."
        )
    notice %= {**level_words(), "number": case.number, "url": track_url, "code": case.tracking_code}
    if result.possible_duplicate is not None:
        notice += " " + _("It may repeat case %(number)s.") % {
            "number": result.possible_duplicate.number
        }
    return Filed(case=case, created=result.created, service_notice=notice, account_id=account_id)


@dataclass(frozen=True)
class Supported:
    case: Case
    created: bool
    supporters: int
    service_notice: str


SUPPORT_ENDPOINT = "open311_support"


def support_request(
    *, client: ApiClient, service_request_id: str, data: Mapping, idempotency_key: str = ""
) -> Supported:
    """A caller of the hotline meets a problem already whistled: "me too" on its open case
    instead of a new request. The caller counts once per case (account_id, else the phone
    number); a retry with the same Idempotency-Key answers as the first."""
    jurisdiction_id = _value(data, "jurisdiction_id")
    city = jurisdiction(jurisdiction_id=jurisdiction_id or client.jurisdiction_id)
    if city.code != client.jurisdiction_id:
        raise Open311Error(403, _("This api_key may not file requests in this jurisdiction."))
    case = Case.objects.filter(city=city, number=service_request_id).only("pk").first()
    if case is None:
        raise Open311Error(404, _("service_request_id not found."))
    description = _value(data, "description")
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, _("description may be at most 4,000 characters."))
    caller = (_value(data, "account_id") or _value(data, "phone"))[:64]
    if not caller:
        raise Open311Error(400, _("account_id or phone is required: a caller counts once."))
    name = person_name(given=_value(data, "first_name"), family=_value(data, "last_name"))
    key = (idempotency_key or "").strip()[:128]
    request_hash = request_fingerprint({"request": case.pk, "body": body_fingerprint(data)})
    try:
        with transaction.atomic():
            claim = None
            if key:
                earlier = _earlier_support(key=key, client=client, request_hash=request_hash)
                if earlier is not None:
                    return earlier
                claim = IdempotencyKey.objects.create(
                    key=key,
                    client=client.name,
                    endpoint=SUPPORT_ENDPOINT,
                    case_id=case.pk,
                    request_hash=request_hash,
                )
            supported = support_case_for_caller(
                case_id=case.pk,
                caller_reference=caller,
                contact_name=name,
                contact_phone=_value(data, "phone"),
                note=description,
            )
            if claim is not None:
                claim.response_status = 200
                claim.save(update_fields=["response_status"])
    except IntegrityError:  # a concurrent copy claimed the key first and has committed
        earlier = (
            _earlier_support(key=key, client=client, request_hash=request_hash) if key else None
        )
        if earlier is None:
            raise
        return earlier
    except (IllegalTransition, StaleCase) as error:
        raise Open311Error(409, error.message) from error
    except CaseError as error:
        raise from_case_error(error) from error
    return _supported(supported, created=True)


def _earlier_support(*, key: str, client: ApiClient, request_hash: str) -> Supported | None:
    """The first "me too" under this key; 422 if the key came with another body."""
    claim = (
        IdempotencyKey.objects.filter(
            key=key, user__isnull=True, client=client.name, endpoint=SUPPORT_ENDPOINT
        )
        .select_related("case")
        .first()
    )
    if claim is None or claim.case is None or claim.response_status is None:
        return None
    if not claim.same_request(request_hash):
        raise Open311Error(422, IdempotencyKeyReused.default_message)
    return _supported(claim.case, created=False)


def _supported(case: Case, *, created: bool) -> Supported:
    count = Supporter.objects.filter(case=case).count()
    notice = _("“Me too” recorded on case %(number)s: %(count)d people back it.") % {
        "number": case.number,
        "count": count,
    }
    return Supported(case=case, created=created, supporters=count, service_notice=notice)
