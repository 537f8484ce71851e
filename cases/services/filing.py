"""Filing a whistle: screening, numbering, the first event and the screening clock."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.access import scope_of
from cases.errors import IdempotencyKeyReused, InvalidInput, NotAllowed, ScreeningRefused
from cases.models import (
    Attachment,
    Case,
    Deadline,
    IdempotencyKey,
    Priority,
    Source,
)
from cases.models.idempotency import request_fingerprint
from cases.perform import Context, perform
from cases.screening import find_possible_duplicate, refusal_for
from cases.selectors import locate_grid
from cases.services.common import check_photos, require_text
from cases.uploads import undo_stored_files_on_failure
from cases.workflow.routing import HOTLINE_ROUTE, LEVEL_ROUTE
from checklists.demo import is_demo_item, offered_in_city
from checklists.models import Item
from teams.geo import distance_to_polygon_m
from teams.levels import TOWN, level_words, whistle_level
from teams.models import Grid, Role, User
from teams.selectors import grid_polygon

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
                fields={
                    "location": [
                        _("This place lies outside every grid of the %(city)s.") % level_words()
                    ]
                }
            )
    if grid is None:
        raise InvalidInput(
            fields={"grid": [_("Choose the grid, or place the whistle on the map.")]}
        )
    if latitude is not None:
        _check_place_in_grid(grid=grid, latitude=latitude, longitude=longitude)
    if source == Source.GRID_WORKER:
        scope = scope_of(user)
        if not scope.grids.get(Role.GRID_WORKER):
            raise NotAllowed(_("Only grid workers can file whistles here."))
        if grid.village_id not in scope.grid_villages:
            raise NotAllowed(
                _("You can whistle only in the %(villages)s of your grids.") % level_words()
            )
    if is_demo_item(item) and not offered_in_city(item, city_id=grid.village.parent.parent_id):
        raise InvalidInput(
            fields={
                "item": [
                    _("The demonstration item can be filed only in the demo %(city)s.")
                    % level_words()
                ]
            }
        )
    refusal = refusal_for(item=item, description=description)
    if refusal is not None:
        raise ScreeningRefused(refusal.reason, redirect=refusal.redirect)
    return description, grid


def _check_place_in_grid(*, grid: Grid, latitude: float, longitude: float) -> None:
    """A place and a grid given together must agree: the place lies in the grid's polygon or
    within the tolerance of its edge (GPS error); 0,0 or a slip of the finger is refused."""
    # A grid from the process's copy has its polygon kept apart (teams.selectors).
    deferred = "polygon" in grid.get_deferred_fields()
    polygon = grid_polygon(pk=grid.pk) if deferred else grid.polygon
    off = distance_to_polygon_m(polygon, longitude, latitude)
    tolerance = settings.WHISTLE_GRID_TOLERANCE_M
    if off > tolerance:
        raise InvalidInput(
            fields={
                "location": [
                    _(
                        "This place lies %(distance)s m outside grid %(grid)s (at most "
                        "%(tolerance)s m is allowed): place the whistle again on the map, or "
                        "choose the grid it lies in."
                    )
                    % {
                        "distance": f"{off:,.0f}",
                        "grid": grid.code,
                        "tolerance": f"{tolerance:,.0f}",
                    }
                ]
            }
        )


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
    request_hash: str = "",
    client: str = "",
    actor_label: str = "",
) -> FilingResult:
    """File a whistle. With an idempotency key, a retry returns the case the first request
    filed, also when both arrive at once; the same key with another whistle is refused
    (IdempotencyKeyReused, 422). `request_hash` fingerprints the caller's whole body (Open311);
    without it the whistle's own fields are fingerprinted."""
    key = (idempotency_key or "").strip()[:128]
    if key and not request_hash:
        request_hash = request_fingerprint(
            {
                "source": source,
                "item": item.pk,
                "description": description,
                "grid": grid.pk if grid else None,
                "latitude": latitude,
                "longitude": longitude,
                "address": address,
                "contact": [contact_name, contact_phone, contact_email],
            }
        )
    if key:
        earlier = _earlier_filing(key=key, user=user, client=client, request_hash=request_hash)
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
        # a caller's transaction; without a key there is nothing to catch. A filing failing
        # after it stored some of its photos deletes them again.
        with undo_stored_files_on_failure(), transaction.atomic(savepoint=bool(key)):
            claim = None
            if key:
                claim = IdempotencyKey.objects.create(
                    key=key,
                    user=user,
                    client=client if user is None else "",
                    endpoint="file_whistle",
                    request_hash=request_hash,
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
            earlier = _earlier_filing(key=key, user=user, client=client, request_hash=request_hash)
            if earlier is not None:
                return earlier
        raise


def _earlier_filing(
    *, key: str, user: User | None, client: str, request_hash: str
) -> FilingResult | None:
    """The first filing under this key, if any; IdempotencyKeyReused if it filed another."""
    lookup = IdempotencyKey.objects.filter(key=key, endpoint="file_whistle")
    lookup = (
        lookup.filter(user=user)
        if user is not None
        else lookup.filter(user__isnull=True, client=client)
    )
    earlier = lookup.select_related("case").first()
    if earlier is None or earlier.case is None:
        return None
    if not earlier.same_request(request_hash):
        raise IdempotencyKeyReused()
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
    # Only a case of the same village can be merged into; and a filer is never pointed to a
    # case outside their scope (a hotline filing is read by the village's officers).
    duplicate = find_possible_duplicate(
        item=item,
        latitude=latitude,
        longitude=longitude,
        now=now,
        grid_id=grid.pk,
        village_id=village.pk,
        filer=user,
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
    by_item = source == Source.HOTLINE and item.hotline_route == Item.HotlineRoute.TOWN_DISPATCH
    by_level = whistle_level() == TOWN  # the deployment whistles at the middle level
    routed = by_item or by_level
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
            "route": HOTLINE_ROUTE if by_item else LEVEL_ROUTE if by_level else "",
        },
    )
    if routed:
        # The item's hotline rule, or the deployment's whistle level: straight to the town's
        # dispatch, as the village would whistle it (the item's default handlers, their clocks).
        perform(
            action="whistle",
            user=None,
            case=case,
            actor_label=actor_label or (source if by_item else LEVEL_ROUTE),
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
    if ctx.data.get("route"):
        # The village officers are told it goes to the town, instead of being asked to screen.
        ctx.write(ctx.data["route"], data={"item": ctx.case.item.code}, at=ctx.data["at"])
    return ctx
