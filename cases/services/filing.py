"""Filing a whistle: screening, numbering, the first event and the screening clock."""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.access import scope_of
from cases.errors import InvalidInput, NotAllowed, ScreeningRefused
from cases.models import (
    Attachment,
    Case,
    Deadline,
    IdempotencyKey,
    Priority,
    Source,
)
from cases.perform import Context, perform
from cases.screening import find_possible_duplicate, refusal_for
from cases.selectors import locate_grid
from cases.services.common import check_photos, require_text
from cases.workflow.routing import HOTLINE_ROUTE
from checklists.models import Item
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
    routed = source == Source.HOTLINE and item.hotline_route == Item.HotlineRoute.TOWN_DISPATCH
    ctx = perform(
        action="file",
        user=user,
        case=case,
        new=True,
        actor_label=actor_label or ("" if user else source),
        data={
            "photos": photos,
            "possible_duplicate": duplicate,
            "at": now,
            "hotline_route": routed,
        },
    )
    if routed:
        # The item's hotline rule: straight to the town's dispatch, as the village would
        # whistle it (the dispatches to the item's default handlers, their clocks).
        perform(
            action="whistle",
            user=None,
            case=case,
            actor_label=actor_label or source,
            data={"note": "", "hotline_route": True},
        )
    return FilingResult(
        case=case,
        created=True,
        possible_duplicate=duplicate,
        deadlines=ctx.started,
        attachments=ctx.attachments,
    )


def run_file(ctx: Context) -> Context:
    """The filing's first step; its screening clock, its number and the village officers'
    notice follow from the step's declaration. Returns the context: the filing answers with
    the clocks and uploads it wrote."""
    duplicate = ctx.data.get("possible_duplicate")
    ctx.clock_start = ctx.data["at"]
    ctx.write(
        "file",
        data={"possible_duplicate": duplicate.number} if duplicate else {},
        photos="filing",
        first=True,
        at=ctx.data["at"],
    )
    if ctx.data.get("hotline_route"):
        # The village officers are told it goes to the town, instead of being asked to screen.
        ctx.write(HOTLINE_ROUTE, data={"item": ctx.case.item.code}, at=ctx.data["at"])
    return ctx
