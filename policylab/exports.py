"""The comparison as an XLSX workbook: one sheet per section (indicators, distribution,
escalations, rankings, changed cases), written in openpyxl's write-only (streaming) mode with
the same cell rules as the dashboards' exports (core.exports: typed values, local times, text
that a spreadsheet would run as a formula prefixed with an apostrophe)."""

from django.http import HttpResponse
from django.utils.translation import gettext as _

from assessment import dashboard as board
from assessment.exports import Table, file_name
from core.exports import download_response, to_xlsx_book
from policylab import selectors
from policylab.selectors import Comparison

CHANGED_ROWS_MAX = 100_000


def _column_titles(comparison: Comparison) -> list[str]:
    return [
        _("Rules in force"),
        *(f"{column.name} ({column.scenario_name})" for column in comparison.columns),
    ]


def indicators_table(comparison: Comparison) -> Table:
    headers = [_("Indicator"), _("Unit")]
    for title in _column_titles(comparison):
        headers += [title, _("Counted"), _("Out of")]
    for column in comparison.columns:
        headers.append(_("Change: %(replay)s") % {"replay": column.name})
    rows = []
    for row in comparison.indicators:
        unit = _("hours") if row.key in board.HOUR_KEYS else "%"
        values: list = [row.label, unit]
        for number in (row.live, *row.replays):
            values += [number.export_value, number.numerator, number.denominator]
        values += [number.change for number in row.replays]
        rows.append(values)
    return Table(headers=headers, rows=rows, title=_("Indicators"))


def distribution_table(comparison: Comparison) -> Table:
    headers = [_("Solved by"), _("Target (%)")]
    for title in _column_titles(comparison):
        headers += [f"{title} (%)", _("Closed cases")]
    rows = []
    for row in comparison.distribution:
        values: list = [row.label, round(row.target * 100, 1)]
        for number in (row.live, *row.replays):
            values += [number.export_value, number.numerator]
        rows.append(values)
    return Table(headers=headers, rows=rows, title=_("Distribution 70-20-10"))


def escalations_table(comparison: Comparison) -> Table:
    headers = [_("Level"), *_column_titles(comparison)]
    rows = [
        [row.label, row.live.count, *(count.count for count in row.replays)]
        for row in (*comparison.escalations, *comparison.would_escalate)
    ]
    return Table(headers=headers, rows=rows, title=_("Escalations"))


def rankings_table(comparison: Comparison) -> Table:
    headers = [_("Units"), _("Unit"), _("Score (rules in force)"), _("Rank (rules in force)")]
    for column in comparison.columns:
        headers += [
            _("Score: %(replay)s") % {"replay": column.name},
            _("Rank: %(replay)s") % {"replay": column.name},
            _("Score change"),
            _("Rank change"),
        ]
    rows = []
    for ranking in comparison.rankings:
        for row in ranking.rows:
            values: list = [ranking.label, row.name, row.live.score, row.live.rank]
            for rank in row.replays:
                values += [rank.score, rank.rank, rank.score_change, rank.rank_change]
            rows.append(values)
    return Table(headers=headers, rows=rows, title=_("Rankings"))


def changed_table(comparison: Comparison) -> Table:
    headers = [
        _("Replay"),
        _("Counted in"),
        _("Number"),
        _("Item or unit"),
        _("Verdict under the rules in force"),
        _("Verdict under the scenario"),
        _("Limit passed / due (rules in force)"),
        _("Limit passed / due (scenario)"),
        _("Would have escalated at"),
    ]
    rows: list[list] = []
    for column in comparison.columns:
        replay = column.replay
        facts = selectors.changed_case_facts(replay=replay)[:CHANGED_ROWS_MAX]
        for row in selectors.changed_cases(rows=facts):
            rows.append(
                [
                    column.name,
                    _("case"),
                    row.number,
                    row.item,
                    row.live_verdict,
                    row.scenario_verdict,
                    row.live_overdue_at,
                    row.scenario_overdue_at,
                    row.would_escalate_at,
                ]
            )
        dispatches = selectors.changed_dispatch_facts(replay=replay)[:CHANGED_ROWS_MAX]
        for row in selectors.changed_dispatches(rows=dispatches):
            rows.append(
                [
                    column.name,
                    _("dispatch"),
                    row.number,
                    row.handler,
                    row.live_verdict,
                    row.scenario_verdict,
                    row.live_due,
                    row.scenario_due,
                    None,
                ]
            )
    return Table(headers=headers, rows=rows, title=_("Changed cases"))


def comparison_tables(comparison: Comparison) -> list[Table]:
    return [
        indicators_table(comparison),
        distribution_table(comparison),
        escalations_table(comparison),
        rankings_table(comparison),
        changed_table(comparison),
    ]


def comparison_response(comparison: Comparison) -> HttpResponse:
    body = to_xlsx_book(comparison_tables(comparison))
    name = file_name(
        "policy-lab-comparison",
        comparison.place.code if hasattr(comparison.place, "code") else "",
        comparison.period.start.isoformat(),
        fmt="xlsx",
    )
    return download_response(body, fmt="xlsx", filename=name)
