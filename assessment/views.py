"""The assessment dashboards: overview, rankings, a unit's page, the cases behind a number, hot
spots, the town's evaluation of departments and the monthly report.

Views are thin: they read the period and filters, call assessment.selectors (numbers) or
assessment.hotspots, and render; `?format=csv|xlsx` returns the page's table as a file.
Supervisors read everything and change nothing; other roles see their own scope (a unit
outside it is 404); grid workers and team members have no dashboards (403).
"""

import sys
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assessment import dashboard as board
from assessment import hotspots as spots
from assessment import selectors
from assessment.exports import export_format, export_response, file_name
from assessment.forms import (
    ClosingCorrectionForm,
    DrillDownForm,
    PeriodForm,
    RankingForm,
    TownEvaluationForm,
)
from assessment.periods import parse_period, period_for, previous
from assessment.services import correct_closing, evaluable_months, record_town_evaluation
from cases.access import scope_of
from cases.models import Case
from core.replica import reads_replica
from core.views import run_service
from teams.levels import level_words
from teams.models import Role

PAGE_SIZE = 25
TREND_COUNT = selectors.TREND_COUNT
RED_LIMIT = 20


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx swap of the page body (a history restore needs the whole page)."""
    return bool(
        request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    )


def period_form(request: HttpRequest, data: QueryDict | None = None) -> PeriodForm:
    """The period filter, bound to the query; no period given means this month."""
    today = timezone.localdate()
    default = period_for("month", today)
    data = request.GET if data is None else data
    if not any(data.get(name) for name in ("kind", "anchor", "start", "end")):
        data = data.copy()
        data.update(board.period_params(default))
    form = PeriodForm(data, parse=parse_period, default=default)
    form.is_valid()
    return form


def page(
    request: HttpRequest, template: str, context: dict, *, tables: dict | None = None
) -> HttpResponse:
    """Render the page (or its body for htmx), or one of its tables as a file."""
    tables = tables or {}
    try:
        fmt = export_format(request.GET)
    except ValueError:
        return HttpResponseBadRequest(_("Choose CSV or XLSX to export a table."))
    if fmt:
        name = request.GET.get("table") or next(iter(tables), "")
        table = tables.get(name)
        if table is None:
            return HttpResponseBadRequest(_("There is no such table on this page."))
        period = context.get("period")
        stamp = period.start.isoformat() if period else ""
        return export_response(
            table.export(), fmt=fmt, filename=file_name(table.name, stamp, fmt=fmt)
        )
    export_query = request.GET.copy()
    export_query.pop("page", None)
    period = context.get("period")
    if period is not None:
        context.setdefault("period_query", board.query_string(**board.period_params(period)))
        context.setdefault("period_label", board.period_label(period))
        context.setdefault("previous_label", board.period_label(previous(period)))
    context = {
        **context,
        "export_query": export_query.urlencode(),
        "page_url": request.path,
        "tables": tables,
        "can_evaluate": board.is_town_committee(user=request.user),
        "can_correct": board.is_supervisor(user=request.user),
    }
    is_fragment = wants_fragment(request)
    # The page's body, which htmx swaps alone (assessment/_body.html: with its freshness note).
    body = template.replace(".html", "_body.html")
    status = 400 if context.get("period_form") and context["period_form"].errors else 200
    if is_fragment:
        status = 200  # htmx swaps only successful answers; the body shows the message
    response = render(
        request,
        "assessment/_body.html" if is_fragment else template,
        {**context, "body_template": body},
        status=status,
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


def _indicator_labels(current: dict) -> dict[str, str]:
    return {key: str(ind.label) for key, ind in current.items()}


# --- overview --------------------------------------------------------------------------------


@require_GET
@login_required
@reads_replica
def overview(request: HttpRequest) -> HttpResponse:
    unit_type, unit_id = board.home_unit(user=request.user)
    unit = board.unit_for(unit_type=unit_type, unit_id=unit_id)
    form = period_form(request)
    period = form.period
    context: dict = {"period_form": form, "period": period, "unit": unit}
    tables: dict = {}
    if period is not None:
        user = request.user
        trend_periods = _trend_periods(period)
        computed, kpis = _period_kpis(
            user=user, unit_type=unit_type, unit_id=unit_id, period=period, also=trend_periods
        )
        current = computed[period]
        trend = [(each, computed[each]) for each in trend_periods]
        levels = selectors.level_distribution(
            user=user, unit_type=unit_type, unit_id=unit_id, period=period, values=current
        )
        # The page shows the first RED_LIMIT; its export has them all (every export exports
        # all the rows of its list).
        red = list(
            selectors.red_and_overdue(
                user=user, limit=sys.maxsize if export_format_safe(request) else RED_LIMIT
            )
        )
        tables = {
            "kpis": board.kpi_table(kpis, previous_label=board.period_label(previous(period))),
            "trend": board.trend_table(trend, unit_type=unit_type, unit_id=unit_id),
            "levels": board.level_table(
                current, levels, unit_type=unit_type, unit_id=unit_id, period=period
            ),
            "closing_levels": board.closing_level_table(
                current, unit_type=unit_type, unit_id=unit_id, period=period
            ),
            "red": board.red_table(red),
        }
        context.update(
            kpis=kpis,
            counted_at=_counted_at(computed.values()),
            previous_period=previous(period),
            trend_chart=board.trend_chart(trend),
            level_chart=board.level_chart(levels),
            red=red,
        )
    return page(request, "assessment/overview.html", context, tables=tables)


def _counted_at(computed) -> datetime | None:
    """When the oldest of these indicators were counted, if any are behind the facts (stored
    counts that the worker is renewing); None when all follow the facts."""
    behind = [
        indicator.counted_at
        for values in computed
        for indicator in values.values()
        if indicator.counted_at is not None
    ]
    return min(behind) if behind else None


def _trend_periods(period) -> list:
    """The TREND_COUNT periods of the period's kind (months for a custom one) up to the one
    holding its start, oldest first."""
    kind = "month" if period.kind == "custom" else period.kind
    return selectors.trend_periods(kind=kind, count=TREND_COUNT, anchor=period.start)


def _period_kpis(*, user, unit_type: str, unit_id: int | None, period, also=()) -> tuple:
    """The indicators of the period, the one before and `also` (counted together), and the
    KPI tiles of the period against the one before."""
    computed = selectors.indicators_over(
        user=user,
        unit_type=unit_type,
        unit_id=unit_id,
        periods=[*also, period, previous(period)],
    )
    current, before = computed[period], computed[previous(period)]
    kpis = [
        board.kpi(
            current[key],
            unit_type=unit_type,
            unit_id=unit_id,
            period=period,
            previous=before.get(key),
        )
        for key in board.KPI_KEYS
        if key in current
    ]
    return computed, kpis


def _trend(user, unit_type: str, unit_id: int | None, period) -> list:
    kind = "month" if period.kind == "custom" else period.kind
    return selectors.trend(
        user=user,
        unit_type=unit_type,
        unit_id=unit_id,
        kind=kind,
        count=TREND_COUNT,
        anchor=period.start,
    )


# --- rankings --------------------------------------------------------------------------------


@require_GET
@login_required
@reads_replica
def rankings(request: HttpRequest) -> HttpResponse:
    board.home_unit(user=request.user)
    choice = RankingForm(request.GET)
    unit_type = choice.unit_type()
    form = period_form(request)
    period = form.period
    context: dict = {
        "period_form": form,
        "period": period,
        "ranking_form": choice,
        "unit_type": unit_type,
        "unit_type_label": board.UNIT_TYPE_LABELS[unit_type],
        "ranked_types": board.ranked_types(user=request.user),
        "ranking_keep": [("type", unit_type)],
    }
    tables: dict = {}
    if period is not None:
        rows = selectors.ranking(user=request.user, unit_type=unit_type, period=period)
        tables = {"ranking": board.ranking_table(rows, unit_type=unit_type, period=period)}
    return page(request, "assessment/rankings.html", context, tables=tables)


# --- one unit --------------------------------------------------------------------------------


@require_GET
@login_required
@reads_replica
def unit_page(request: HttpRequest, unit_type: str, unit_id: int) -> HttpResponse:
    board.home_unit(user=request.user)
    if unit_type not in selectors.UNIT_TYPES:
        raise Http404()
    unit = board.unit_for(unit_type=unit_type, unit_id=unit_id)
    form = period_form(request)
    period = form.period
    context: dict = {"period_form": form, "period": period, "unit": unit}
    tables: dict = {}
    if period is not None:
        user = request.user
        current = selectors.indicators(
            user=user, unit_type=unit_type, unit_id=unit_id, period=period
        )
        kpis = [
            board.kpi(current[key], unit_type=unit_type, unit_id=unit_id, period=period)
            for key in board.shown_keys()
            if key in current
        ]
        trend = _trend(user, unit_type, unit_id, period)
        cases = selectors.cases_behind(
            user=user,
            indicator_key=board.UNIT_CASES_KEY,
            part="denominator",
            unit_type=unit_type,
            unit_id=unit_id,
            period=period,
        )
        rows = board.case_rows(cases)
        listing = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        context["corrections"] = selectors.closure_corrections(cases=cases)
        tables = {
            "trend": board.trend_table(trend, unit_type=unit_type, unit_id=unit_id),
            # The page shows one page of cases; the export has all of them.
            "cases": board.case_table(
                rows if export_format_safe(request) else listing.object_list, title=unit.name
            ),
        }
        rejected = current.get(selectors.REJECTED_KEY)
        if rejected is not None and rejected.numerator:
            reasons = selectors.rejection_reasons(
                user=user, unit_type=unit_type, unit_id=unit_id, period=period
            )
            tables["reasons"] = board.reasons_table(
                reasons, unit_type=unit_type, unit_id=unit_id, period=period
            )
        context.update(
            kpis=kpis,
            counted_at=_counted_at([current, *(values for _period, values in trend)]),
            trend_chart=board.trend_chart(trend),
            listing=listing,
            all_cases_url=board.cases_url(
                key=board.UNIT_CASES_KEY,
                part="denominator",
                unit_type=unit_type,
                unit_id=unit_id,
                period=period,
            ),
        )
    return page(request, "assessment/unit.html", context, tables=tables)


# --- the cases behind a number ---------------------------------------------------------------


@require_GET
@login_required
@reads_replica
def cases_behind(request: HttpRequest) -> HttpResponse:
    board.home_unit(user=request.user)
    form = period_form(request)
    period = form.period
    drill = DrillDownForm(
        request.GET,
        indicator_keys=[key for key in board.ALL_KEYS if board.listed(key)],
        unit_types=selectors.UNIT_TYPES,
    )
    context: dict = {
        "period_form": form,
        "period": period,
        "drill_form": drill,
        "drill_keep": [
            (name, request.GET[name])
            for name in ("indicator", "part", "unit_type", "unit_id", "reason")
            if request.GET.get(name)
        ],
    }
    tables: dict = {}
    if period is not None and drill.is_valid():
        data = drill.cleaned_data
        unit_type, unit_id = data["unit_type"], data["unit_id"]
        unit = board.unit_for(unit_type=unit_type, unit_id=unit_id) if unit_id else None
        indicator = selectors.indicators(
            user=request.user, unit_type=unit_type, unit_id=unit_id, period=period
        )[data["indicator"]]
        queryset = selectors.cases_behind(
            user=request.user,
            indicator_key=data["indicator"],
            part=data["part"],
            unit_type=unit_type,
            unit_id=unit_id,
            period=period,
        )
        title = str(indicator.label)
        # One reason of the rejected whistles (the unit page's breakdown of the rejected share).
        reason = request.GET.get("reason")
        if reason is not None and (data["indicator"], data["part"]) == (
            selectors.REJECTED_KEY,
            "numerator",
        ):
            queryset = selectors.rejected_for(queryset, reason=reason)
            title = f"{title}: {selectors.reason_label(reason)}"
            context["reason"] = selectors.reason_label(reason)  # in the reader's language
        rows = board.case_rows(queryset)
        listing = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        all_rows = rows if export_format_safe(request) else listing.object_list
        tables = {"cases": board.case_table(all_rows, title=title)}
        context.update(
            unit=unit,
            indicator=indicator,
            part=data["part"],
            listing=listing,
            unit_url=reverse("assessment:unit", args=[unit_type, unit_id]) if unit_id else "",
        )
    return page(request, "assessment/cases.html", context, tables=tables)


def export_format_safe(request: HttpRequest) -> bool:
    try:
        return export_format(request.GET) is not None
    except ValueError:
        return False


# --- hot spots -------------------------------------------------------------------------------


@require_GET
@login_required
@reads_replica
def hot_spots(request: HttpRequest) -> HttpResponse:
    board.home_unit(user=request.user)
    form = period_form(request)
    period = form.period
    item_form = board.item_filter(request.GET)
    item_id = item_form.cleaned_data.get("item") if item_form.is_valid() else None
    context: dict = {
        "period_form": form,
        "period": period,
        "item_form": item_form,
        "item_fields": [item_form["item"]],
    }
    tables: dict = {}
    if period is not None:
        found = spots.hot_spots(user=request.user, period=period, item_id=item_id)
        tables = {"hotspots": board.hot_spot_table(found, period=period, item_id=item_id)}
        context.update(
            spots=found,
            geojson=spots.hot_spot_geojson(found),
            legend=spots.legend(found),
            tile=board.tile_settings(),
        )
    return page(request, "assessment/hotspots.html", context, tables=tables)


# --- the town's evaluation of departments ----------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def evaluate(request: HttpRequest) -> HttpResponse:
    """Town committee staff score each department's work in their town once a month."""
    towns = board.evaluating_towns(user=request.user)
    if not towns:
        raise PermissionDenied(
            _("Only %(town)s committee staff evaluate departments.") % level_words()
        )
    town = towns[0]
    departments = board.evaluable_departments(towns=towns)
    months = evaluable_months()
    status = 200
    if request.method == "POST":
        form = TownEvaluationForm(request.POST, departments=departments, months=months)
        if form.is_valid():
            data = form.cleaned_data
            ok, _result = run_service(
                request,
                form,
                lambda: record_town_evaluation(
                    user=request.user,
                    town_id=town.pk,
                    department_id=data["department"].pk,
                    month=data["month"],
                    score=data["score"],
                    note=data["note"],
                ),
            )
            if ok:
                messages.success(request, _("The evaluation was recorded."))
                return redirect(
                    reverse("assessment:evaluate")
                    + "?"
                    + board.query_string(month=data["month"].isoformat())
                )
        month = form.cleaned_data.get("month") or months[0]
        status = 400
    else:
        chosen = board.month_from(request.GET.get("month"))
        month = chosen if chosen in months else months[0]
        form = TownEvaluationForm(
            initial={"month": month.isoformat()}, departments=departments, months=months
        )
    context = {
        "form": form,
        "town": town,
        "month": month,
        "months": months,
        "evaluations": board.town_evaluations(towns=[town], month=month),
        "can_evaluate": True,
    }
    return render(request, "assessment/evaluate.html", context, status=status)


