"""The policy lab's scenario and replay pages: the list of scenarios and replays, the
scenario editor, a replay's request, and a replay's page (progress polled by htmx, cancel,
the tally and the rules it ran under, rename, delete).

Views are thin: policylab.access fetches (404 outside the user's cities, 403 without a lab
role), policylab.services writes, and a refusal lands on the form's fields
(core.views.run_service).
"""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment.dashboard import period_label
from assessment.indicators import LABELS
from assessment.models import SchemeDeduction
from assessment.periods import parse_period
from checklists.models import Item, TimeUnit, stage_choices
from core.views import done, run_service
from policylab import access, services
from policylab.forms import NewScenarioForm, RenameForm, ReplayForm, ScenarioForm
from policylab.models import Replay
from policylab.rules import limits_in_force, scheme_in_force
from teams.levels import with_levels
from teams.models import Region

RUNNING = (Replay.State.QUEUED, Replay.State.RUNNING)
# Where a timer the scenario fires sooner would have sent the case (policylab.replay).
ESCALATION_TARGETS = {
    "town": with_levels(gettext_lazy("to the %(town)s")),
    "town_consultation": with_levels(gettext_lazy("to a %(town)s consultation")),
    "city": with_levels(gettext_lazy("to the %(city)s")),
    "prefecture": with_levels(gettext_lazy("to the %(prefecture)s")),  # four levels
}
MAX_COMPARED = 3


def compare_url() -> str:
    """The comparison page (policylab:compare), by its path until its URL exists."""
    try:
        return reverse("policylab:compare")
    except NoReverseMatch:
        return "/lab/compare/"


def changed_url(replay: Replay) -> str | None:
    """The list of the replay's cases and dispatches whose verdict changed, if it exists."""
    try:
        return reverse("policylab:replay_changed", args=[replay.pk])
    except NoReverseMatch:
        return None


def _cities(user) -> list[int]:
    return sorted(access.require_lab(user))


# --- the list -------------------------------------------------------------------------------


def _index_context(request: HttpRequest, new_form: NewScenarioForm | None = None) -> dict:
    user = request.user
    cities = Region.objects.filter(pk__in=_cities(user)).order_by("code")
    scenarios = access.scenarios_of(user).select_related("city", "created_by")
    replays = list(
        access.replays_of(user).select_related("scenario", "region", "requested_by")[:200]
    )
    groups: dict[tuple, list[Replay]] = {}
    for replay in replays:
        replay.period_label = period_label(services.replay_period_of(replay))
        if replay.state == Replay.State.DONE:
            key = (replay.region_id, replay.period_start, replay.period_end)
            groups.setdefault(key, []).append(replay)
    comparable = [
        {
            "place": rows[0].region,
            "period_label": rows[0].period_label,
            "replays": rows,
            "key": f"{rows[0].region_id}-{rows[0].period_start:%Y%m%d}-{rows[0].period_end:%Y%m%d}",
        }
        for rows in groups.values()
    ]
    return {
        "scenarios": scenarios,
        "replays": replays,
        "new_form": new_form or NewScenarioForm(cities=cities),
        "comparable": comparable,
        "compare_url": compare_url(),
        "max_compared": MAX_COMPARED,
    }


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "policylab/index.html", _index_context(request))


@require_POST
@login_required
def scenario_new(request: HttpRequest) -> HttpResponse:
    cities = Region.objects.filter(pk__in=_cities(request.user)).order_by("code")
    form = NewScenarioForm(request.POST, cities=cities)
    if form.is_valid():
        city = form.cleaned_data.get("city") or cities.first()
        ok, scenario = run_service(
            request,
            form,
            lambda: services.create_scenario(
                user=request.user, city=city, name=form.cleaned_data["name"]
            ),
        )
        if ok:
            messages.success(request, _("The scenario starts from the rules in force."))
            return done(request, reverse("policylab:scenario", args=[scenario.pk]))
    return render(request, "policylab/index.html", _index_context(request, form), status=400)


