"""The assessment API: what the supervisor's dashboard pages show, read through the same
selectors with the same scope (assessment.views): roles without dashboards get 403, a unit
outside the user's scope does not exist (404). Every table exports as CSV or XLSX, the same
file the page exports.

The town committee's evaluation of departments is read and recorded through
assessment.services, as the page does; its POST honours the Idempotency-Key header.
"""

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from assessment import dashboard as board
from assessment import hotspots as spots
from assessment import selectors
from assessment.api import serializers as api
from assessment.exports import CONTENT_TYPES, export_response, file_name
from assessment.indicators import SOLVER_TARGETS, Indicator
from assessment.models import TownEvaluation
from assessment.periods import Period, previous
from assessment.services import evaluable_months, first_of_month, record_town_evaluation
from cases.api.idempotency import IdempotentViewSet
from cases.api.views import validated
from cases.errors import NotAllowed
from core.api.views import ApiViewSet
from core.replica import api_reads_replica
from teams.levels import level_words

FILE_RESPONSES = {
    (200, CONTENT_TYPES["csv"].split(";")[0]): OpenApiResponse(
        OpenApiTypes.BINARY, description="The table as CSV (UTF-8 with a byte order mark)."
    ),
    (200, CONTENT_TYPES["xlsx"]): OpenApiResponse(
        OpenApiTypes.BINARY, description="The table as an Excel workbook."
    ),
}


def query(serializer_class: type[Serializer], request: Request) -> dict:
    """The validated query parameters (400 with the fields when they are wrong)."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def home_unit(request: Request, data: dict) -> tuple[str, int]:
    """The unit asked for, or the user's own; 403 for roles without dashboards."""
    home = board.home_unit(user=request.user)
    if data.get("unit_type"):
        return data["unit_type"], data["unit_id"]
    return home


def period_data(period: Period) -> dict:
    return {
        "kind": period.kind,
        "start": period.start,
        "last_day": period.last_day,
        "label": board.period_label(period),
    }


def cases_link(indicator: Indicator, part: str) -> str:
    return reverse("api:assessment-cases") + "?" + urlencode(indicator.params(part))


def indicator_rows(
    values: dict[str, Indicator], before: dict[str, Indicator] | None = None
) -> list[dict]:
    """The indicators in the pages' order, with the value of the period before."""
    rows = []
    for key in board.ALL_KEYS:
        indicator = values.get(key)
        if indicator is None or not board.listed(key):
            continue
        earlier = (before or {}).get(key)
        solver = key.removeprefix("solved_by_").removesuffix("_share")
        rows.append(
            {
                "key": key,
                "label": str(indicator.label),
                "value": indicator.value,
                "numerator": indicator.numerator,
                "denominator": indicator.denominator,
                "previous_value": earlier.value if earlier is not None else None,
                "target": SOLVER_TARGETS.get(solver) if key in board.SOLVER_KEYS else None,
                "counted_at": indicator.counted_at,
                "numerator_cases": cases_link(indicator, "numerator"),
                "denominator_cases": cases_link(indicator, "denominator"),
            }
        )
    return rows


def file_response(table: board.PageTable, *, fmt: str, period: Period) -> HttpResponse:
    """The page's table as the page exports it."""
    return export_response(
        table.export(), fmt=fmt, filename=file_name(table.name, period.start.isoformat(), fmt=fmt)
    )