# --- the monthly report ----------------------------------------------------------------------


@require_GET
@login_required
@reads_replica
def report(request: HttpRequest) -> HttpResponse:
    """The month's assessment of a town, of the city or (four levels) of the prefecture, for
    printing."""
    home_type, home_id = board.home_unit(user=request.user)
    unit_type = request.GET.get("unit_type") or (
        home_type if home_type in ("town", "prefecture") else "city"
    )
    if unit_type not in ("prefecture", "city", "town"):
        return HttpResponseBadRequest(
            _("A report is made for a %(town)s or for the %(city)s.") % level_words()
        )
    try:
        unit_id = int(request.GET.get("unit_id") or 0) or board.default_report_unit(
            user=request.user, unit_type=unit_type, home=(home_type, home_id)
        )
    except ValueError:
        return HttpResponseBadRequest(_("The unit must be given by its number."))
    unit = board.unit_for(unit_type=unit_type, unit_id=unit_id)
    query = request.GET.copy()
    query["kind"] = "month"
    query.pop("start", None)
    query.pop("end", None)
    form = period_form(request, query)
    period = form.period
    context: dict = {
        "period_form": form,
        "period": period,
        "unit": unit,
        "report_keep": [("unit_type", unit_type), ("unit_id", unit_id)],
        "report_towns": board.report_towns(unit=unit),
        "report_counties": board.report_counties(unit=unit),
    }
    tables: dict = {}
    if period is not None:
        user = request.user
        computed, kpis = _period_kpis(
            user=user, unit_type=unit_type, unit_id=unit_id, period=period
        )
        current = computed[period]
        levels = selectors.level_distribution(
            user=user, unit_type=unit_type, unit_id=unit_id, period=period, values=current
        )
        tables = {
            "kpis": board.kpi_table(kpis, previous_label=board.period_label(previous(period))),
            "levels": board.level_table(
                current, levels, unit_type=unit_type, unit_id=unit_id, period=period
            ),
            "closing_levels": board.closing_level_table(
                current, unit_type=unit_type, unit_id=unit_id, period=period
            ),
        }
        for ranked in board.report_rankings(unit_type):
            rows = board.rows_within(
                selectors.ranking(user=user, unit_type=ranked, period=period),
                unit_type=ranked,
                parent=unit,
            )
            tables[ranked] = board.ranking_table(rows, unit_type=ranked, period=period)
        context.update(
            kpis=kpis,
            counted_at=_counted_at(computed.values()),
            previous_period=previous(period),
            generated_at=timezone.localtime(),
            ranking_names=board.report_rankings(unit_type),
        )
    return page(request, "assessment/report.html", context, tables=tables)


