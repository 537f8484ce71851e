"""Filing a whistle: screening, numbering, the first event and the screening clock."""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import timers
from cases.access import scope_of
from cases.errors import InvalidInput, NotAllowed, ScreeningRefused
from cases.models import (
    Attachment,
    Case,
    CaseSequence,
    Deadline,
    Event,
    IdempotencyKey,
    Priority,
    Source,
)
from cases.notifications import village_officers
from cases.screening import find_possible_duplicate, refusal_for
from cases.selectors import locate_grid
from cases.services.common import check_photos, notify, require_text, store_photos
from cases.transitions import publish_case_changed
from checklists.models import Item, Stage
from teams.models import Grid, Role, User

TRACKING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class FilingResult:
    case: Case
    created: bool
    possible_duplicate: Case | None
    # What this filing wrote besides the case (empty when an earlier filing is returned), so
    # the API answers with the new case without reading it back.
    deadlines: list[Deadline] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


def new_tracking_code() -> str:
    """A random code a citizen can type, impractical to guess (about 79 bits)."""
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(16))


def next_case_number(*, city_id: int, city_code: str, year: int) -> str:
    """The next readable number of the city and year, e.g. HN-2026-000123.

    One statement takes the number and locks the city's counter until the transaction ends, so
    numbers have no gaps and every filing of the city waits here for the one before to commit:
    call it as late in the transaction as possible."""
    table = CaseSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last = last + 1 WHERE city_id = %s AND year = %s "  # noqa: S608
            "RETURNING last",
            [city_id, year],
        )
        row = cursor.fetchone()
    if row is None:
        _start_counter(city_id=city_id, year=year)
        return next_case_number(city_id=city_id, city_code=city_code, year=year)
    return f"{city_code}-{year}-{row[0]:06d}"


def _start_counter(*, city_id: int, year: int) -> None:
    """The city's counter for its first case of the year (or one a concurrent filing created
    meanwhile): the caller then takes its number again."""
    try:
        with transaction.atomic():
            CaseSequence.objects.create(city_id=city_id, year=year, last=0)
    except IntegrityError:
        pass  # created by a concurrent filing


def number_case(*, case_id: int, city_id: int, city_code: str, year: int) -> str:
    """Take the next number of the city and year (next_case_number) and write it on the case.

    On PostgreSQL one statement does both, so the city's counter stays locked one round trip
    less; elsewhere the number is taken, then written."""
    if connection.vendor != "postgresql":
        number = next_case_number(city_id=city_id, city_code=city_code, year=year)
        Case.objects.filter(pk=case_id).update(number=number)
        return number
    with connection.cursor() as cursor:
        cursor.execute(
            # A data-modifying WITH runs once, whatever the outer statement reads of it.
            f"WITH taken AS (UPDATE {CaseSequence._meta.db_table} SET last = last + 1 "  # noqa: S608
            "WHERE city_id = %s AND year = %s RETURNING last) "
            f"UPDATE {Case._meta.db_table} SET number = %s || CASE WHEN taken.last < 1000000 "
            "THEN lpad(taken.last::text, 6, '0') ELSE taken.last::text END "
            f"FROM taken WHERE {Case._meta.db_table}.id = %s RETURNING taken.last",
            [city_id, year, f"{city_code}-{year}-", case_id],
        )
        row = cursor.fetchone()
    if row is None:
        _start_counter(city_id=city_id, year=year)
        return number_case(case_id=case_id, city_id=city_id, city_code=city_code, year=year)
    return f"{city_code}-{year}-{row[0]:06d}"


def _validate(
    *,
    user: User | None,
    source: str,
    item: Item,
    description: str,
    grid: Grid | None,
    latitude: float | None,
    longitude: float | None,
) -> tuple[str, Grid]:
    if source not in Source.values:
        raise InvalidInput(fields={"source": [_("Unknown source.")]})
    if source == Source.GRID_WORKER and user is None:
        raise NotAllowed()
    description = require_text(description, field="description", message=_("Describe the problem."))
    errors: dict[str, list[str]] = {}
    if (latitude is None) != (longitude is None):
        errors["location"] = [_("Give both latitude and longitude, or neither.")]
    elif latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        errors["location"] = [_("This is not a valid location.")]
    if errors:
        raise InvalidInput(fields=errors)
    if grid is None and latitude is not None:
        grid = locate_grid(latitude=latitude, longitude=longitude)
        if grid is None:
            raise InvalidInput(
                fields={"location": [_("This place lies outside every grid of the city.")]}
            )
    if grid is None:
        raise InvalidInput(
            fields={"grid": [_("Choose the grid, or place the whistle on the map.")]}
        )
    if source == Source.GRID_WORKER:
        scope = scope_of(user)
        if not scope.grids.get(Role.GRID_WORKER):
            raise NotAllowed(_("Only grid workers can file whistles here."))
        if grid.village_id not in scope.grid_villages:
            raise NotAllowed(_("You can whistle only in the villages of your grids."))
    refusal = refusal_for(item=item, description=description)
    if refusal is not None:
        raise ScreeningRefused(refusal.reason, redirect=refusal.redirect)
    return description, grid


