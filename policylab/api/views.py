"""The policy lab's API: thin views over policylab.access (the same scope as the pages) and
policylab.services, for a city's own analysts.

Without a lab role anywhere the lab is refused (403); outside the user's cities a scenario or
replay does not exist (404); bad input is 400 with the fields named as the body names them; a
replay that is not in a state for the request (cancel a finished one, delete a running one)
is 409. A replay is queued (202) and run by the worker; its progress is on the replay.
"""

from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from assessment import indicators as formulas
from assessment.api.serializers import AssessmentCaseSerializer
from assessment.api.views import period_data, query
from assessment.dashboard import ALL_KEYS, SOLVER_KEYS, case_rows, listed
from assessment.indicators import LABELS, SOLVER_TARGETS
from assessment.models import CaseFact
from cases.api.idempotency import IdempotentAutoSchema, IdempotentViewSet
from cases.api.views import ID_PARAMETER, parse_pk, validated
from cases.models import Case
from core.api.errors import ErrorSerializer
from core.api.views import ApiViewSet
from policylab import access, services
from policylab.api import serializers as api
from policylab.errors import LabError, NotInLab
from policylab.models import Replay, ReplayCaseFact, Scenario
from policylab.rules import limits_in_force, parse_scheme, scheme_in_force
from teams.levels import level_words, with_levels
from teams.models import Department, Region, Team


class LabSchema(IdempotentAutoSchema):
    """Also documents the 409 of a DELETE (a replay still running)."""

    def error_responses(self) -> dict[str, Any]:
        responses = super().error_responses()
        if self.method == "DELETE":
            responses["409"] = OpenApiResponse(
                ErrorSerializer, description="A replay is still running: cancel it first"
            )
        return responses


# --- the fields of the services' errors, as the body names them -------------------------------


def _index(rows: list[dict], **match: Any) -> int | None:
    for index, row in enumerate(rows):
        if all(str(row.get(name)) == str(value) for name, value in match.items()):
            return index
    return None


def api_field(name: str, *, limits: list[dict], scheme: dict) -> str:
    """A field of policylab.rules' errors (limit_<item>_<stage>, weight_<key>, ...) as the
    API's body names it (limits.<n>, scheme.indicators.<n>, ...)."""
    if name.startswith("limit_"):
        item, _sep, stage = name.removeprefix("limit_").partition("_")
        index = _index(limits, item=item, stage=stage)
        return f"limits.{index}" if index is not None else "limits"
    if name == "town_evaluation_weight":
        return "scheme.town_evaluation_weight"
    if name.startswith("weight_"):
        index = _index(scheme.get("indicators") or [], key=name.removeprefix("weight_"))
        return f"scheme.indicators.{index}" if index is not None else "scheme"
    if name.startswith("deduction_"):
        index = _index(scheme.get("deductions") or [], kind=name.removeprefix("deduction_"))
        return f"scheme.deductions.{index}" if index is not None else "scheme"
    return name


def _decimal(value: Any) -> str | None:
    return None if value is None else str(value)


def scheme_input(data: dict | None) -> dict:
    """The validated scheme as the services take it (decimals as strings); {}: none."""
    if not data:
        return {}
    scheme: dict[str, Any] = {}
    if "town_evaluation_weight" in data:
        scheme["town_evaluation_weight"] = _decimal(data["town_evaluation_weight"])
    if "indicators" in data:
        scheme["indicators"] = [
            {
                "key": row["key"],
                "weight": _decimal(row["weight"]),
                "floor": _decimal(row.get("floor")),
                "ceiling": _decimal(row.get("ceiling")),
            }
            for row in data["indicators"]
        ]
    if "deductions" in data:
        scheme["deductions"] = [
            {"kind": row["kind"], "points": _decimal(row["points"])} for row in data["deductions"]
        ]
    return scheme


