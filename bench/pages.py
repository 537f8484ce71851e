"""Page benchmark: the server time and SQL queries of the pages people open every day, at a
small and a large history (docs/benchmarks.md: "every page a person opens stays fast however
large the history grows").

    python -m bench.pages                       # 20,000 and 2,000,000 cases
    python -m bench.pages --sizes 20000 200000 --repeat 10 --no-write

Against PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/whistle_bench_pages;
created and migrated when missing; its case tables are emptied, so its name must contain
"bench" unless --force) and Redis (REDIS_URL, default redis://127.0.0.1:6379/11: the cache, as
served). For each size it seeds that many cases of the demo city with set-based SQL: two years
of whistles, most closed, the last month's still moving through every status and level, with
their events, dispatches, deadlines and assessment facts. Then each page is requested in this
process with django.test.Client, logged in as the user who opens it, a few times to warm up and
`--repeat` times measured: server time is the time to produce the response (middleware,
session, queries, templates), and every SQL statement is counted. The figures replace the
"Pages" section of docs/benchmarks.md and go to var/bench/results.json under "pages".
"""

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta

from bench.common import (
    BASE_DIR,
    DOC,
    add_common_arguments,
    bulk_load,
    database_bytes,
    load_average,
    machine,
    machine_line,
    percentile,
    record_results,
    set_up,
    write_section,
)

SECTION = "## Pages"
HISTORY_SECTION = "## Pages over a megacity's history"
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/whistle_bench_pages"
REDIS_URL = "redis://127.0.0.1:6379/11"
TARGET_MS = 300.0
WARM_UP = 3
# The case with a long history that the detail page shows (the same at every size).
HISTORY_EVENTS = 200
# The task of the dispatches the long-history case gets, by which a kept seed finds it again.
HISTORY_TASK = "Check the permits"

# The mix of statuses: (recent, h from, h to, status, level, resolved level, path). `h` is
# (id * 37) % 100, so every grid gets every row of the mix; "recent" cases were filed in the
# last 30 days (most still open), older ones are settled (most closed).
MIX = [
    (False, 0, 4, "rejected", "village", "", "reject"),
    (False, 5, 5, "suspended", "town", "", "whistle report_in suspend"),
    (False, 6, 69, "closed", "village", "village", "accept resolve_on_spot verify_pass evaluate"),
    (False, 70, 89, "closed", "town", "town", "whistle report_in resolve verify_pass evaluate"),
    (
        False,
        90,
        99,
        "closed",
        "city",
        "city",
        "whistle report_in request_consultation escalate resolve verify_pass evaluate",
    ),
    (True, 0, 9, "filed", "village", "", ""),
    (True, 10, 24, "village_handling", "village", "", "accept"),
    (True, 25, 39, "dispatched", "town", "", "whistle"),
    (True, 40, 54, "in_progress", "town", "", "whistle report_in"),
    (True, 55, 59, "in_consultation", "town", "", "whistle report_in request_consultation"),
    (True, 60, 64, "in_progress", "city", "", "whistle report_in request_consultation escalate"),
    (True, 65, 74, "resolved", "village", "village", "accept resolve_on_spot"),
    (True, 75, 94, "closed", "village", "village", "accept resolve_on_spot verify_pass evaluate"),
    (True, 95, 99, "rejected", "village", "", "reject"),
]

# What each step of a path does: (from status, to status, from level, to level, minutes after
# filing, who acts: a column of bench_grid).
STEPS = {
    "accept": ("filed", "village_handling", "village", "village", 30, "officer_id"),
    "reject": ("filed", "rejected", "village", "village", 30, "officer_id"),
    "whistle": ("filed", "dispatched", "village", "town", 60, "officer_id"),
    "report_in": ("dispatched", "in_progress", "town", "town", 90, "captain_id"),
    "request_consultation": ("in_progress", "in_consultation", "town", "town", 1440, "captain_id"),
    "escalate": ("in_consultation", "in_progress", "town", "city", 2880, "town_id_user"),
    "suspend": ("in_progress", "suspended", "town", "town", 2880, "town_id_user"),
    "resolve_on_spot": ("village_handling", "resolved", "village", "village", 600, "officer_id"),
    "resolve": ("in_progress", "resolved", "town", "town", 4320, "captain_id"),
    "verify_pass": ("resolved", "closed", "", "", 5760, "worker_id"),
    "evaluate": ("closed", "closed", "", "", 7200, "worker_id"),
}


