"""Filing a whistle from a phone: the form, the grids for its map, and the nearby check."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cases.errors import IdempotencyKeyReused, ScreeningRefused
from cases.forms_filing import NearbyForm, WhistleForm
from cases.models import Source
from cases.selectors_pages import filing as selectors
from cases.selectors_pages.pending_photos import pending_thumbnails, pending_uploads
from cases.services import FilingResult, file_whistle
from cases.services.pending_photos import discard_pending_photos, keep_pending_photos
from cases.workflow import available_actions
from cases.workflow.support import SUPPORT
from core.views import done, run_service
from teams.models import User

# filing.js sends this header; the answer to a successful submit is then a 204 carrying the
# address to go to, so the flash message is shown by that page and not by the fetch.
FETCH_HEADER = "X-Whistle-Fetch"
# A draft kept on the phone while offline and sent later (static/js/drafts.js), maybe by the
# service worker with no page to show: a refusal is answered as JSON with the message to list.
DRAFT_HEADER = "X-Whistle-Draft"


def case_url(pk: int) -> str:
    """The case's detail page, by the contract's path while that page is not installed."""
    try:
        return reverse("cases:detail", args=[pk])
    except NoReverseMatch:
        return f"/cases/{pk}/"


def act_url(pk: int, action: str) -> str:
    try:
        return reverse("cases:act", args=[pk, action])
    except NoReverseMatch:
        return f"/cases/{pk}/act/{action}/"


def _require_grid_worker(user: User) -> None:
    if not selectors.is_grid_worker(user=user):
        raise PermissionDenied(_("Only grid workers can file whistles here."))


def _draft_refused(
    form: WhistleForm, refusal: ScreeningRefused | None, status: int
) -> JsonResponse:
    parts = []
    if refusal is not None:
        parts.append(refusal.message)
        if refusal.redirect:
            parts.append(_("Where to go instead: %(place)s") % {"place": refusal.redirect})
    parts.extend(str(error) for error in form.non_field_errors())
    for name, errors in form.errors.items():
        if name in form.fields and name != "__all__":
            label = form.fields[name].label or name
            parts.extend(f"{label}: {error}" for error in errors)
    return JsonResponse({"ok": False, "message": " ".join(parts)}, status=status)


def _after_filing(request: HttpRequest, result: FilingResult) -> HttpResponse:
    number = result.case.number
    if result.created:
        messages.success(request, _("Whistle %(number)s filed.") % {"number": number})
        messages.info(
            request,
            _("Tracking code for the resident: %(code)s (a receipt to print is on the case page).")
            % {"code": result.case.tracking_code},
        )
    else:
        messages.info(
            request, _("This whistle was already filed as %(number)s.") % {"number": number}
        )
    try:
        url = reverse("cases:detail", args=[result.case.pk])
    except NoReverseMatch:
        url = reverse("cases:mine")
    if request.headers.get(FETCH_HEADER):
        response = HttpResponse(status=204)
        response["X-Whistle-Redirect"] = url
        return response
    return done(request, url)


@login_required
@require_http_methods(["GET", "POST"])
def file_case(request: HttpRequest) -> HttpResponse:
    """The whistle form. Each load carries a new idempotency key, so a retried submit of the
    same form returns the case the first submit filed."""
    _require_grid_worker(request.user)
    groups = selectors.whistleable_items(user=request.user)
    refusal = None
    status = 200
    kept = ""  # the photos of an earlier failed submit, kept on the server
    if request.method == "POST":
        kept = request.POST.get("pending_photos", "")
        form = WhistleForm(request.POST, request.FILES, user=request.user, groups=groups)
        if form.is_valid():
            data = form.cleaned_data

            def call() -> FilingResult | ScreeningRefused:
                try:
                    return file_whistle(
                        user=request.user,
                        source=Source.GRID_WORKER,
                        item=data["item"],
                        description=data["description"],
                        grid=data["grid"],
                        latitude=data["latitude"],
                        longitude=data["longitude"],
                        address=data["address"],
                        photos=[
                            *pending_uploads(user=request.user, token=kept),
                            *request.FILES.getlist("photos"),
                        ],
                        idempotency_key=data["idempotency_key"],
                    )
                except ScreeningRefused as error:
                    return error  # shown in its own box at the top, with where to go instead

            ok, result = run_service(request, form, call)
            if ok and isinstance(result, FilingResult):
                discard_pending_photos(user=request.user, token=kept)
                return _after_filing(request, result)
            refusal = result if ok else None
            if isinstance(result, IdempotencyKeyReused):
                # Nothing was filed: the form, as sent, may be filed with a new key.
                form.data = form.data.copy()
                form.data["idempotency_key"] = uuid.uuid4().hex
                status = 422
        status = status if status != 200 else 400
        if request.headers.get(DRAFT_HEADER):
            return _draft_refused(form, refusal, status)
        # Refused: keep the photos, so the grid worker need not take them again.
        kept = keep_pending_photos(
            user=request.user, uploads=request.FILES.getlist("photos"), token=kept
        )
    else:
        form = WhistleForm(
            user=request.user, groups=groups, initial={"idempotency_key": uuid.uuid4().hex}
        )
    return render(
        request,
        "cases/filing/file.html",
        {
            "form": form,
            "refusal": refusal,
            "pending_photos": kept,
            "kept_thumbnails": pending_thumbnails(user=request.user, token=kept),
            "tile_url": settings.WHISTLE_TILE_URL,
            "tile_attribution": settings.WHISTLE_TILE_ATTRIBUTION,
            "tile_crs": settings.WHISTLE_TILE_CRS,
        },
        status=status,
    )


@login_required
@require_GET
def grids_geojson(request: HttpRequest) -> JsonResponse:
    """The grids the user may whistle in, for the map's outlines and point-in-polygon hint."""
    _require_grid_worker(request.user)
    return JsonResponse(selectors.grids_feature_collection(user=request.user))


@login_required
@require_GET
def nearby(request: HttpRequest) -> HttpResponse:
    """htmx fragment: open cases of the same item near the pin, among those the user may see."""
    _require_grid_worker(request.user)
    query = request.GET
    form = NearbyForm(
        {
            "item": query.get("item"),
            "latitude": query.get("lat") or query.get("latitude"),
            "longitude": query.get("lng") or query.get("longitude"),
        }
    )
    rows = []
    if form.is_valid():
        rows = selectors.nearby_open_cases(
            user=request.user,
            item_id=form.cleaned_data["item"],
            latitude=form.cleaned_data["latitude"],
            longitude=form.cleaned_data["longitude"],
        )
    for row in rows:
        row.case.detail_url = case_url(row.case.pk)
        # "Me too" instead of a duplicate, where the user may back the case.
        row.case.can_support = SUPPORT in available_actions(user=request.user, case=row.case)
    return render(request, "cases/filing/nearby.html", {"rows": rows})


urlpatterns = [
    path("cases/new/", file_case, name="file"),
    path("cases/grids.geojson", grids_geojson, name="grids_geojson"),
    path("cases/nearby/", nearby, name="nearby"),
]