def file_whistle(
    *,
    user: User | None,
    item: Item,
    description: str,
    grid: Grid | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    address: str = "",
    source: str = Source.GRID_WORKER,
    photos: Sequence[UploadedFile] | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    idempotency_key: str = "",
    client: str = "",
    actor_label: str = "",
) -> FilingResult:
    """File a whistle. With an idempotency key, a retry returns the case the first request
    filed, also when both arrive at once."""
    key = (idempotency_key or "").strip()[:128]
    if key:
        earlier = _earlier_filing(key=key, user=user, client=client)
        if earlier is not None:
            return earlier
    description, grid = _validate(
        user=user,
        source=source,
        item=item,
        description=description,
        grid=grid,
        latitude=latitude,
        longitude=longitude,
    )
    photos = check_photos(photos)
    try:
        # The savepoint lets a concurrent filing's claim (IntegrityError) be answered inside
        # a caller's transaction; without a key there is nothing to catch.
        with transaction.atomic(savepoint=bool(key)):
            claim = None
            if key:
                claim = IdempotencyKey.objects.create(
                    key=key,
                    user=user,
                    client=client if user is None else "",
                    endpoint="file_whistle",
                    request_hash=hashlib.sha256(description.encode()).hexdigest(),
                )
            result = _file(
                user=user,
                item=item,
                description=description,
                grid=grid,
                latitude=latitude,
                longitude=longitude,
                address=address,
                source=source,
                photos=photos,
                contact_name=contact_name,
                contact_phone=contact_phone,
                contact_email=contact_email,
                actor_label=actor_label,
            )
            if claim is not None:
                claim.case = result.case
                claim.save(update_fields=["case"])
            return result
    except IntegrityError:
        if key:
            earlier = _earlier_filing(key=key, user=user, client=client)
            if earlier is not None:
                return earlier
        raise


def _earlier_filing(*, key: str, user: User | None, client: str) -> FilingResult | None:
    lookup = IdempotencyKey.objects.filter(key=key, endpoint="file_whistle")
    lookup = (
        lookup.filter(user=user)
        if user is not None
        else lookup.filter(user__isnull=True, client=client)
    )
    earlier = lookup.select_related("case").first()
    if earlier is None or earlier.case is None:
        return None
    return FilingResult(
        case=earlier.case, created=False, possible_duplicate=earlier.case.possible_duplicate_of
    )


def _file(
    *,
    user: User | None,
    item: Item,
    description: str,
    grid: Grid,
    latitude: float | None,
    longitude: float | None,
    address: str,
    source: str,
    photos: list[UploadedFile],
    contact_name: str,
    contact_phone: str,
    contact_email: str,
    actor_label: str,
) -> FilingResult:
    now = timezone.now()
    village = grid.village
    town = village.parent
    city = town.parent
    duplicate = find_possible_duplicate(
        item=item, latitude=latitude, longitude=longitude, now=now, grid_id=grid.pk
    )
    tracking_code = new_tracking_code()
    case = Case.objects.create(
        # A unique stand-in until the number is taken, last (see number_case).
        number=f"~{tracking_code}",
        tracking_code=tracking_code,
        source=source,
        item=item,
        grid=grid,
        village=village,
        town=town,
        city=city,
        latitude=latitude,
        longitude=longitude,
        address=address.strip()[:300],
        description=description,
        reporter=user,
        contact_name=contact_name.strip()[:100],
        contact_phone=contact_phone.strip()[:40],
        contact_email=contact_email.strip(),
        priority=Priority.URGENT if item.urgency == Item.Urgency.URGENT else Priority.NORMAL,
        possible_duplicate_of=duplicate,
        filed_at=now,
    )
    event = Event.objects.create(
        case=case,
        actor=user,
        actor_label=actor_label or ("" if user else source),
        action="file",
        from_status="",
        to_status=case.status,
        from_level="",
        to_level=case.level,
        data={"possible_duplicate": duplicate.number} if duplicate else {},
        public=True,
        created_at=now,
    )
    attachments = store_photos(case=case, photos=photos, purpose="filing", user=user, event=event)
    deadline = timers.start_deadline(case=case, stage=Stage.SCREENING, start=now)
    officers = list(village_officers(village))
    case.number = number_case(
        case_id=case.pk, city_id=city.pk, city_code=city.code, year=timezone.localtime(now).year
    )
    notify(recipients=officers, kind="case_filed", case=case)
    # The new case's facts follow at once, not at the stale sweep.
    publish_case_changed(case_id=case.pk)
    return FilingResult(
        case=case,
        created=True,
        possible_duplicate=duplicate,
        deadlines=[deadline] if deadline is not None else [],
        attachments=attachments,
    )