def _prepare_environment() -> None:
    os.environ.setdefault("DATABASE_URL", DATABASE_URL)
    os.environ.setdefault("REDIS_URL", REDIS_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    os.environ.setdefault("WHISTLE_VAR_DIR", str(BASE_DIR / "var" / "bench"))
    # The pages render {% static %} from the source tree, without a collectstatic manifest.
    os.environ.setdefault("WHISTLE_MANIFEST_STATIC", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")


# --- seeding ---------------------------------------------------------------------------------


def _reference_tables(cursor) -> None:
    """Temporary tables of the demo city the seed draws from: each grid with its village, town,
    city and the people who act there; the whistleable items; the status mix and its paths."""
    cursor.execute(
        """
        CREATE TEMP TABLE bench_grid AS
        SELECT (row_number() OVER (ORDER BY g.id)) - 1 AS n, g.id AS grid_id,
               g.village_id, v.parent_id AS town_id, t.parent_id AS city_id,
               (SELECT m.user_id FROM teams_membership m
                WHERE m.grid_id = g.id AND m.role = 'grid_worker' ORDER BY m.id LIMIT 1)
                   AS worker_id,
               (SELECT m.user_id FROM teams_membership m
                WHERE m.region_id = v.id AND m.role = 'village_officer' ORDER BY m.id LIMIT 1)
                   AS officer_id,
               (SELECT m.user_id FROM teams_membership m
                WHERE m.region_id = t.id AND m.role = 'town_committee' ORDER BY m.id LIMIT 1)
                   AS town_id_user,
               cle.id AS team_id, cle.code AS team_code,
               (SELECT m.user_id FROM teams_membership m
                WHERE m.team_id = cle.id AND m.role = 'team_captain' ORDER BY m.id LIMIT 1)
                   AS captain_id,
               mso.id AS office_id, mso.code AS office_code
        FROM teams_grid g
        JOIN teams_region v ON v.id = g.village_id
        JOIN teams_region t ON t.id = v.parent_id
        JOIN teams_team cle ON cle.region_id = t.id AND cle.code = t.code || '-CLE'
        JOIN teams_department mso ON mso.code = t.code || '-MSO'
        WHERE t.parent_id IS NOT NULL
        """
    )
    cursor.execute(
        """
        CREATE TEMP TABLE bench_item AS
        SELECT (row_number() OVER (ORDER BY i.id)) - 1 AS n, i.id AS item_id
        FROM checklists_item i WHERE i.active AND i.whistleable AND i.code <> 'DEMO-01'
        """
    )
    cursor.execute(
        "CREATE TEMP TABLE bench_mix (recent bool, lo int, hi int, status text, level text, "
        "resolved_level text, path text)"
    )
    cursor.executemany("INSERT INTO bench_mix VALUES (%s, %s, %s, %s, %s, %s, %s)", MIX)
    cursor.execute(
        "CREATE TEMP TABLE bench_step (path text, k int, action text, from_status text, "
        "to_status text, from_level text, to_level text, minutes int, actor text)"
    )
    rows = []
    for _recent, _lo, _hi, _status, level, _resolved, path in MIX:
        actions = ["file", *path.split()]
        for k, action in enumerate(actions):
            if action == "file":
                rows.append((path, k, action, "", "filed", "", "village", 0, "worker_id"))
                continue
            from_status, to_status, from_level, to_level, minutes, actor = STEPS[action]
            if not from_level:  # verification and evaluation happen at the case's level
                from_level = to_level = level
            rows.append(
                (path, k, action, from_status, to_status, from_level, to_level, minutes, actor)
            )
    cursor.executemany(
        "INSERT INTO bench_step VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        sorted(set(rows)),
    )


PARTITION_YEARS = 10


def seed(*, cases: int) -> int:
    """Empty the case tables and seed `cases` cases with their history; returns the id of the
    case with a long history (in progress, dispatched to captain1's team)."""
    from django.utils import timezone

    now = timezone.now()
    # Ten years of the event log's monthly partitions, as a deployment that keeps a decade for
    # audit has them; the seeded cases fill the last two (cases.partitions). The rows are
    # consistent by construction: checking each one's foreign keys (a row lock on its case for
    # each of a history's hundred million events) took most of a 20,000,000-case seed.
    with bulk_load(
        months=(now - timedelta(days=PARTITION_YEARS * 365), now), skip_foreign_key_checks=True
    ) as cursor:
        _reference_tables(cursor)
        cursor.execute("SELECT count(*) FROM bench_grid")
        (grids,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM bench_item")
        (items,) = cursor.fetchone()
        params = {"now": now, "n": cases, "grids": grids, "items": items}
        # Cases: the newest last, two years back; the mix by h = (id * 37) % 100.
        cursor.execute(
            """
            INSERT INTO cases_case (
                number, tracking_code, source, address, description, contact_name,
                contact_phone, contact_email, status, level, status_before_suspension,
                priority, rework_count, version, rejection_reason, redirect, resolution_note,
                legal_instrument_number, satisfaction, resolved_level, filed_at, updated_at,
                resolved_at, closed_at, latitude, longitude, reporter_id,
                city_id, grid_id, item_id, town_id, village_id, suspension_requested,
                rejection_code, public)
            SELECT 'HN-' || lpad(s::text, 9, '0'), 'PG' || lpad(s::text, 14, '0'),
                   'grid_worker', 'No. ' || (s %% 300) || ' Bench Road',
                   'Benchmark whistle ' || s, '', '', '', m.status, m.level,
                   CASE WHEN m.status = 'suspended' THEN 'in_progress' ELSE '' END,
                   CASE WHEN s %% 20 = 0 THEN 'urgent' ELSE 'normal' END, 0,
                   1 + coalesce(array_length(string_to_array(m.path, ' '), 1), 0),
                   CASE WHEN m.status = 'rejected' THEN 'Not for whistling' ELSE '' END,
                   '', '', '',
                   CASE WHEN m.path LIKE '%%evaluate' THEN (ARRAY['satisfied', 'satisfied',
                        'basically_satisfied', 'unsatisfied', 'satisfied'])[1 + s %% 5]
                        ELSE '' END,
                   m.resolved_level, f.filed_at, %(now)s,
                   CASE WHEN m.resolved_level <> '' THEN f.filed_at + interval '3 days' END,
                   CASE WHEN m.status = 'closed' THEN f.filed_at + interval '4 days' END,
                   30.495 + 0.015 * (bg.n %% 2) + 0.0001 * (s %% 97), 120.62 + 0.0001 * (s %% 89),
                   bg.worker_id, bg.city_id, bg.grid_id, bi.item_id, bg.town_id, bg.village_id,
                   false, CASE WHEN m.status = 'rejected' THEN 'not_on_list' ELSE '' END, false
            FROM generate_series(1, %(n)s) AS s
            CROSS JOIN LATERAL (SELECT %(now)s - (%(n)s - s) * (interval '730 days' / %(n)s)
                                - interval '5 minutes' AS filed_at) f
            JOIN bench_grid bg ON bg.n = s %% %(grids)s
            JOIN bench_item bi ON bi.n = (s / %(grids)s) %% %(items)s
            JOIN bench_mix m ON m.recent = (f.filed_at > %(now)s - interval '30 days')
                            AND (s * 37) %% 100 BETWEEN m.lo AND m.hi
            ORDER BY s
            """,
            params,
        )
        cursor.execute(
            """
            CREATE TEMP TABLE bench_case AS
            SELECT c.id, c.filed_at, c.status, c.level, m.path, bg.*
            FROM cases_case c
            JOIN bench_mix m ON m.recent = (c.filed_at > %(now)s - interval '30 days')
                            AND (c.id * 37) %% 100 BETWEEN m.lo AND m.hi
            JOIN bench_grid bg ON bg.grid_id = c.grid_id
            """,
            params,
        )
        _seed_dispatches(cursor, params)
        _seed_events(cursor, params)
        _seed_deadlines(cursor, params)
        _seed_facts(cursor, params)
        history_case = _long_history(cursor, params)
        cursor.execute(
            "DROP TABLE bench_grid, bench_item, bench_mix, bench_step, bench_case, bench_dispatch, "
            "bench_team_dispatch"
        )
    return history_case


def _seed_dispatches(cursor, params: dict) -> None:
    """A whistled case goes to its town's comprehensive team and to a market supervision
    office: the city bureau (liaison1's) for even ids, the town's own office for odd ones."""
    cursor.execute(
        """
        CREATE TEMP TABLE bench_dispatch AS
        SELECT bc.id AS case_id, h.team_id, h.department_id, bc.status,
               bc.filed_at + interval '60 minutes' AS dispatched_at,
               bc.id %% 20 = 0 AS late
        FROM bench_case bc
        CROSS JOIN LATERAL (VALUES (bc.team_id, NULL::bigint),
            (NULL::bigint, CASE WHEN bc.id %% 2 = 0
                 THEN (SELECT id FROM teams_department WHERE code = 'HN-MSB')
                 ELSE bc.office_id END)) AS h(team_id, department_id)
        WHERE bc.path LIKE 'whistle%%'
        """,
        params,
    )
    cursor.execute(
        """
        INSERT INTO cases_dispatch (
            case_id, team_id, department_id, origin, task, state, dispatched_at,
            report_in_due, reported_in_at, late, handling_note, handled_at, resolved_at, due_at,
            return_reason, return_note, return_ruling)
        SELECT d.case_id, d.team_id, d.department_id, 'whistle', '',
               CASE WHEN d.status = 'dispatched' THEN 'waiting'
                    WHEN d.status IN ('resolved', 'closed') THEN 'resolved'
                    ELSE 'reported' END,
               d.dispatched_at, d.dispatched_at + interval '2 hours',
               CASE WHEN d.status = 'dispatched' THEN NULL
                    WHEN d.late THEN d.dispatched_at + interval '3 hours'
                    ELSE d.dispatched_at + interval '30 minutes' END,
               d.late AND d.status <> 'dispatched', '', NULL,
               CASE WHEN d.status IN ('resolved', 'closed')
                    THEN d.dispatched_at + interval '3 days' END,
               NULL, '', '', ''
        FROM bench_dispatch d
        ORDER BY d.case_id, d.team_id NULLS LAST
        """,
        params,
    )


def _seed_events(cursor, params: dict) -> None:
    """Each case's trace along its path: filed, accepted or whistled, reported in, ...

    Written by SQL, so their `chain_hash` keeps the column's default '' (cases.trace): the
    benchmarks measure pages, and `verify_trace` would name each seeded case as broken."""
    cursor.execute(
        "CREATE TEMP TABLE bench_team_dispatch AS SELECT case_id, min(id) AS dispatch_id "
        "FROM cases_dispatch WHERE team_id IS NOT NULL GROUP BY case_id"
    )
    cursor.execute(
        """
        INSERT INTO cases_event (
            case_id, dispatch_id, actor_id, actor_label, action, from_status, to_status,
            from_level, to_level, data, public, created_at, case_filed_at)
        SELECT bc.id,
               CASE WHEN st.action = 'report_in' THEN td.dispatch_id END,
               CASE st.actor WHEN 'worker_id' THEN bc.worker_id
                             WHEN 'officer_id' THEN bc.officer_id
                             WHEN 'captain_id' THEN bc.captain_id
                             ELSE bc.town_id_user END,
               '', st.action, st.from_status, st.to_status, st.from_level, st.to_level,
               CASE st.action
                   WHEN 'whistle' THEN jsonb_build_object(
                       'teams', jsonb_build_array(bc.team_code),
                       'departments', jsonb_build_array(
                           CASE WHEN bc.id %% 2 = 0 THEN 'HN-MSB' ELSE bc.office_code END))
                   WHEN 'reject' THEN jsonb_build_object(
                       'reason', 'A civil dispute', 'redirect', 'The people''s court')
                   WHEN 'report_in' THEN jsonb_build_object('late', bc.id %% 20 = 0)
                   WHEN 'resolve' THEN jsonb_build_object('note', 'Removed and cleaned')
                   WHEN 'resolve_on_spot' THEN jsonb_build_object('note', 'Solved on site')
                   WHEN 'evaluate' THEN jsonb_build_object('satisfaction',
                       (ARRAY['satisfied', 'satisfied', 'basically_satisfied', 'unsatisfied',
                              'satisfied'])[1 + bc.id %% 5])
                   ELSE '{}'::jsonb END,
               st.action IN ('file', 'accept', 'whistle', 'resolve', 'resolve_on_spot',
                             'verify_pass', 'reject'),
               least(bc.filed_at + st.minutes * interval '1 minute', %(now)s), bc.filed_at
        FROM bench_case bc
        JOIN bench_step st ON st.path = bc.path
        LEFT JOIN bench_team_dispatch td ON td.case_id = bc.id
        ORDER BY bc.id, st.k
        """,
        params,
    )


def _seed_deadlines(cursor, params: dict) -> None:
    """The screening clock every screened case met; the running clock of each open case (one
    in ten overdue and fired, the others due within days, some already yellow); a paused one
    for suspended cases; report-in clocks of the dispatches."""
    cursor.execute(
        """
        INSERT INTO cases_deadline (
            stage, amount, unit, yellow_at_percent, started_at, warn_at, due_at,
            met_at, postponed, case_id, case_filed_at)
        SELECT 'screening', 30, 'natural_minutes', 80, bc.filed_at,
               bc.filed_at + interval '24 minutes', bc.filed_at + interval '30 minutes',
               bc.filed_at + interval '30 minutes', false, bc.id, bc.filed_at
        FROM bench_case bc WHERE bc.status <> 'filed'
        """
    )
    cursor.execute(
        """
        INSERT INTO cases_deadline (
            stage, amount, unit, yellow_at_percent, started_at, warn_at, due_at, fired_at,
            paused_at, remaining_seconds, postponed, case_id, case_filed_at)
        SELECT x.stage, 5, 'working_days', 80, x.started_at, x.due_at - interval '24 hours',
               x.due_at, CASE WHEN x.overdue THEN x.due_at END,
               CASE WHEN bc.status = 'suspended' THEN bc.filed_at + interval '2 days' END,
               CASE WHEN bc.status = 'suspended' THEN 86400 END, false, bc.id, bc.filed_at
        FROM bench_case bc
        CROSS JOIN LATERAL (
            SELECT CASE bc.status
                       WHEN 'filed' THEN 'screening'
                       WHEN 'village_handling' THEN 'village_handling'
                       WHEN 'in_consultation' THEN 'town_consultation'
                       WHEN 'resolved' THEN 'verification'
                       ELSE 'handling' END AS stage,
                   bc.filed_at + interval '1 hour' AS started_at,
                   bc.id %% 10 = 0 AS overdue,
                   CASE WHEN bc.id %% 10 = 0
                        THEN %(now)s - (1 + bc.id %% 48) * interval '1 hour'
                        ELSE %(now)s + (2 + (bc.id %% 7) * 12) * interval '1 hour' END AS due_at
        ) x
        WHERE bc.status IN ('filed', 'village_handling', 'dispatched', 'in_progress',
                            'in_consultation', 'resolved', 'suspended')
        """,
        params,
    )
    cursor.execute(
        """
        INSERT INTO cases_deadline (
            stage, amount, unit, yellow_at_percent, started_at, warn_at, due_at, met_at,
            fired_at, postponed, case_id, dispatch_id, case_filed_at)
        SELECT 'report_in', 2, 'natural_hours', 80, d.dispatched_at,
               d.report_in_due - interval '24 minutes', d.report_in_due,
               d.reported_in_at,
               CASE WHEN d.late OR (d.reported_in_at IS NULL AND d.report_in_due <= %(now)s)
                    THEN d.report_in_due END,
               false, d.case_id, d.id, c.filed_at
        FROM cases_dispatch d JOIN cases_case c ON c.id = d.case_id
        """,
        params,
    )


def _seed_facts(cursor, params: dict) -> None:
    """The assessment facts the dashboards read, as assessment.facts derives them from the
    trace above (handling time approximated as a third of the elapsed time: working hours)."""
    cursor.execute(
        """
        INSERT INTO assessment_casefact (
            case_id, city_id, town_id, village_id, grid_id, item_id, reporter_id, filed_at,
            accepted, rejected, closed, closed_at, closed_level, resolved_at, overdue,
            closed_on_time, reworked, rework_count, postponed, suspended, was_suspended,
            whistled, escalated, max_level, satisfaction, handling_seconds, last_event_id,
            computed_at, merged, supporters, solved_by, closing_corrected, late_count,
            overdue_at)
        SELECT c.id, c.city_id, c.town_id, c.village_id, c.grid_id, c.item_id, c.reporter_id,
               c.filed_at, bc.path LIKE 'accept%%' OR bc.path LIKE 'whistle%%',
               c.status = 'rejected', c.status = 'closed', c.closed_at,
               CASE WHEN c.status = 'closed' THEN c.resolved_level ELSE '' END,
               c.resolved_at, bc.id %% 10 = 0 AND c.status <> 'rejected',
               c.status = 'closed' AND bc.id %% 10 <> 0, false, 0, false,
               c.status = 'suspended', c.status = 'suspended',
               bc.path LIKE 'whistle%%', bc.path LIKE '%%escalate%%', c.level,
               c.satisfaction,
               CASE WHEN c.status = 'closed'
                    THEN extract(epoch FROM c.resolved_at - c.filed_at)::bigint / 3 END,
               e.last_id, %(now)s, false, 0,
               CASE WHEN c.status <> 'closed' THEN ''
                    WHEN c.resolved_level = 'village' THEN 'village'
                    WHEN bc.path LIKE '%%consult%%' THEN 'consultation'
                    ELSE 'team' END,
               false,
               CASE WHEN bc.id %% 10 = 0 AND c.status <> 'rejected' THEN 1 ELSE 0 END,
               CASE WHEN bc.id %% 10 = 0 AND c.status <> 'rejected'
                    THEN c.filed_at + interval '1 day' END
        FROM cases_case c
        JOIN bench_case bc ON bc.id = c.id
        JOIN (SELECT case_id, max(id) AS last_id FROM cases_event GROUP BY case_id) e
          ON e.case_id = c.id
        """,
        params,
    )
    cursor.execute(
        """
        INSERT INTO assessment_dispatchfact (
            dispatch_id, case_id, team_id, department_id, city_id, town_id, village_id,
            grid_id, reporter_id, origin, dispatched_at, report_in_due, reported_in_at,
            reported_on_time, late, cancelled, resolved_at, task_due_at, task_overdue,
            consultation_invited, consultation_attended, consultation_late, computed_at,
            returned, return_upheld, return_overruled, urged, urge_count, supervised,
            supervision_late, spot_checked, false_reply, reworked, rework_count)
        SELECT d.id, d.case_id, d.team_id, d.department_id, c.city_id, c.town_id,
               c.village_id, c.grid_id, c.reporter_id, d.origin, d.dispatched_at,
               d.report_in_due, d.reported_in_at,
               d.reported_in_at IS NOT NULL AND NOT d.late
                   AND d.reported_in_at <= d.report_in_due,
               d.late, false, d.resolved_at, NULL, false, false, false, false, %(now)s,
               false, false, false, false, 0, false, false, false, false, false, 0
        FROM cases_dispatch d JOIN cases_case c ON c.id = d.case_id
        """,
        params,
    )


def _long_history(cursor, params: dict) -> int:
    """The newest case in progress dispatched to captain1's team gets HISTORY_EVENTS more
    events (handling notes, assignments, postponement requests) and three more dispatches."""
    cursor.execute(
        """
        SELECT bc.id, bc.team_id, bc.captain_id, bc.filed_at FROM bench_case bc
        JOIN teams_team t ON t.id = bc.team_id
        WHERE bc.status = 'in_progress' AND bc.level = 'town' AND t.code = 'HN-XS-CLE'
        ORDER BY bc.id DESC LIMIT 1
        """
    )
    row = cursor.fetchone()
    if row is None:
        raise AssertionError("No case in progress on captain1's team: seed more cases")
    case_id, _team_id, captain_id, filed_at = row
    cursor.execute(
        """
        INSERT INTO cases_dispatch (
            case_id, team_id, department_id, origin, task, state, dispatched_at,
            report_in_due, reported_in_at, late, handling_note, resolved_at,
            return_reason, return_note, return_ruling)
        SELECT %(case)s, NULL, dep.id, 'added', %(task)s, 'reported',
               %(filed)s + interval '2 hours', %(filed)s + interval '4 hours',
               %(filed)s + interval '3 hours', false, '', NULL, '', '', ''
        FROM teams_department dep WHERE dep.code IN ('HN-HCB', 'HN-NRB', 'HN-LEB')
        """,
        {"case": case_id, "filed": filed_at, "task": HISTORY_TASK},
    )
    cursor.execute(
        """
        INSERT INTO cases_event (
            case_id, dispatch_id, actor_id, actor_label, action, from_status, to_status,
            from_level, to_level, data, public, created_at, case_filed_at)
        SELECT %(case)s, NULL, %(captain)s, '',
               (ARRAY['handle', 'assign', 'add_dispatch', 'request_postponement'])[1 + s %% 4],
               'in_progress', 'in_progress', 'town', 'town',
               CASE s %% 4
                   WHEN 0 THEN jsonb_build_object('note', 'Visited the site, step ' || s)
                   WHEN 1 THEN jsonb_build_object('assignee', 'officer-hn-xs-cle-1')
                   WHEN 2 THEN jsonb_build_object('handler', 'HN-HCB', 'task', 'Permits')
                   ELSE jsonb_build_object('stage', 'handling', 'amount', 2,
                                           'unit', 'working_days', 'reason', 'Waiting')
               END,
               false,
               least(%(filed)s + interval '3 hours' + s * interval '10 minutes', %(now)s),
               %(filed)s
        FROM generate_series(1, %(events)s) AS s
        """,
        {
            "case": case_id,
            "captain": captain_id,
            "filed": filed_at,
            "now": params["now"],
            "events": HISTORY_EVENTS,
        },
    )
    return case_id


# --- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageSpec:
    key: str
    title: str
    username: str
    path: str
    must_contain: tuple[str, ...]
    # Months (this one and those before) whose facts changed before each request: their
    # counts are not in the cache (the overview of a busy city, or after a full recount).
    changed_months: int = 0
    # The page's tolerance for stored counts of an older state of the facts (None: as
    # configured; 0: as if the worker that keeps them had stopped, so the page counts).
    stale_seconds: float | None = None
    # False: reported beside the target (a degraded mode), not held to it.
    target: bool = True


@dataclass
class PageRun:
    spec: PageSpec
    cases: int
    times_ms: list[float]
    queries: list[int]
    size_kib: float
    slowest: list[tuple[float, str]] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return percentile(self.times_ms, 0.5)

    @property
    def p95(self) -> float:
        return percentile(self.times_ms, 0.95)

    @property
    def max(self) -> float:
        return max(self.times_ms)

    @property
    def query_count(self) -> int:
        """The steady-state count: the working calendar is reloaded at least once a minute
        (cases.calendar), which adds its queries to the one request that happens to do it."""
        return min(self.queries)

    @property
    def query_label(self) -> str:
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low} ({high} with a calendar reload)"


@dataclass
class SizeRun:
    cases: int
    seed_seconds: float
    open_cases: int
    load: str
    pages: list[PageRun]
    reused: bool = False
    database_bytes: int = 0  # the whole database once this size was seeded and measured
    # The worker's keep_overview_counts: (what changed, periods counted, seconds).
    keeps: list[tuple[str, int, float]] = field(default_factory=list)


class StatementTimer:
    """Counts the statements of one request and keeps the slowest with their time."""

    def __init__(self) -> None:
        self.count = 0
        self.timed: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.timed.append(((time.perf_counter() - started) * 1000, sql))

    def slowest(self, n: int = 3) -> list[tuple[float, str]]:
        return sorted(self.timed, key=lambda row: -row[0])[:n]


def touch_months(*, count: int) -> None:
    """New tokens for this month and the `count - 1` before it, as writing their facts does."""
    from django.utils import timezone

    from assessment.services import touch_fact_months

    month = timezone.localdate().replace(day=1)
    months = []
    for _n in range(count):
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    touch_fact_months(months=months)


def tokens_for_every_month() -> None:
    """A token for every month with facts, as the facts' refresh writes (the seed wrote the
    facts with SQL)."""
    from django.db import connection
    from django.utils import timezone

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO assessment_factmonth (month, token, changed_at)
            SELECT m.month, md5(random()::text || m.month::text)::uuid, %(now)s
            FROM (SELECT DISTINCT date_trunc('month', filed_at AT TIME ZONE %(tz)s)::date
                      AS month FROM assessment_casefact
                  UNION
                  SELECT DISTINCT date_trunc('month', dispatched_at AT TIME ZONE %(tz)s)::date
                  FROM assessment_dispatchfact) AS m
            ON CONFLICT (month) DO UPDATE SET token = EXCLUDED.token,
                                              changed_at = EXCLUDED.changed_at
            """,
            {"now": timezone.now(), "tz": timezone.get_current_timezone_name()},
        )


def page_specs(*, history_case: int) -> list[PageSpec]:
    from django.urls import reverse

    return [
        PageSpec(
            "filing",
            "Grid worker: filing page",
            "grid1",
            reverse("cases:file"),
            ('data-testid="whistle-form"',),
        ),
        PageSpec(
            "mine",
            "Grid worker: my cases",
            "grid1",
            reverse("cases:mine"),
            ('data-testid="to-verify"', "HN-"),
        ),
        PageSpec(
            "board_captain",
            "Dispatch board: team captain",
            "captain1",
            reverse("cases:board"),
            ('data-testid="board-table"', 'data-light="red"'),
        ),
        PageSpec(
            "board_liaison",
            "Dispatch board: department liaison",
            "liaison1",
            reverse("cases:board"),
            ('data-testid="board-table"', 'data-light="red"'),
        ),
        PageSpec(
            "detail",
            f"Case detail ({HISTORY_EVENTS}+ events), its handler",
            "captain1",
            reverse("cases:detail", args=[history_case]),
            ('data-testid="timeline"', 'data-action="handle"', 'data-testid="dispatch"'),
        ),
        PageSpec(
            "overview",
            "Supervisor overview (this and last month changed)",
            "supervisor1",
            reverse("assessment:overview"),
            ('data-testid="kpi-tiles"', 'data-testid="count-link"'),
            changed_months=2,
        ),
        PageSpec(
            "overview_unchanged",
            "Supervisor overview (nothing changed)",
            "supervisor1",
            reverse("assessment:overview"),
            ('data-testid="kpi-tiles"', 'data-testid="count-link"'),
        ),
        PageSpec(
            "overview_recount",
            "Supervisor overview (all 13 months changed)",
            "supervisor1",
            reverse("assessment:overview"),
            ('data-testid="kpi-tiles"', 'data-testid="count-link"'),
            changed_months=13,
        ),
        PageSpec(
            "overview_counting",
            "Supervisor overview counted by the page (worker stopped; this and last month changed)",
            "supervisor1",
            reverse("assessment:overview"),
            ('data-testid="kpi-tiles"', 'data-testid="count-link"'),
            changed_months=2,
            stale_seconds=0,
            target=False,
        ),
    ]


def keep_counts(*, changed_months: int) -> tuple[int, float]:
    """Run the worker's periodic recount of the stored overview counts once, after the facts
    of `changed_months` months changed; returns periods counted and seconds taken."""
    from assessment.services import keep_overview_counts

    if changed_months:
        touch_months(count=changed_months)
    started = time.perf_counter()
    counted = keep_overview_counts()
    return counted, time.perf_counter() - started


def pass_second_factor(*, client, user) -> None:
    """A privileged reader gives a recovery code on the code page, as a person would, so that
    its pages are measured as a verified session (teams.two_factor), not as the redirect."""
    from django.urls import reverse
    from django_otp.oath import totp

    from teams.two_factor import selectors, services

    if not selectors.second_factor_required(user=user):
        return
    device = services.start_enrolment(user=user)
    _device, codes = services.confirm_enrolment(user=user, code=f"{totp(device.bin_key):06d}")
    response = client.post(reverse("two_factor_verify"), {"code": codes[0]})
    if response.status_code != 302:
        raise AssertionError(f"{user.username}: the recovery code was refused")


def measure_page(*, spec: PageSpec, cases: int, repeat: int) -> PageRun:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from teams.models import User

    client = Client()
    reader = User.objects.get(username=spec.username)
    client.force_login(reader)
    pass_second_factor(client=client, user=reader)
    times: list[float] = []
    queries: list[int] = []
    slowest: list[tuple[float, str]] = []
    size = 0
    stale_seconds = settings.WHISTLE_COUNTS_STALE_SECONDS
    if spec.stale_seconds is not None:
        stale_seconds = spec.stale_seconds
    elif spec.changed_months:
        # What the worker does every WHISTLE_COUNTS_KEEP_SECONDS while the city works.
        keep_counts(changed_months=spec.changed_months)
    for n in range(WARM_UP + repeat):
        if spec.changed_months:
            touch_months(count=spec.changed_months)
        timer = StatementTimer()
        with (
            override_settings(WHISTLE_COUNTS_STALE_SECONDS=stale_seconds),
            connection.execute_wrapper(timer),
        ):
            started = time.perf_counter()
            response = client.get(spec.path, HTTP_ACCEPT_LANGUAGE="en")
            content = response.content
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise AssertionError(f"{spec.key}: {spec.path} answered {response.status_code}")
        text = content.decode()
        for needle in spec.must_contain:
            if needle not in text:
                raise AssertionError(f"{spec.key}: {needle!r} not on {spec.path}")
        if n < WARM_UP:
            continue
        times.append(elapsed)
        queries.append(timer.count)
        size = len(content)
        if not slowest or elapsed >= max(times):
            slowest = timer.slowest()
    return PageRun(
        spec=spec,
        cases=cases,
        times_ms=times,
        queries=queries,
        size_kib=size / 1024,
        slowest=slowest,
    )


def seeded_history_case(*, cases: int) -> int | None:
    """The long-history case of an earlier seed of exactly `cases` cases, if there is one."""
    from cases.models import Case, Dispatch, Event

    if Case.objects.count() != cases:
        return None
    # Found by the dispatches _long_history added, then its events counted: counting every
    # case's events took minutes over a history of a hundred million.
    candidates = (
        Dispatch.objects.filter(origin="added", task=HISTORY_TASK)
        .order_by("-case_id")
        .values_list("case_id", flat=True)
        .distinct()[:5]
    )
    for case_id in candidates:
        if Event.objects.filter(case_id=case_id).count() > HISTORY_EVENTS:
            return case_id
    return None


def measure(*, cases: int, repeat: int, reuse: bool = False) -> SizeRun:
    from django.core.cache import cache

    from cases.models import OPEN_STATUSES, Case

    started = time.perf_counter()
    history_case = seeded_history_case(cases=cases) if reuse else None
    reused = history_case is not None
    if history_case is None:
        print(f"Seeding {cases:,} cases ...", flush=True)
        history_case = seed(cases=cases)
    else:
        print(f"Reusing the {cases:,} cases already seeded", flush=True)
    tokens_for_every_month()
    cache.clear()  # nothing computed from an earlier seed may answer for this one
    seed_seconds = time.perf_counter() - started
    open_cases = Case.objects.filter(status__in=OPEN_STATUSES).count()
    print(f"  seeded in {seed_seconds:.1f} s ({open_cases:,} open)", flush=True)
    load_before = load_average()
    keeps = []
    for label, changed in (
        ("nothing stored yet (first run)", 0),
        ("nothing changed", 0),
        ("this and last month changed", 2),
        ("all 13 months changed", 13),
    ):
        counted, seconds = keep_counts(changed_months=changed)
        keeps.append((label, counted, seconds))
        print(f"  worker's recount, {label}: {counted} periods in {seconds:.2f} s", flush=True)
    pages = []
    for spec in page_specs(history_case=history_case):
        run = measure_page(spec=spec, cases=cases, repeat=repeat)
        print(
            f"  {spec.title}: p50 {run.p50:.1f} ms, p95 {run.p95:.1f} ms, max {run.max:.1f} ms, "
            f"{run.query_label} queries",
            flush=True,
        )
        pages.append(run)
    return SizeRun(
        cases=cases,
        database_bytes=database_bytes(),
        seed_seconds=seed_seconds,
        open_cases=open_cases,
        load=f"{load_before} / {load_average()}",
        pages=pages,
        reused=reused,
        keeps=keeps,
    )


# --- report ----------------------------------------------------------------------------------


def counts_equal(runs: list[SizeRun]) -> dict[str, bool]:
    """Per page: the same steady-state number of queries at every size."""
    result = {}
    for key in [page.spec.key for page in runs[0].pages]:
        seen = {page.query_count for run in runs for page in run.pages if page.spec.key == key}
        result[key] = len(seen) == 1
    return result


def _section(
    runs: list[SizeRun], info: dict[str, str], command: str, repeat: int, heading: str = SECTION
) -> str:
    from django.utils import timezone

    runs = sorted(runs, key=lambda r: r.cases)
    largest = runs[-1]
    equal = counts_equal(runs)
    sizes = " and ".join(f"{run.cases:,}" for run in runs)
    lines = [
        heading,
        "",
        f"Command: `{command}` on {timezone.localtime():%Y-%m-%d %H:%M %Z}.",
        "",
        machine_line(info)
        + " The load average (1 min) before and after each size's requests shows how much "
        "other work shared the machine.",
        "",
        f"At {sizes} cases of the demo city (4 towns, 16 villages, 48 grids), seeded with "
        "set-based SQL: two years of whistles, the last 30 days' still moving through every "
        "status and level (about 4% of all cases open), the older ones settled (64% closed "
        "at village, 20% at town, 10% at city level, 5% rejected, 1% suspended), each with its "
        "trace (2-8 events), its dispatches (a whistled case goes to its town's comprehensive "
        "team and to a market supervision office), its deadlines (one in ten running clocks "
        "overdue) and its assessment facts. The event log is partitioned by month as a "
        f"deployment keeping {PARTITION_YEARS} years has it (cases.partitions): one partition "
        "a month over those years, the seeded cases in the last two. Each page is requested "
        "in-process with "
        f"`django.test.Client` as the user who opens it, {WARM_UP} times to warm up and "
        f"{repeat} times measured, on PostgreSQL with the Redis cache as served: the server "
        "time is the time to produce the whole response (middleware, session, queries, "
        "templates). Every SQL statement of a request is counted.",
        "",
        f"Target: p95 under {TARGET_MS:.0f} ms for each page at the largest size, and the same "
        "number of queries at every size.",
        "",
        "| page | user | cases | p50 | p95 | max | queries | p95 / target |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for index in range(len(largest.pages)):
        for run in runs:
            page = run.pages[index]
            lines.append(
                f"| {page.spec.title} | {page.spec.username} | {run.cases:,} "
                f"| {page.p50:.1f} ms | {page.p95:.1f} ms | {page.max:.1f} ms "
                f"| {page.query_label} | {page.p95 / TARGET_MS:.2f} |"
            )
    met = all(page.p95 <= TARGET_MS for page in largest.pages if page.spec.target) and all(
        equal.values()
    )
    lines += [
        "",
        "Query counts equal at every size: "
        + ", ".join(f"{key} {'yes' if ok else '**NO**'}" for key, ok in equal.items())
        + f". Target at {largest.cases:,} cases: **{'met' if met else 'MISSED'}**.",
        "",
        "| cases | open | seeding | database | per case | load before / after |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        seeding = (
            "kept from an earlier run (--reuse)" if run.reused else f"{run.seed_seconds:.0f} s"
        )
        lines.append(
            f"| {run.cases:,} | {run.open_cases:,} | {seeding} "
            f"| {run.database_bytes / 2**30:,.1f} GiB "
            f"| {run.database_bytes / run.cases:,.0f} B | {run.load} |"
        )
    over = [page for page in largest.pages if page.p95 > TARGET_MS and page.spec.target]
    if over:
        lines += [
            "",
            f"Over the target at {largest.cases:,} cases: "
            + "; ".join(
                f"{page.spec.title} {page.p95:.0f} ms ({page.p95 / TARGET_MS:.1f}x)"
                for page in over
            )
            + ".",
        ]
    lines += [
        "",
        "The overview reads counts the worker stores (`assessment.models.PeriodCounts`): "
        "every WHISTLE_COUNTS_KEEP_SECONDS (30 s) the beat's `keep_overview_counts` recounts, "
        "for every city and town, the month and quarter periods of the default overview whose "
        "facts changed, known by a token per month (`assessment.models.FactMonth`) that every "
        "write of that month's facts renews. A page serves stored counts that are current, or "
        "whose facts changed less than WHISTLE_COUNTS_STALE_SECONDS (120 s) after they were "
        "counted; otherwise it counts itself and keeps the result in the cache while the "
        "month's facts do not change. The overview rows are the same page when nothing "
        "changed, in a busy city where this month's and last month's facts changed since the "
        "worker's last count (the usual case while people work; the target applies to it), "
        "after all thirteen months changed, and with the worker stopped so that the page "
        "counts the two changed months itself.",
        "",
        "The worker's recount at the largest size (`keep_overview_counts`, in-process):",
        "",
        "| what changed since the last recount | periods counted | time |",
        "|---|---:|---:|",
        *[
            f"| {label} | {counted} | {seconds:.2f} s |"
            for label, counted, seconds in largest.keeps
        ],
        "",
        "What these figures needed (the first runs at 2,000,000 cases): the board read the "
        "clock of each of its dispatches once per expression that used it (about 5 s for a "
        "team's 13,000 open dispatches), then once per dispatch with LATERAL joins (about "
        "200 ms, and as much again to check each dispatch's case was open); now each dispatch "
        "keeps a copy of whether it is on the boards and of its current clock's times "
        "(`cases.timers.sync_dispatch_board`, written by every service that changes a case's "
        "status, clocks or dispatches), so the board counts its lights from a partial index "
        "alone (about 7 ms) and reads its first page in index order; every "
        "`visible_cases()` query tested all 2,000,000 cases "
        "against the per-case grants (guardian's queryset, ~0.7 s; now read from the "
        "permission rows); the red-and-overdue list joined every open case (1-3 s; now from "
        "an index of running deadlines past due); the overview counted each of its fifteen "
        "periods with four queries (70 queries, ~8 s; now grouped and cached per month).",
    ]
    lines += ["", f"The slowest statements of the slowest request at {largest.cases:,} cases:", ""]
    for page in largest.pages:
        parts = ", ".join(f"{ms:.1f} ms" for ms, _sql in page.slowest)
        lines.append(f"- {page.spec.title}: {parts}")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[20_000, 2_000_000],
        help="case counts to measure (default: 20000 2000000)",
    )
    parser.add_argument("--repeat", type=int, default=30, help="measured requests per page")
    parser.add_argument("--show-sql", action="store_true", help="print the slowest statements")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the cases of an earlier run of the same size instead of seeding again",
    )
    parser.add_argument(
        "--history",
        action="store_true",
        help="a megacity's history: write the section \"Pages over a megacity's history\" "
        'and its summary row, not "Pages" (scripts/bench.sh history)',
    )
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    _prepare_environment()
    set_up(force=args.force)
    # The largest first, so that --reuse keeps its seed (a smaller size seeds over it).
    runs = [
        measure(cases=n, repeat=args.repeat, reuse=args.reuse)
        for n in sorted(args.sizes, reverse=True)
    ]
    info = machine()
    command = "python -m bench.pages" + (f" {' '.join(argv)}" if argv else "")
    if argv is None and len(sys.argv) > 1:
        command = "python -m bench.pages " + " ".join(sys.argv[1:])
    heading = HISTORY_SECTION if args.history else SECTION
    text = _section(runs, info, command, args.repeat, heading)
    print()
    print(text)
    if args.show_sql:
        for page in runs[-1].pages:
            print(f"--- {page.spec.title}")
            for ms, sql in page.slowest:
                print(f"{ms:.1f} ms: {sql[:2000]}\n")
    largest = max(runs, key=lambda r: r.cases)
    equal = counts_equal(runs)
    met = all(page.p95 <= TARGET_MS for page in largest.pages if page.spec.target) and all(
        equal.values()
    )
    if not args.no_write:
        write_section(heading, text)
        print(f"Written to {DOC.relative_to(BASE_DIR)}")
        record_results(
            "pages_history" if args.history else "pages",
            {
                "cases": largest.cases,
                "smallest": min(run.cases for run in runs),
                "database_bytes": largest.database_bytes,
                "seed_seconds": None if largest.reused else round(largest.seed_seconds),
                "target_ms": TARGET_MS,
                "pages": {
                    page.spec.key: {
                        "title": page.spec.title,
                        "p95_ms": round(page.p95, 1),
                        "queries": page.query_count,
                        "queries_equal": equal[page.spec.key],
                        "target": page.spec.target,
                    }
                    for page in largest.pages
                },
                "queries_equal": all(equal.values()),
                "target_met": met,
            },
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
