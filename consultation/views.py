"""Pages of the committees' consultations and of comprehensive investigations: thin views that
parse a form, call a service or a selector, and render.

Outside the user's scope a consultation or an investigation does not exist (404); in scope but
not allowed is 403."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.access import scope_of
from cases.errors import InvalidInput, NotInScope
from checklists.models import Item
from consultation import selectors, services
from consultation.forms import (
    ArrivalForm,
    CallConsultationForm,
    MinutesForm,
    PlanInvestigationForm,
    RecordInvestigationForm,
    decision_forms,
    decision_kinds,
    decision_of,
)
from consultation.models import AgendaItem, Consultation, HotSpotSettings, Invitation
from core.views import done, run_service
from teams.models import Role, User


def _seats_or_403(request: HttpRequest) -> list[selectors.Seat]:
    seats = selectors.committee_seats(user=request.user)
    if not seats:
        raise PermissionDenied
    return seats


def _next_or(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- the committee's queue and calling a consultation ------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """Cases waiting for the user's committee, with their light and the time left before they
    climb, and the consultations called."""
    seats = _seats_or_403(request)
    page, rows = selectors.queue(user=request.user, seats=seats, page=request.GET.get("page"))
    return render(
        request,
        "consultation/queue.html",
        {
            "page": page,
            "rows": rows,
            "seats": seats,
            "consultations": list(selectors.committee_consultations(seats=seats)),
            "archived": list(selectors.committee_consultations(seats=seats, archived=True)[:20]),
        },
    )


@login_required
def call(request: HttpRequest) -> HttpResponse:
    seats = _seats_or_403(request)
    departments, teams, people = _invitable(seats)
    kwargs = {
        "seats": seats,
        "cases": selectors.waiting_cases(seats=seats),
        "departments": departments,
        "teams": teams,
        "people": people,
    }
    if request.method == "POST":
        form = CallConsultationForm(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            seat = data["seat"]
            ok, result = run_service(
                request,
                form,
                lambda: services.call_consultation(
                    user=request.user,
                    level=seat.level,
                    region_id=seat.region.pk,
                    scheduled_at=data["scheduled_at"],
                    place=data["place"],
                    online_link=data["online_link"],
                    case_ids=[c.pk for c in data["cases"]],
                    department_ids=[d.pk for d in data["departments"]],
                    team_ids=[t.pk for t in data["teams"]],
                    user_ids=[u.pk for u in data["people"]],
                ),
            )
            if ok:
                messages.success(request, _("The consultation was called; the invitees were told."))
                return done(request, reverse("consultation:detail", args=[result.pk]))
    else:
        chosen = [pk for pk in request.GET.getlist("case") if pk.isdigit()]
        form = CallConsultationForm(initial={"cases": chosen}, **kwargs)
    return render(request, "consultation/call.html", {"form": form})


def _invitable(seats: list[selectors.Seat]) -> tuple:
    """What a committee may invite: for one seat its own; for several, the union."""
    parts = [selectors.invitable(seat=seat) for seat in seats]
    departments, teams, people = parts[0]
    for more in parts[1:]:
        departments, teams, people = departments | more[0], teams | more[1], people | more[2]
    return departments.distinct(), teams.distinct(), people.distinct()


# --- one consultation --------------------------------------------------------------------------


def _detail_context(request: HttpRequest, consultation: Consultation, **forms) -> dict:
    view = selectors.consultation_view(user=request.user, consultation=consultation)
    decisions = {}
    minutes_form = None
    if view.is_committee and consultation.is_open:
        teams, departments = selectors.task_targets(consultation=consultation)
        kinds = decision_kinds(consultation.level)  # the level names read once for the page
        for row in view.agenda:
            if not row.item.is_decided:
                decisions[row.item.pk] = forms.get("decisions", {}).get(
                    row.item.pk
                ) or decision_forms(
                    item=row.item,
                    level=consultation.level,
                    teams=teams,
                    departments=departments,
                    kinds=kinds,
                )
        minutes_form = forms.get("minutes_form") or MinutesForm(
            initial={"minutes": consultation.minutes}
        )
    agenda = [(row, decisions.get(row.item.pk)) for row in view.agenda]
    return {
        "view": view,
        "consultation": consultation,
        "agenda": agenda,
        "minutes_form": minutes_form,
        "next_url": request.get_full_path(),
    }


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = selectors.consultation_for(user=request.user, pk=pk)
    return render(request, "consultation/detail.html", _detail_context(request, consultation))


@login_required
@require_POST
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = selectors.consultation_for(user=request.user, pk=pk)
    form = MinutesForm(request.POST)
    if form.is_valid():
        ok, _result = run_service(
            request,
            form,
            lambda: services.record_minutes(
                user=request.user, consultation_id=pk, minutes=form.cleaned_data["minutes"]
            ),
        )
        if ok:
            messages.success(request, _("The minutes were saved."))
            return done(request, reverse("consultation:detail", args=[pk]))
    elif not services.is_committee_of(request.user, consultation):
        raise PermissionDenied
    context = _detail_context(request, consultation, minutes_form=form)
    return render(request, "consultation/detail.html", context, status=400)


@login_required
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The decision on one agenda item, with several tasks; also embedded in the consultation
    page, whose forms post here."""
    item = AgendaItem.objects.filter(pk=pk).select_related("case").first()
    if item is None:
        raise NotInScope()
    consultation = selectors.consultation_for(user=request.user, pk=item.consultation_id)
    if not services.is_committee_of(request.user, consultation):
        raise PermissionDenied
    teams, departments = selectors.task_targets(consultation=consultation)
    data = request.POST if request.method == "POST" else None
    form, formset = decision_forms(
        item=item, level=consultation.level, teams=teams, departments=departments, data=data
    )
    status = 200
    if data is not None and not form.is_bound:
        pass  # "add a row": the same form again, unvalidated, with one more task row
    elif data is not None:
        if form.is_valid() & formset.is_valid():
            ok, _result = run_service(
                request,
                form,
                lambda: _decide_item(request, item, form, formset),
            )
            if ok:
                messages.success(request, _("The decision was recorded."))
                fallback = reverse("consultation:detail", args=[consultation.pk])
                return done(request, _next_or(request, fallback))
        status = 400
    return render(
        request,
        "consultation/decide.html",
        {
            "consultation": consultation,
            "item": item,
            "form": form,
            "formset": formset,
            "next": _next_or(request, ""),
        },
        status=status,
    )