@login_required
@require_http_methods(["GET", "POST"])
def corrections(request: HttpRequest) -> HttpResponse:
    """The city's supervisors correct when a closed case counts as closed, with the reason:
    the one way a closed period's figures change after the fact; the latest corrections of
    their city are listed below the form."""
    cities = scope_of(request.user).regions_of(Role.SUPERVISOR)
    if not cities:
        raise PermissionDenied(
            _("Only the %(city)s's supervisors correct the figures.") % level_words()
        )
    status = 200
    form = ClosingCorrectionForm(request.POST or None)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            case = selectors.corrected_case(user=request.user, number=data["case_number"])
            if case is None:
                form.add_error("case_number", _("No case with this number in your area."))
            else:
                ok, _result = run_service(
                    request,
                    form,
                    lambda: correct_closing(
                        user=request.user,
                        case_id=case.pk,
                        counts_from=data["counts_from"],
                        reason=data["reason"],
                    ),
                )
                if ok:
                    messages.success(
                        request,
                        _("The closing of %(number)s was corrected.") % {"number": case.number},
                    )
                    return redirect("assessment:corrections")
    context = {
        "form": form,
        "can_correct": True,
        "corrections": selectors.closure_corrections(
            cases=Case.objects.filter(city_id__in=cities), limit=50
        ),
    }
    return render(request, "assessment/corrections.html", context, status=status)