# --- the scenario editor --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def scenario(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = access.access_scenario(user=request.user, pk=pk)
    in_force = limits_in_force()
    status = 200
    if request.method == "POST":
        form = ScenarioForm(request.POST, scenario=scenario, in_force=in_force)
        if form.is_valid():
            ok, _saved = run_service(
                request,
                form,
                lambda: services.update_scenario(
                    user=request.user, scenario_id=scenario.pk, **form.service_input()
                ),
            )
            if ok:
                messages.success(request, _("The scenario is saved."))
                return done(request, reverse("policylab:scenario", args=[scenario.pk]))
        status = 400
    else:
        form = ScenarioForm(scenario=scenario, in_force=in_force)
    return render(
        request,
        "policylab/scenario.html",
        {
            "scenario": scenario,
            "form": form,
            "tables": form.aspect_tables(),
            "replays": scenario.replays.select_related("region")[:20],
        },
        status=status,
    )


@require_POST
@login_required
def scenario_delete(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = access.access_scenario(user=request.user, pk=pk)
    ok, _result = run_service(
        request,
        None,
        lambda: services.delete_scenario(user=request.user, scenario_id=scenario.pk),
    )
    if ok:
        messages.success(request, _("The scenario and its replays are deleted."))
        return done(request, reverse("policylab:index"))
    return done(request, reverse("policylab:scenario", args=[scenario.pk]))


# --- a replay's request ---------------------------------------------------------------------


def _last_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


@require_http_methods(["GET", "POST"])
@login_required
def replay_new(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = access.access_scenario(user=request.user, pk=pk)
    places = access.places_of(request.user).filter(
        Q(pk=scenario.city_id) | Q(parent_id=scenario.city_id)
    )
    status = 200
    if request.method == "POST":
        form = ReplayForm(request.POST, places=places, parse=parse_period)
        if form.is_valid():
            ok, replay = run_service(
                request,
                form,
                lambda: services.request_replay(
                    user=request.user,
                    scenario_id=scenario.pk,
                    place_id=form.cleaned_data["place"].pk,
                    period=form.period_value,
                    name=form.cleaned_data["name"],
                ),
            )
            if ok:
                messages.success(request, _("The replay is queued."))
                return done(request, reverse("policylab:replay", args=[replay.pk]))
        status = 400
    else:
        form = ReplayForm(
            places=places,
            parse=parse_period,
            initial={
                "place": scenario.city_id,
                "kind": "month",
                "anchor": _last_month(timezone.localdate()),
            },
        )
    return render(
        request,
        "policylab/replay_new.html",
        {"scenario": scenario, "form": form},
        status=status,
    )


# --- a replay's page ------------------------------------------------------------------------


def _tally(replay: Replay) -> dict | None:
    tally = (replay.summary or {}).get("tally")
    if not tally:
        return None
    by = tally.get("would_escalate_by") or {}
    return {
        **tally,
        "escalations": [
            (ESCALATION_TARGETS.get(target, target), count)
            for target, count in sorted(by.items())
            if count
        ],
    }


def _rules_shown(replay: Replay) -> dict:
    """The rules the replay ran under, as far as they differ from the rules in force now:
    the limits, the calendar's extra days, the yellow light and the scheme."""
    rules = replay.rules or {}
    in_force = {(row["item"], row["stage"]): row for row in limits_in_force()}
    stages, units = dict(stage_choices()), dict(TimeUnit.choices)
    rows = [
        row
        for row in rules.get("limits") or []
        if (current := in_force.get((row["item"], row["stage"]))) is None
        or (current["amount"], current["unit"]) != (int(row["amount"]), row["unit"])
    ]
    items = Item.objects.in_bulk({row["item"] for row in rows})
    limits = []
    for row in rows:
        current = in_force.get((row["item"], row["stage"]))
        limits.append(
            {
                "item": items.get(row["item"]),
                "stage": stages.get(row["stage"], row["stage"]),
                "amount": row["amount"],
                "unit": units.get(row["unit"], row["unit"]),
                "in_force": (
                    f"{current['amount']} {units.get(current['unit'], current['unit'])}"
                    if current
                    else ""
                ),
            }
        )
    scheme = rules.get("scheme") or {}
    kinds = dict(SchemeDeduction.Kind.choices)
    return {
        "limits": limits,
        "holidays": rules.get("holidays") or [],
        "workdays": rules.get("workdays") or [],
        "yellow_at_percent": rules.get("yellow_at_percent"),
        "scheme": scheme,
        "scheme_in_force": bool(scheme) and _same_scheme(scheme, scheme_in_force()),
        "weights": [
            {
                "label": LABELS.get(row["key"], row["key"]),
                "weight": row["weight"],
                "floor": row.get("floor"),
                "ceiling": row.get("ceiling"),
            }
            for row in scheme.get("indicators") or []
        ],
        "deductions": [
            {"label": kinds.get(row["kind"], row["kind"]), "points": row["points"]}
            for row in scheme.get("deductions") or []
        ],
    }


def _same_scheme(one: dict, other: dict) -> bool:
    """Two stored schemes weigh and deduct the same (in whatever order they list them)."""

    def key(scheme: dict) -> tuple:
        return (
            scheme.get("town_evaluation_weight"),
            sorted(
                (row["key"], row["weight"], row["floor"], row["ceiling"])
                for row in scheme.get("indicators") or []
            ),
            sorted((row["kind"], row["points"]) for row in scheme.get("deductions") or []),
        )

    return key(one) == key(other)


def _progress_context(replay: Replay) -> dict:
    return {
        "replay": replay,
        "running": replay.state in RUNNING,
        "percent": (
            round(100 * replay.cases_done / replay.cases_total) if replay.cases_total else 0
        ),
    }


def _replay_page(
    request: HttpRequest, replay: Replay, *, rename_form: RenameForm | None = None, status=200
) -> HttpResponse:
    replay.period_label = period_label(services.replay_period_of(replay))
    return render(
        request,
        "policylab/replay.html",
        {
            **_progress_context(replay),
            "tally": _tally(replay),
            "rules": _rules_shown(replay),
            "rename_form": rename_form or RenameForm(initial={"name": replay.name}),
            "compare_link": f"{compare_url()}?replay={replay.pk}",
            "changed_link": changed_url(replay),
        },
        status=status,
    )


@require_GET
@login_required
def replay(request: HttpRequest, pk: int) -> HttpResponse:
    return _replay_page(request, access.access_replay(user=request.user, pk=pk))


@require_GET
@login_required
def replay_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar, polled every 2 s while the replay is queued or running. Once it has
    finished, a poll reloads the page (HX-Refresh) to show the tally; the fragment then no
    longer polls."""
    replay = access.access_replay(user=request.user, pk=pk)
    response = render(request, "policylab/_replay_progress.html", _progress_context(replay))
    if request.headers.get("HX-Request") and replay.state not in RUNNING:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@login_required
def replay_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    replay = access.access_replay(user=request.user, pk=pk)
    ok, _result = run_service(
        request, None, lambda: services.cancel_replay(user=request.user, replay_id=replay.pk)
    )
    if ok:
        messages.success(request, _("The replay is cancelled."))
    return done(request, reverse("policylab:replay", args=[replay.pk]))


@require_POST
@login_required
def replay_rename(request: HttpRequest, pk: int) -> HttpResponse:
    replay = access.access_replay(user=request.user, pk=pk)
    form = RenameForm(request.POST)
    if form.is_valid():
        ok, _result = run_service(
            request,
            form,
            lambda: services.rename_replay(
                user=request.user, replay_id=replay.pk, name=form.cleaned_data["name"]
            ),
        )
        if ok:
            messages.success(request, _("The replay is renamed."))
            return done(request, reverse("policylab:replay", args=[replay.pk]))
    return _replay_page(request, replay, rename_form=form, status=400)


@require_POST
@login_required
def replay_delete(request: HttpRequest, pk: int) -> HttpResponse:
    replay = access.access_replay(user=request.user, pk=pk)
    ok, _result = run_service(
        request, None, lambda: services.delete_replay(user=request.user, replay_id=replay.pk)
    )
    if ok:
        messages.success(request, _("The replay is deleted."))
        return done(request, reverse("policylab:index"))
    return done(request, reverse("policylab:replay", args=[replay.pk]))