class FileNegotiation(BaseContentNegotiation):
    """An export answers with its file whatever the client accepts (an Accept: text/csv must
    not be refused with 406); its errors are JSON like every other."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list, format_suffix: str | None = None
    ) -> tuple:
        return renderers[0], renderers[0].media_type


def _read(url_path: str, **kwargs: Any) -> Any:
    return action(
        detail=False,
        methods=["get"],
        url_path=url_path,
        url_name=url_path.replace("/", "-"),
        filter_backends=[],
        **kwargs,
    )


class AssessmentViewSet(ApiViewSet):
    """Indicators, rankings and the cases behind each number; reads only."""

    def _indicators(self, request: Request, data: dict, *, trend: int) -> tuple:
        unit_type, unit_id = home_unit(request, data)
        period = data["period"]
        kind = "month" if period.kind == "custom" else period.kind
        trend_periods = (
            selectors.trend_periods(kind=kind, count=trend, anchor=period.start) if trend else []
        )
        computed = selectors.indicators_over(
            user=request.user,
            unit_type=unit_type,
            unit_id=unit_id,
            periods=[*trend_periods, period, previous(period)],
        )
        unit = board.unit_for(unit_type=unit_type, unit_id=unit_id)
        return unit, period, computed, trend_periods

    @extend_schema(
        operation_id="assessment_indicators",
        summary="Every indicator of a unit for a period, against the period before; each "
        "count links to its cases",
        parameters=[api.IndicatorsQuerySerializer],
        responses={200: api.IndicatorsSerializer},
    )
    @_read("indicators", pagination_class=None)
    @api_reads_replica
    def indicators(self, request: Request) -> Response:
        data = query(api.IndicatorsQuerySerializer, request)
        unit, period, computed, trend_periods = self._indicators(request, data, trend=data["trend"])
        before = computed[previous(period)]
        body = {
            "unit": {"type": unit.type, "id": unit.id, "name": unit.name},
            "period": period_data(period),
            "previous_period": period_data(previous(period)),
            "indicators": indicator_rows(computed[period], before),
            "trend": [
                {"period": period_data(each), "indicators": indicator_rows(computed[each])}
                for each in trend_periods
            ],
        }
        return Response(api.IndicatorsSerializer(body).data)

    @extend_schema(
        operation_id="assessment_indicators_export",
        summary="The overview's indicators, level distribution or trend as a CSV or XLSX file",
        parameters=[api.IndicatorsExportQuerySerializer],
        responses=FILE_RESPONSES,
    )
    @_read("indicators/export", pagination_class=None, content_negotiation_class=FileNegotiation)
    @api_reads_replica
    def indicators_export(self, request: Request) -> HttpResponse:
        data = query(api.IndicatorsExportQuerySerializer, request)
        trend = selectors.TREND_COUNT if data["table"] == "trend" else 0
        unit, period, computed, trend_periods = self._indicators(request, data, trend=trend)
        current, before = computed[period], computed[previous(period)]
        if data["table"] == "trend":
            table = board.trend_table(
                [(each, computed[each]) for each in trend_periods],
                unit_type=unit.type,
                unit_id=unit.id,
            )
        elif data["table"] == "levels":
            levels = selectors.level_distribution(
                user=request.user,
                unit_type=unit.type,
                unit_id=unit.id,
                period=period,
                values=current,
            )
            table = board.level_table(
                current, levels, unit_type=unit.type, unit_id=unit.id, period=period
            )
        else:
            kpis = [
                board.kpi(
                    current[key],
                    unit_type=unit.type,
                    unit_id=unit.id,
                    period=period,
                    previous=before.get(key),
                )
                for key in board.KPI_KEYS
                if key in current
            ]
            table = board.kpi_table(kpis, previous_label=board.period_label(previous(period)))
        return file_response(table, fmt=data["file_format"], period=period)

    def _ranking(self, request: Request, data: dict) -> list[selectors.RankRow]:
        board.home_unit(user=request.user)
        return selectors.ranking(user=request.user, unit_type=data["type"], period=data["period"])

    @extend_schema(
        operation_id="assessment_rankings",
        summary="The units of one kind in the user's scope, scored and ranked for a period",
        parameters=[api.RankingQuerySerializer],
        responses={200: api.RankingSerializer},
    )
    @_read("rankings", pagination_class=None)
    @api_reads_replica
    def rankings(self, request: Request) -> Response:
        data = query(api.RankingQuerySerializer, request)
        rows = self._ranking(request, data)
        body = {
            "unit_type": data["type"],
            "period": period_data(data["period"]),
            "rows": [
                {
                    "rank": row.rank,
                    "unit_id": row.unit_id,
                    "unit_name": row.unit_name,
                    "score": row.score,
                    "indicator_score": row.indicator_score,
                    "town_evaluation": row.town_evaluation,
                    "deductions": row.deductions,
                    "indicators": indicator_rows(row.indicators),
                }
                for row in rows
            ],
        }
        return Response(api.RankingSerializer(body).data)

    @extend_schema(
        operation_id="assessment_rankings_export",
        summary="A ranking as a CSV or XLSX file",
        parameters=[api.RankingExportQuerySerializer],
        responses=FILE_RESPONSES,
    )
    @_read("rankings/export", pagination_class=None, content_negotiation_class=FileNegotiation)
    @api_reads_replica
    def rankings_export(self, request: Request) -> HttpResponse:
        data = query(api.RankingExportQuerySerializer, request)
        rows = self._ranking(request, data)
        table = board.ranking_table(rows, unit_type=data["type"], period=data["period"])
        return file_response(table, fmt=data["file_format"], period=data["period"])

    def _cases(self, request: Request, data: dict) -> tuple:
        unit_type, unit_id = home_unit(request, data)
        period = data["period"]
        indicator = selectors.indicators(
            user=request.user, unit_type=unit_type, unit_id=unit_id, period=period
        )[data["indicator"]]
        cases = selectors.cases_behind(
            user=request.user,
            indicator_key=data["indicator"],
            part=data["part"],
            unit_type=unit_type,
            unit_id=unit_id,
            period=period,
        )
        return indicator, board.case_rows(cases)

    @extend_schema(
        operation_id="assessment_cases",
        summary="Exactly the cases counted by one side of an indicator, newest first",
        parameters=[api.CasesQuerySerializer],
        responses={200: api.AssessmentCaseSerializer(many=True)},
    )
    @_read("cases")
    @api_reads_replica
    def cases(self, request: Request) -> Response:
        data = query(api.CasesQuerySerializer, request)
        _indicator, rows = self._cases(request, data)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(api.AssessmentCaseSerializer(page, many=True).data)

    @extend_schema(
        operation_id="assessment_cases_export",
        summary="The cases behind one number, every one of them, as a CSV or XLSX file",
        parameters=[api.CasesExportQuerySerializer],
        responses=FILE_RESPONSES,
    )
    @_read("cases/export", pagination_class=None, content_negotiation_class=FileNegotiation)
    @api_reads_replica
    def cases_export(self, request: Request) -> HttpResponse:
        data = query(api.CasesExportQuerySerializer, request)
        indicator, rows = self._cases(request, data)
        table = board.case_table(rows, title=str(indicator.label))
        return file_response(table, fmt=data["file_format"], period=data["period"])

    def _hot_spots(self, request: Request, data: dict) -> list[dict]:
        board.home_unit(user=request.user)
        return spots.hot_spots(user=request.user, period=data["period"], item_id=data.get("item"))

    @extend_schema(
        operation_id="assessment_hot_spots",
        summary="Every grid in the user's scope with its cases per item in a period, the most "
        "cases first",
        parameters=[api.HotSpotQuerySerializer],
        responses={200: api.HotSpotSerializer(many=True)},
    )
    @_read("hot-spots", pagination_class=None)
    @api_reads_replica
    def hot_spots(self, request: Request) -> Response:
        data = query(api.HotSpotQuerySerializer, request)
        return Response(api.HotSpotSerializer(self._hot_spots(request, data), many=True).data)

    @extend_schema(
        operation_id="assessment_hot_spots_export",
        summary="The hot spots as a CSV or XLSX file",
        parameters=[api.HotSpotExportQuerySerializer],
        responses=FILE_RESPONSES,
    )
    @_read("hot-spots/export", pagination_class=None, content_negotiation_class=FileNegotiation)
    @api_reads_replica
    def hot_spots_export(self, request: Request) -> HttpResponse:
        data = query(api.HotSpotExportQuerySerializer, request)
        found = self._hot_spots(request, data)
        table = board.hot_spot_table(found, period=data["period"], item_id=data.get("item"))
        return file_response(table, fmt=data["file_format"], period=data["period"])

    @extend_schema(
        operation_id="assessment_overdue",
        summary="Open cases in the user's scope past a limit (red), the longest overdue first",
        parameters=[api.OverdueQuerySerializer],
        responses={200: api.OverdueCaseSerializer(many=True)},
    )
    @_read("overdue", pagination_class=None)
    @api_reads_replica
    def overdue(self, request: Request) -> Response:
        data = query(api.OverdueQuerySerializer, request)
        board.home_unit(user=request.user)
        rows = selectors.red_and_overdue(user=request.user, limit=data["limit"])
        return Response(api.OverdueCaseSerializer(rows, many=True).data)


class TownEvaluationViewSet(IdempotentViewSet):
    """The town committee's monthly scores of the departments working in its town."""

    queryset = TownEvaluation.objects.none()
    serializer_class = api.TownEvaluationSerializer
    filter_backends: list = []
    pagination_class = None

    def _towns(self, request: Request) -> list:
        towns = board.evaluating_towns(user=request.user)
        if not towns:
            raise NotAllowed(
                _("Only %(town)s committee staff evaluate departments.") % level_words()
            )
        return towns

    @extend_schema(
        summary="The evaluations of departments by the user's towns in one month",
        parameters=[api.TownEvaluationQuerySerializer],
        responses={200: api.TownEvaluationSerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        towns = self._towns(request)
        data = query(api.TownEvaluationQuerySerializer, request)
        month = first_of_month(data["month"]) if data.get("month") else evaluable_months()[0]
        rows = board.town_evaluations(towns=towns, month=month)
        return Response(api.TownEvaluationSerializer(rows, many=True).data)

    @extend_schema(
        summary="Score a department's work in the town for the current or previous month "
        "(the town committee); given again, a new evaluation replaces the month's current one",
        request=api.RecordTownEvaluationSerializer,
        responses={201: api.TownEvaluationSerializer},
    )
    def create(self, request: Request) -> Response:
        towns = self._towns(request)
        data = validated(api.RecordTownEvaluationSerializer, request)
        evaluation = record_town_evaluation(
            user=request.user,
            town_id=data["town"] or towns[0].pk,
            department_id=data["department"],
            month=data["month"],
            score=data["score"],
            note=data["note"],
        )
        return Response(
            api.TownEvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED
        )