def merged_limits(stored: list[dict], given: list[dict]) -> list[dict]:
    """The stored limits with those given replacing the same item and stage (new ones added)."""
    rows = {(row["item"], row["stage"]): dict(row) for row in stored}
    for row in given:
        rows[(row["item"], row["stage"])] = dict(row)
    return list(rows.values())


# --- scenarios --------------------------------------------------------------------------------


def scenario_response(scenario: Scenario, *, status_code: int = 200) -> Response:
    return Response(api.ScenarioSerializer(scenario).data, status=status_code)


@extend_schema_view(
    list=extend_schema(
        summary="The scenarios of the user's lab cities, the last changed first",
        responses={200: api.ScenarioListSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One scenario with all its rules: limits, calendar, yellow light, scheme",
        parameters=[ID_PARAMETER],
        responses={200: api.ScenarioSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a scenario and its replays (none may still be running)",
        parameters=[ID_PARAMETER],
        responses={204: None},
    ),
)
class ScenarioViewSet(IdempotentViewSet):
    """Scenarios: other rules to try, starting from the rules in force."""

    queryset = Scenario.objects.none()
    serializer_class = api.ScenarioSerializer
    filter_backends: list = []
    schema = LabSchema()

    def list(self, request: Request) -> Response:
        access.require_lab(request.user)
        rows = (
            access.scenarios_of(request.user)
            .select_related("city", "created_by")
            .annotate(replay_count=Count("replays"))
            .order_by("-updated_at", "-id")
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(api.ScenarioListSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return scenario_response(access.access_scenario(user=request.user, pk=parse_pk(pk)))

    @extend_schema(
        summary="A new scenario of a city, a copy of the rules in force (limits, scheme)",
        request=api.CreateScenarioSerializer,
        responses={201: api.ScenarioSerializer},
    )
    def create(self, request: Request) -> Response:
        cities = access.require_lab(request.user)
        data = validated(api.CreateScenarioSerializer, request)
        city_id = data["city"]
        if city_id is None:
            if len(cities) != 1:
                raise LabError(
                    fields={"city": [_("Choose the %(city)s of the scenario.") % level_words()]}
                )
            (city_id,) = cities
        city = Region.objects.filter(pk=city_id, level=Region.Level.CITY).first()
        if city is None:
            raise NotInLab()
        scenario = services.create_scenario(
            user=request.user, city=city, name=data["name"], note=data["note"]
        )
        return scenario_response(
            access.access_scenario(user=request.user, pk=scenario.pk),
            status_code=status.HTTP_201_CREATED,
        )

    def _update(self, request: Request, pk: str | None, *, partial: bool) -> Response:
        scenario = access.access_scenario(user=request.user, pk=parse_pk(pk))
        serializer = api.UpdateScenarioSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        given_limits = data.get("limits", [])
        given_scheme = scheme_input(data.get("scheme")) if "scheme" in data else None
        if partial:
            limits = merged_limits(scenario.limits, given_limits)
            scheme = (
                {**(scenario.scheme or {}), **given_scheme}
                if given_scheme
                else ({} if "scheme" in data else scenario.scheme)
            )
        else:
            limits, scheme = given_limits, given_scheme or {}
        try:
            scenario = services.update_scenario(
                user=request.user,
                scenario_id=scenario.pk,
                name=data.get("name", scenario.name),
                note=data.get("note", scenario.note if partial else ""),
                limits=limits,
                holidays=data.get("holidays", scenario.holidays),
                workdays=data.get("workdays", scenario.workdays),
                yellow_at_percent=data.get("yellow_at_percent", scenario.yellow_at_percent),
                scheme=scheme,
            )
        except LabError as error:
            named = given_limits if "limits" in data else limits
            fields: dict[str, list[str]] = {}
            for name, messages in error.fields.items():
                key = api_field(name, limits=named, scheme=given_scheme or scheme)
                fields.setdefault(key, []).extend(str(message) for message in messages)
            raise type(error)(error.message, fields=fields) from None
        return scenario_response(access.access_scenario(user=request.user, pk=scenario.pk))

    @extend_schema(
        summary="Replace a scenario's name and rules (every field given); replays already run "
        "keep the rules they ran under",
        parameters=[ID_PARAMETER],
        request=api.UpdateScenarioSerializer,
        responses={200: api.ScenarioSerializer},
    )
    def update(self, request: Request, pk: str | None = None) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(
        summary="Change some of a scenario's rules: the limits given replace those of the same "
        "item and stage, the scheme's parts given replace those parts",
        parameters=[ID_PARAMETER],
        request=api.UpdateScenarioSerializer,
        responses={200: api.ScenarioSerializer},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        return self._update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.delete_scenario(user=request.user, scenario_id=parse_pk(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- replays ----------------------------------------------------------------------------------


def replay_response(request: Request, replay_id: int, *, status_code: int = 200) -> Response:
    replay = access.access_replay(user=request.user, pk=replay_id)
    return Response(api.ReplaySerializer(replay).data, status=status_code)


def verdict(fact: Any) -> dict:
    if fact is None:
        return {
            "closed": False,
            "overdue": False,
            "closed_on_time": False,
            "overdue_at": None,
            "late_count": 0,
        }
    return {
        "closed": fact.closed,
        "overdue": fact.overdue,
        "closed_on_time": fact.closed_on_time,
        "overdue_at": fact.overdue_at,
        "late_count": fact.late_count,
    }


def changed_rows(facts: list[ReplayCaseFact]) -> list[dict]:
    """The replayed facts of a page of cases beside their live facts and numbers."""
    ids = [fact.case_id for fact in facts]
    live = CaseFact.objects.in_bulk(ids)
    numbers = dict(Case.objects.filter(pk__in=ids).values_list("pk", "number"))
    return [
        {
            "case_id": fact.case_id,
            "number": numbers.get(fact.case_id, ""),
            "item_id": fact.item_id,
            "filed_at": fact.filed_at,
            "verdict_changed": fact.verdict_changed,
            "live": verdict(live.get(fact.case_id)),
            "scenario": verdict(fact),
            "would_escalate_at": fact.would_escalate_at,
        }
        for fact in facts
    ]


@extend_schema_view(
    retrieve=extend_schema(
        summary="One replay: its state and progress, the rules it ran under and, once done, "
        "its summary (the live and the replayed indicators, levels and rankings)",
        parameters=[ID_PARAMETER],
        responses={200: api.ReplaySerializer},
    ),
    destroy=extend_schema(
        summary="Delete a replay that is not running, with its results",
        parameters=[ID_PARAMETER],
        responses={204: None},
    ),
)
class ReplayViewSet(IdempotentViewSet):
    """Replays: a scenario over a real period's cases of a place, run by the worker."""

    queryset = Replay.objects.none()
    serializer_class = api.ReplaySerializer
    filter_backends: list = []
    schema = LabSchema()

    @extend_schema(
        summary="The replays of the user's lab cities, the newest first",
        parameters=[api.ReplayFilterSerializer],
        responses={200: api.ReplayListSerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        access.require_lab(request.user)
        data = query(api.ReplayFilterSerializer, request)
        rows = access.replays_of(request.user).select_related("scenario", "region", "requested_by")
        if data.get("scenario"):
            rows = rows.filter(scenario_id=data["scenario"])
        if data.get("state"):
            rows = rows.filter(state=data["state"])
        page = self.paginate_queryset(rows.order_by("-created_at", "-id"))
        return self.get_paginated_response(api.ReplayListSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return replay_response(request, parse_pk(pk))

    @extend_schema(
        summary="Queue a replay of a scenario over a place's cases of a period; the worker "
        "runs it (follow its state and progress on the replay)",
        request=api.RequestReplaySerializer,
        responses={202: api.ReplaySerializer},
    )
    def create(self, request: Request) -> Response:
        access.require_lab(request.user)
        data = validated(api.RequestReplaySerializer, request)
        replay = services.request_replay(
            user=request.user,
            scenario_id=data["scenario"],
            place_id=data["place"],
            period=data["period"],
            name=data["name"],
        )
        return replay_response(request, replay.pk, status_code=status.HTTP_202_ACCEPTED)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.delete_replay(user=request.user, replay_id=parse_pk(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="lab_replays_cancel",
        summary="Cancel a queued or running replay (a running one stops after its current "
        "chunk); a finished replay cannot be cancelled (409)",
        parameters=[ID_PARAMETER],
        request=None,
        responses={200: api.ReplaySerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        replay = services.cancel_replay(user=request.user, replay_id=parse_pk(pk))
        return replay_response(request, replay.pk)

    @extend_schema(
        operation_id="lab_replays_changed",
        summary="The cases whose verdict the replay changed (on time <-> late), or that it "
        "would have sent up sooner: live and replayed side by side",
        parameters=[ID_PARAMETER, api.ChangedQuerySerializer],
        responses={200: api.ChangedCaseSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def changed(self, request: Request, pk: str | None = None) -> Response:
        replay = access.access_replay(user=request.user, pk=parse_pk(pk))
        data = query(api.ChangedQuerySerializer, request)
        condition = (
            Q(would_escalate_at__isnull=False)
            if data["which"] == "would_escalate"
            else Q(verdict_changed=True)
        )
        rows = ReplayCaseFact.objects.filter(condition, replay=replay).order_by(
            "filed_at", "case_id"
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            api.ChangedCaseSerializer(changed_rows(page), many=True).data
        )

    @extend_schema(
        operation_id="lab_replays_cases",
        summary="Exactly the cases behind one number of a replay, under its rules or the rules "
        "in force (the replay's place, or one of the units it ranks), newest first",
        parameters=[ID_PARAMETER, api.ReplayCasesQuerySerializer],
        responses={200: AssessmentCaseSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def cases(self, request: Request, pk: str | None = None) -> Response:
        replay = access.access_replay(user=request.user, pk=parse_pk(pk))
        data = query(api.ReplayCasesQuerySerializer, request)
        rows = cases_behind(
            replay=replay,
            indicator_key=data["indicator"],
            part=data["part"],
            side=data["side"],
            unit_type=data.get("unit_type"),
            unit_id=data.get("unit_id"),
        )
        page = self.paginate_queryset(case_rows(rows))
        return self.get_paginated_response(AssessmentCaseSerializer(page, many=True).data)


def cases_behind(
    *,
    replay: Replay,
    indicator_key: str,
    part: str,
    side: str,
    unit_type: str | None,
    unit_id: int | None,
) -> Any:
    """The cases counted by one side of a replay's indicator, for its place or a unit it
    ranks (404 for another unit): the same conditions as the number (indicators.behind)."""
    place = replay.region
    if unit_type is None or (unit_type == place.level and unit_id == place.pk):
        unit_type, unit_id = place.level, place.pk
    elif unit_id not in services.ranked_units(place).get(unit_type, []):
        raise NotInLab(_("The replay does not count this unit."))
    if replay.state != Replay.State.DONE:
        raise LabError(
            _("The replay has not finished: its numbers are not counted yet."),
            fields={"side": [_("Wait until the replay is done.")]},
        )
    period = services.replay_period_of(replay)
    facts = services.replay_facts(replay) if side == "scenario" else None
    p90 = None
    if indicator_key == "p90_handling_hours" and part == "numerator":
        p90 = formulas.compute(
            unit_type=unit_type, unit_id=unit_id, period=period, params={}, facts=facts
        )["counts"]["p90_seconds"]
    return formulas.behind(
        indicator_key=indicator_key,
        part=part,
        unit_type=unit_type,
        unit_id=unit_id,
        period=period,
        p90_seconds=p90,
        facts=facts,
    )


def cases_links(replay: Replay, key: str, side: str) -> dict | None:
    if key not in formulas.FORMULAS:
        return None
    url = reverse("api:lab-replay-cases", args=[replay.pk])
    return {
        part: f"{url}?{urlencode({'indicator': key, 'part': part, 'side': side})}"
        for part in ("numerator", "denominator")
    }


# --- the comparison ---------------------------------------------------------------------------

LEVEL_LABELS = {
    "cases": gettext_lazy("Cases"),
    "whistled": with_levels(gettext_lazy("Whistled to the %(town)s")),
    "escalated": with_levels(gettext_lazy("Escalated to the %(city)s")),
    "overdue": gettext_lazy("Overdue"),
}
UNIT_MODELS = {"town": Region, "village": Region, "team": Team, "department": Department}


def comparable(*, user: Any, replay_ids: list[int]) -> list[Replay]:
    """The replays, each in the user's scope (404), all done and of one place and period
    (else 400 with a message saying why)."""
    replays = [access.access_replay(user=user, pk=pk) for pk in replay_ids]
    for replay in replays:
        if replay.state != Replay.State.DONE or not replay.summary:
            raise LabError(
                _("Only finished replays can be compared: “%(name)s” is %(state)s.")
                % {"name": replay.name, "state": replay.get_state_display()},
                fields={"replay": [_("Choose finished replays.")]},
            )
    first = replays[0]
    for replay in replays[1:]:
        if (replay.region_id, replay.period_start, replay.period_end) != (
            first.region_id,
            first.period_start,
            first.period_end,
        ):
            raise LabError(
                _(
                    "“%(name)s” covers another place or period than “%(first)s”: compare "
                    "replays of the same place and period."
                )
                % {"name": replay.name, "first": first.name},
                fields={"replay": [_("Choose replays of the same place and period.")]},
            )
    return replays


def _change(value: Any, base: Any) -> float | None:
    if value is None or base is None:
        return None
    return value - base


def rules_changed(rules: dict, *, in_force: dict, scheme: Any) -> dict:
    """What a replay's rules change against the rules in force."""
    mine = {(row["item"], row["stage"]): (row["amount"], row["unit"]) for row in rules["limits"]}
    limits = []
    for key in sorted(set(mine) | set(in_force)):
        if mine.get(key) != in_force.get(key):
            amount, unit = mine.get(key, (None, None))
            live_amount, live_unit = in_force.get(key, (None, None))
            limits.append(
                {
                    "item": key[0],
                    "stage": key[1],
                    "amount": amount,
                    "unit": unit,
                    "in_force_amount": live_amount,
                    "in_force_unit": live_unit,
                }
            )
    return {
        "limits": limits,
        "holidays": rules.get("holidays") or [],
        "workdays": rules.get("workdays") or [],
        "yellow_at_percent": rules.get("yellow_at_percent"),
        "scheme_changed": parse_scheme(rules.get("scheme") or {}, errors={}) != scheme,
    }


def unit_names(rankings: dict) -> dict[str, dict[int, str]]:
    names = {}
    for unit_type, rows in rankings.items():
        model = UNIT_MODELS.get(unit_type)
        ids = [row["id"] for row in rows]
        found = model.objects.in_bulk(ids) if model is not None else {}
        names[unit_type] = {pk: unit.name for pk, unit in found.items()}
    return names


def comparison(replays: list[Replay]) -> dict:
    """The rules in force (the first replay's live side) and each replay side by side."""
    first = replays[0]
    live = first.summary["live"]
    sides = [replay.summary["scenario"] for replay in replays]
    in_force = {
        (row["item"], row["stage"]): (row["amount"], row["unit"]) for row in limits_in_force()
    }
    scheme = parse_scheme(scheme_in_force(), errors={})
    keys = [key for key in ALL_KEYS if key in live["indicators"]]
    keys += [key for key in live["indicators"] if key not in keys]
    # The prefecture's level share only where its committee is on the chain (four levels).
    keys = [key for key in keys if listed(key)]
    indicators = []
    for key in keys:
        base = live["indicators"][key]
        values = []
        for replay, side in zip(replays, sides, strict=True):
            value = side["indicators"].get(key) or {"n": None, "d": None, "v": None}
            values.append(
                {
                    **value,
                    "change": _change(value.get("v"), base.get("v")),
                    "cases": cases_links(replay, key, "scenario"),
                }
            )
        solver = key.removeprefix("solved_by_").removesuffix("_share")
        indicators.append(
            {
                "key": key,
                "label": str(LABELS.get(key, key)),
                "target": SOLVER_TARGETS.get(solver) if key in SOLVER_KEYS else None,
                "live": base,
                "live_cases": cases_links(first, key, "live"),
                "replays": values,
            }
        )
    levels = [
        {
            "key": key,
            "label": str(label),
            "live": live["levels"][key],
            "replays": [
                {
                    "value": side["levels"][key],
                    "change": side["levels"][key] - live["levels"][key],
                }
                for side in sides
            ],
        }
        for key, label in LEVEL_LABELS.items()
    ]
    names = unit_names(live["rankings"])
    rankings = []
    for unit_type in services.RANKED_TYPES:
        rows = live["rankings"].get(unit_type)
        if not rows:
            continue
        others = [{row["id"]: row for row in side["rankings"].get(unit_type, [])} for side in sides]
        units = []
        for row in rows:
            scores = []
            for other in others:
                mine = other.get(row["id"]) or {"score": None, "rank": None}
                scores.append(
                    {
                        "score": mine["score"],
                        "rank": mine["rank"],
                        "score_change": _change(mine["score"], row["score"]),
                        "rank_change": _change(row["rank"], mine["rank"]),
                    }
                )
            units.append(
                {
                    "id": row["id"],
                    "name": names[unit_type].get(row["id"], str(row["id"])),
                    "live": {"score": row["score"], "rank": row["rank"]},
                    "replays": scores,
                }
            )
        rankings.append({"unit_type": unit_type, "units": units})
    period = services.replay_period_of(first)
    return {
        "place": first.region,
        "period": period_data(period),
        "counted_at": first.summary.get("counted_at"),
        "live_changed": any(replay.summary["live"] != live for replay in replays[1:]),
        "replays": [
            {
                "id": replay.pk,
                "name": replay.name,
                "scenario": replay.scenario,
                "counted_at": replay.summary.get("counted_at"),
                "rules_changed": rules_changed(replay.rules, in_force=in_force, scheme=scheme),
                "cases_changed": replay.summary["tally"]["cases_changed"],
                "dispatches_changed": replay.summary["tally"]["dispatches_changed"],
                "would_escalate": replay.summary["tally"]["would_escalate"],
                "would_escalate_by": replay.summary["tally"]["would_escalate_by"],
                "changed_cases": reverse("api:lab-replay-changed", args=[replay.pk]),
            }
            for replay in replays
        ],
        "indicators": indicators,
        "levels": levels,
        "rankings": rankings,
    }


class CompareViewSet(ApiViewSet):
    """The rules in force and up to three replays side by side."""

    queryset = Replay.objects.none()
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        operation_id="lab_compare",
        summary="The rules in force and 1 to 3 finished replays of the same place and period "
        "side by side: every indicator, the escalations per level, every unit's score and "
        "rank with its change, and the cases each replay changes",
        parameters=[api.CompareQuerySerializer],
        responses={200: api.ComparisonSerializer},
    )
    def list(self, request: Request) -> Response:
        access.require_lab(request.user)
        data = query(api.CompareQuerySerializer, request)
        replays = comparable(user=request.user, replay_ids=data["replay"])
        return Response(api.ComparisonSerializer(comparison(replays)).data)