def _decide_item(request, item, form, formset) -> AgendaItem:
    """Run the decision; a task's refusal goes next to its row, a reason to the decision."""
    try:
        return services.decide_item(
            user=request.user,
            item_id=item.pk,
            decision=decision_of(form, formset),
            expected_version=form.cleaned_data["version"],
        )
    except InvalidInput as error:
        filled = [f for f in formset.forms if not f.is_blank]
        fields = {}
        for key, errors in error.fields.items():
            parts = key.split("-")
            if len(parts) == 3 and parts[0] == "tasks" and parts[1].isdigit():
                index = int(parts[1])
                if index < len(filled) and parts[2] in filled[index].fields:
                    for message in errors:
                        filled[index].add_error(parts[2], message)
                    continue
            fields["decision" if key == "reason" else key] = errors
        error.fields = fields
        raise


def _invitation_action(request: HttpRequest, pk: int, action, done_message: str) -> HttpResponse:
    consultation_id = (
        Invitation.objects.filter(pk=pk).values_list("consultation_id", flat=True).first()
    )
    if consultation_id is None:
        raise NotInScope()
    selectors.consultation_for(user=request.user, pk=consultation_id)
    ok, _result = run_service(request, None, lambda: action(user=request.user, invitation_id=pk))
    if ok:
        messages.success(request, done_message)
    return done(request, _next_or(request, reverse("consultation:detail", args=[consultation_id])))


@login_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return _invitation_action(
        request, pk, services.confirm_invitation, _("You confirmed that you will attend.")
    )


@login_required
@require_POST
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    """Check in now (the invitee, or the committee at the door), or, with a time, the clerk
    enters when the invitee arrived (also after the meeting)."""
    form = ArrivalForm(request.POST)
    if not form.is_valid():

        def action(*, user: User, invitation_id: int) -> None:
            raise InvalidInput(fields={"arrived_at": form.errors["arrived_at"]})

    elif form.cleaned_data["arrived_at"] is None:
        action = services.check_in
    else:

        def action(*, user: User, invitation_id: int) -> Invitation:
            return services.record_arrival(
                user=user, invitation_id=invitation_id, arrived_at=form.cleaned_data["arrived_at"]
            )

    return _invitation_action(request, pk, action, _("The arrival was recorded."))


@login_required
@require_POST
def confirm_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """The clerk confirms the attendance as entered: a separate action from entering it."""
    selectors.consultation_for(user=request.user, pk=pk)
    ok, _result = run_service(
        request,
        None,
        lambda: services.confirm_attendance(user=request.user, consultation_id=pk),
    )
    if ok:
        messages.success(request, _("The attendance was confirmed."))
    return done(request, _next_or(request, reverse("consultation:detail", args=[pk])))


@login_required
@require_POST
def archive(request: HttpRequest, pk: int) -> HttpResponse:
    selectors.consultation_for(user=request.user, pk=pk)
    ok, _result = run_service(
        request, None, lambda: services.archive_consultation(user=request.user, consultation_id=pk)
    )
    if ok:
        messages.success(request, _("The consultation was archived; the invitees' access ended."))
        return done(request, reverse("consultation:queue"))
    return done(request, reverse("consultation:detail", args=[pk]))


