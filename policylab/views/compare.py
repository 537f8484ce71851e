"""The policy lab's comparison pages: the rules in force and up to three replays side by side,
the cases behind each number, the verdicts a replay changes, the XLSX export and the printable
summary for a committee meeting. Thin: policylab.selectors reads, these render. Their reads
may use the read replica (core.replica)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from assessment import dashboard as board
from core.replica import reads_replica
from policylab import exports, selectors
from policylab.errors import LabError

PAGE_SIZE = 25


def _refused(
    request: HttpRequest, error: LabError, *, template: str, context: dict
) -> HttpResponse:
    messages_ = [str(error.message)] if not error.fields else []
    for errors in error.fields.values():
        messages_ += [str(m) for m in (errors if isinstance(errors, list | tuple) else [errors])]
    return render(
        request,
        template,
        {**context, "errors": messages_},
        status=error.http_status,
    )


def _choices(request: HttpRequest) -> list:
    replays = list(selectors.done_replays(user=request.user)[:200])
    for replay in replays:
        replay.compare_period = board.period_label(selectors.replay_period_of(replay))
    return replays


@require_GET
@login_required
@reads_replica
def compare(request: HttpRequest) -> HttpResponse:
    ids = request.GET.getlist("replay")
    if not ids:
        return render(
            request,
            "policylab/compare.html",
            {"choices": _choices(request), "chosen": []},
        )
    try:
        found = selectors.comparison(user=request.user, replay_ids=ids)
    except LabError as error:
        if error.http_status != 400:
            raise
        return _refused(
            request,
            error,
            template="policylab/compare.html",
            context={"choices": _choices(request), "chosen": ids},
        )
    return render(
        request,
        "policylab/compare.html",
        {"comparison": found, "chosen": [str(pk) for pk in found.replay_ids]},
    )


@require_GET
@login_required
@reads_replica
def compare_print(request: HttpRequest) -> HttpResponse:
    try:
        found = selectors.comparison(user=request.user, replay_ids=request.GET.getlist("replay"))
    except LabError as error:
        if error.http_status != 400:
            raise
        return _refused(request, error, template="policylab/compare_print.html", context={})
    return render(
        request,
        "policylab/compare_print.html",
        {
            "comparison": found,
            "movers": found.movers(),
            "key_indicators": [row for row in found.indicators if row.key in board.KPI_KEYS],
            "generated_at": timezone.localtime(),
        },
    )


@require_GET
@login_required
@reads_replica
def compare_export(request: HttpRequest) -> HttpResponse:
    try:
        found = selectors.comparison(user=request.user, replay_ids=request.GET.getlist("replay"))
    except LabError as error:
        if error.http_status != 400:
            raise
        return _refused(
            request,
            error,
            template="policylab/compare.html",
            context={"choices": _choices(request), "chosen": request.GET.getlist("replay")},
        )
    return exports.comparison_response(found)


@require_GET
@login_required
@reads_replica
def replay_cases(request: HttpRequest, pk: int) -> HttpResponse:
    query = request.GET
    try:
        behind = selectors.cases_behind(
            user=request.user,
            replay_id=pk,
            indicator_key=query.get("indicator", ""),
            part=query.get("part", ""),
            side=query.get("side", ""),
            unit_type=query.get("unit_type") or None,
            unit_id=query.get("unit_id") or None,
        )
    except LabError as error:
        if error.http_status != 400:
            raise
        return _refused(request, error, template="policylab/cases.html", context={})
    listing = Paginator(behind.rows, PAGE_SIZE).get_page(query.get("page"))
    cases = list(listing.object_list)
    marks = (
        selectors.changed_marks(replay=behind.replay, cases=cases)
        if behind.side == "scenario"
        else {}
    )
    table = board.case_table(cases, title=behind.label)
    keep = query.copy()
    keep.pop("page", None)
    rows = []
    for case, row in zip(cases, table.labelled_rows, strict=True):
        key = getattr(case, "counted_dispatch_id", None) or case.pk
        rows.append({"cells": row, "changed": marks.get(key)})
    return render(
        request,
        "policylab/cases.html",
        {
            "behind": behind,
            "listing": listing,
            "table": table,
            "rows": rows,
            "keep_query": keep.urlencode(),
            "period_label": board.period_label(selectors.replay_period_of(behind.replay)),
        },
    )


@require_GET
@login_required
@reads_replica
def replay_changed(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        replay = selectors.changed_replay(user=request.user, replay_id=pk)
    except LabError as error:
        if error.http_status != 400:
            raise
        return _refused(request, error, template="policylab/changed.html", context={})
    case_page = Paginator(selectors.changed_case_facts(replay=replay), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    dispatch_page = Paginator(selectors.changed_dispatch_facts(replay=replay), PAGE_SIZE).get_page(
        request.GET.get("dpage")
    )
    return render(
        request,
        "policylab/changed.html",
        {
            "replay": replay,
            "period_label": board.period_label(selectors.replay_period_of(replay)),
            "case_page": case_page,
            "cases": selectors.changed_cases(rows=case_page.object_list),
            "dispatch_page": dispatch_page,
            "dispatches": selectors.changed_dispatches(rows=dispatch_page.object_list),
        },
    )