@login_required
def minutes_print(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = selectors.consultation_for(user=request.user, pk=pk)
    view = selectors.consultation_view(user=request.user, consultation=consultation)
    return render(request, "consultation/print.html", {"view": view, "consultation": consultation})


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The consultations the user (or their department or team) was invited to, only those."""
    consultations = list(selectors.invited_consultations(user=request.user)[:100])
    rows = [
        (c, [inv for inv in c.invitations.all() if services.answers_for(request.user, inv)])
        for c in consultations
    ]
    return render(request, "consultation/mine.html", {"rows": rows})


# --- hot spots and investigations --------------------------------------------------------------


@login_required
def hotspots(request: HttpRequest) -> HttpResponse:
    towns, cities = selectors.hot_spot_regions(user=request.user)
    if not (towns or cities):
        raise PermissionDenied
    settings = HotSpotSettings.current()
    return render(
        request,
        "consultation/hotspots.html",
        {
            "spots": selectors.hot_spots(towns=towns, cities=cities, settings=settings),
            "settings": settings,
            "can_plan": bool(towns),
        },
    )


@login_required
def investigations(request: HttpRequest) -> HttpResponse:
    towns = scope_of(request.user).regions_of(Role.TOWN_COMMITTEE)
    rows = selectors.investigations_for(user=request.user)
    return render(
        request,
        "consultation/investigations.html",
        {"rows": list(rows[:100]), "can_plan": bool(towns)},
    )


@login_required
def plan_investigation(request: HttpRequest) -> HttpResponse:
    towns = scope_of(request.user).regions_of(Role.TOWN_COMMITTEE)
    if not towns:
        raise PermissionDenied
    choices = selectors.planning_choices(towns=towns)
    if request.method == "POST":
        form = PlanInvestigationForm(request.POST, choices=choices)
        if form.is_valid():
            data = form.cleaned_data
            ok, result = run_service(
                request,
                form,
                lambda: services.plan_investigation(
                    user=request.user,
                    town_id=data["town"].pk,
                    place_name=data["place_name"],
                    address=data["address"],
                    grid_id=data["grid"].pk,
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    planned_for=data["planned_for"],
                    team_id=data["team"].pk,
                    aspect_ids=[a.pk for a in data["aspects"]],
                    department_ids=[d.pk for d in data["departments"]],
                    notes=data["notes"],
                    hotspot_item_id=data["hotspot_item"],
                    hotspot_grid_id=data["hotspot_grid"],
                ),
            )
            if ok:
                messages.success(request, _("The investigation was planned; the units were told."))
                return done(request, reverse("consultation:investigation", args=[result.pk]))
    else:
        form = PlanInvestigationForm(initial=_plan_initial(request, choices), choices=choices)
    return render(
        request,
        "consultation/plan_investigation.html",
        {
            "form": form,
            # The place map: the filing map's tiles and coordinate system (the tile settings).
            "grid_outlines": selectors.grid_outlines(grids=choices["grids"]),
            "tile_url": settings.WHISTLE_TILE_URL,
            "tile_attribution": settings.WHISTLE_TILE_ATTRIBUTION,
            "tile_crs": settings.WHISTLE_TILE_CRS,
        },
    )


def _plan_initial(request: HttpRequest, choices: dict) -> dict:
    """From a hot spot: its grid, its town, and the aspect of its item."""
    initial = {"town": choices["towns"].first()}
    item_id, grid_id = request.GET.get("item", ""), request.GET.get("grid", "")
    grid = choices["grids"].filter(pk=grid_id).first() if grid_id.isdigit() else None
    if grid is not None:
        initial.update(grid=grid, town=grid.village.parent_id, hotspot_grid=grid.pk)
    if item_id.isdigit():
        item = Item.objects.filter(pk=item_id).first()
        if item is not None:
            initial.update(hotspot_item=item.pk, aspects=[item.aspect_id])
    return initial


@login_required
def investigation(request: HttpRequest, pk: int) -> HttpResponse:
    obj = selectors.investigation_for(user=request.user, pk=pk)
    view = selectors.investigation_view(investigation=obj)
    may_record = services.can_record(request.user, obj) and obj.status == obj.Status.PLANNED
    day_has_come = services.visit_day_has_come(investigation=obj)
    can_record = may_record and day_has_come
    form = None
    status = 200
    if request.method == "POST":
        if not services.can_record(request.user, obj):
            raise PermissionDenied
        form = RecordInvestigationForm(request.POST, view=view)
        if form.is_valid():
            ok, _result = run_service(
                request,
                form,
                lambda: services.record_investigation(
                    user=request.user,
                    investigation_id=obj.pk,
                    attendance=form.attended(),
                    checks=form.checked(),
                    notes=form.cleaned_data["notes"],
                ),
            )
            if ok:
                messages.success(request, _("The investigation was recorded."))
                return done(request, reverse("consultation:investigation", args=[obj.pk]))
        status = 400
    elif can_record:
        form = RecordInvestigationForm(view=view)
    return render(
        request,
        "consultation/investigation.html",
        {
            "view": view,
            "investigation": obj,
            "form": form if can_record or form else None,
            "record_not_yet": may_record and not day_has_come,
        },
        status=status,
    )
