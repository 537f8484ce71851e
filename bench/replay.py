"""Policy-lab benchmark (issue 21): a replay of one year of a county, about 300,000 cases, under
three scenarios, on PostgreSQL, with its wall time and peak memory (target: under 2 minutes).

    python -m bench.replay                          # seed 300,000 cases of 2025, replay 3 times
    python -m bench.replay --cases 30000 --no-write # smaller, print only
    python -m bench.replay --reuse                  # keep the cases of an earlier run

Against PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/whistle_bench_replay;
created and migrated when missing; its case tables are emptied, so its name must contain
"bench" unless --force). Besides the demo city it builds a county ("BX": 20 towns, 20 villages
each, two grids per village, a comprehensive team and a market supervision office per town, a
city bureau) and seeds, with set-based SQL, `--cases` cases filed over the year 2025 down the
paths a county sees (rejected, solved in the village, whistled to the town, postponed,
suspended and resumed, still suspended, consulted and escalated to the city), each with its
events, its dispatches (the town's team and a market supervision office), its clocks (one per
stage, with the amount, unit and yellow light of the item's TimeLimit row; due and yellow
times counted on the calendar in force exactly as cases.timers does, in working or natural
time; one clock in ten fired, the others met before their due time) and its assessment facts
(CaseFact, DispatchFact) as assessment.facts derives them from those clocks.

Then it replays the county's year in this process, as the Celery task does
(policylab.services.run_replay: the replay chunk by chunk, then the indicators and rankings of
the live and the replayed facts), under (a) the rules in force, (b) every limit of one stage
doubled (--stage, default village handling), (c) two more holidays and the report-in limits
halved. For each: wall time, the time of the summary (indicators + rankings) alone, the peak
resident memory of the process during that replay (VmHWM, reset before each) and the rows
written. The figures replace the section "The policy lab's replay (issue 21)" of
docs/benchmarks.md and go to var/bench/results.json under "replay". The last line printed is
the summary (`REPLAY ...`).
"""

import argparse
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.common import (
    BASE_DIR,
    DOC,
    add_common_arguments,
    bulk_load,
    load_average,
    machine,
    machine_line,
    record_results,
    set_up,
    write_section,
)

SECTION = "## The policy lab's replay (issue 21)"
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/whistle_bench_replay"
REDIS_URL = "redis://127.0.0.1:6379/14"
TARGET_SECONDS = 120.0
YEAR = 2025
COUNTY = "BX"
TOWNS = 20
VILLAGES_PER_TOWN = 20
GRIDS_PER_VILLAGE = 2
# Two working days the calendar change of scenario (c) makes holidays.
EXTRA_HOLIDAYS = (date(YEAR, 3, 14), date(YEAR, 11, 14))
# The paths by h = (id * 37) % 100: (from, to, path).
MIX = [
    (0, 3, "reject"),
    (4, 63, "village"),
    (64, 85, "town"),
    (86, 87, "postpone"),
    (88, 96, "city"),
    (97, 98, "resumed"),
    (99, 99, "parked"),
]
WHISTLED = ("town", "postpone", "city", "resumed", "parked")
# One clock in ten passes its due time (its timer fires; the stage ends later).
LATE_PER_MILLE = 100
OFFICE_DAY = 27_000  # 08:30-12:00 and 13:30-17:30


def _prepare_environment() -> None:
    os.environ.setdefault("DATABASE_URL", DATABASE_URL)
    os.environ.setdefault("REDIS_URL", REDIS_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    os.environ.setdefault("WHISTLE_VAR_DIR", str(BASE_DIR / "var" / "bench"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")


# --- the county ------------------------------------------------------------------------------


def build_county():
    """The county's places, teams, departments and a few people (idempotent); returns the
    county and its city committee member (who requests the replays)."""
    from django.db import transaction

    from teams.models import Department, DepartmentKind, Grid, Membership, Region, Role, Team, User

    with transaction.atomic():
        county, _ = Region.objects.get_or_create(
            code=COUNTY,
            defaults={"level": Region.Level.CITY, "name_zh": "基准县", "name_en": "Bench County"},
        )
        kind = DepartmentKind.objects.get(code="market_supervision")
        Department.objects.get_or_create(
            code=f"{COUNTY}-MSB",
            defaults={
                "kind": kind,
                "region": county,
                "name_zh": "基准县市场监督管理局",
                "name_en": "Bench County Market Supervision Bureau",
            },
        )
        for t in range(1, TOWNS + 1):
            town, _ = Region.objects.get_or_create(
                code=f"{COUNTY}-T{t:02d}",
                defaults={
                    "level": Region.Level.TOWN,
                    "parent": county,
                    "name_zh": f"基准{t}镇",
                    "name_en": f"Bench Town {t}",
                },
            )
            Team.objects.get_or_create(
                code=f"{town.code}-CLE",
                defaults={
                    "region": town,
                    "kind": Team.Kind.COMPREHENSIVE,
                    "name_zh": f"基准{t}镇综合执法队",
                    "name_en": f"Bench Town {t} comprehensive team",
                },
            )
            Department.objects.get_or_create(
                code=f"{town.code}-MSO",
                defaults={
                    "kind": kind,
                    "region": town,
                    "name_zh": f"基准{t}镇市场监管所",
                    "name_en": f"Bench Town {t} market supervision office",
                },
            )
            for v in range(1, VILLAGES_PER_TOWN + 1):
                village, created = Region.objects.get_or_create(
                    code=f"{town.code}-V{v:02d}",
                    defaults={
                        "level": Region.Level.VILLAGE,
                        "parent": town,
                        "name_zh": f"基准{t}镇{v}村",
                        "name_en": f"Bench Town {t} Village {v}",
                    },
                )
                if not created:
                    continue
                lng, lat = 121.0 + t * 0.03 + v * 0.001, 30.0 + v * 0.001
                Grid.objects.bulk_create(
                    Grid(
                        code=f"{village.code}-{g}",
                        village=village,
                        name_zh=f"{village.name_zh}{g}网格",
                        name_en=f"{village.name_en} grid {g}",
                        polygon={
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [lng, lat + g * 0.0005],
                                    [lng + 0.0009, lat + g * 0.0005],
                                    [lng + 0.0009, lat + (g + 1) * 0.0005],
                                    [lng, lat + (g + 1) * 0.0005],
                                    [lng, lat + g * 0.0005],
                                ]
                            ],
                        },
                        min_lng=lng,
                        max_lng=lng + 0.0009,
                        min_lat=lat + g * 0.0005,
                        max_lat=lat + (g + 1) * 0.0005,
                    )
                    for g in range(1, GRIDS_PER_VILLAGE + 1)
                )
        people = {}
        for username, role, region in (
            ("bx-city", Role.CITY_COMMITTEE, county),
            ("bx-worker", Role.GRID_WORKER, None),
            ("bx-officer", Role.VILLAGE_OFFICER, None),
            ("bx-captain", Role.TEAM_CAPTAIN, None),
        ):
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_unusable_password()
                user.save()
            if region is not None:
                Membership.objects.get_or_create(user=user, role=role, region=region)
            people[username] = user
    return county, people


# --- seeding ---------------------------------------------------------------------------------


def _workdays(cursor) -> None:
    """The calendar in force as a table: each day from a month before the year to a year after
    it, whether it is a working day and `idx`, the ordinal of the first working day on or
    after it; with pg_temp.bx_pos (a moment's position in office seconds) and pg_temp.bx_at
    (its inverse) a working-time due date is `bx_at(bx_pos(start) + seconds)`, the same as
    cases.calendar.add_seconds."""
    from cases import calendar

    periods = calendar._current().periods
    us = 1_000_000
    if periods != ((30_600 * us, 43_200 * us), (48_600 * us, 63_000 * us)):
        sys.exit("bench.replay counts working time with office hours 08:30-12:00, 13:30-17:30.")
    day, last = date(YEAR - 1, 12, 1), date(YEAR + 2, 3, 1)
    days = []
    while day < last:
        days.append((day, calendar.is_working_day(day)))
        day += timedelta(days=1)
    # The ordinal of the first working day on or after each day.
    ordinal, own = 0, {}
    for day, working in days:
        if working:
            ordinal += 1
            own[day] = ordinal
    upcoming, index = ordinal + 1, {}
    for day, working in reversed(days):
        if working:
            upcoming = own[day]
        index[day] = upcoming
    rows = [(day, working, index[day]) for day, working in days]
    cursor.execute(
        "CREATE TEMP TABLE bx_workday (day date PRIMARY KEY, working bool, idx int) ON COMMIT DROP"
    )
    cursor.executemany("INSERT INTO bx_workday VALUES (%s, %s, %s)", rows)
    cursor.execute("CREATE UNIQUE INDEX ON bx_workday (idx) WHERE working")
    cursor.execute("ANALYZE bx_workday")
    tz = _tz()
    cursor.execute(
        f"""
        CREATE FUNCTION pg_temp.bx_pos(ts timestamptz) RETURNS bigint LANGUAGE sql STABLE AS $$
          SELECT w.idx::bigint * {OFFICE_DAY} + CASE WHEN NOT w.working THEN 0
                 WHEN t < time '08:30' THEN 0
                 WHEN t < time '12:00' THEN extract(epoch FROM t - time '08:30')::bigint
                 WHEN t < time '13:30' THEN 12600
                 WHEN t < time '17:30' THEN 12600 + extract(epoch FROM t - time '13:30')::bigint
                 ELSE {OFFICE_DAY} END
          FROM (SELECT (ts AT TIME ZONE '{tz}') AS l) x
          CROSS JOIN LATERAL (SELECT x.l::time AS t) y
          JOIN bx_workday w ON w.day = x.l::date
        $$
        """  # noqa: S608 - our own constants
    )
    cursor.execute(
        f"""
        CREATE FUNCTION pg_temp.bx_at(pos bigint) RETURNS timestamptz LANGUAGE sql STABLE AS $$
          SELECT (w.day + CASE WHEN b.r <= 12600 THEN time '08:30' + b.r * interval '1 second'
                               ELSE time '13:30' + (b.r - 12600) * interval '1 second' END)
                 AT TIME ZONE '{tz}'
          FROM (SELECT (pos + {OFFICE_DAY - 1}) / {OFFICE_DAY} - 1 AS k) a
          CROSS JOIN LATERAL (SELECT pos - a.k * {OFFICE_DAY} AS r) b
          JOIN bx_workday w ON w.working AND w.idx = a.k
        $$
        """  # noqa: S608 - our own constants
    )
    cursor.execute(
        """
        CREATE FUNCTION pg_temp.bx_seconds(amount int, unit text) RETURNS bigint
        LANGUAGE sql IMMUTABLE AS $$
          SELECT amount::bigint * CASE unit WHEN 'natural_minutes' THEN 60
                 WHEN 'natural_hours' THEN 3600 WHEN 'natural_days' THEN 86400
                 WHEN 'working_hours' THEN 3600 ELSE 27000 END
        $$
        """
    )
    cursor.execute(
        """
        CREATE FUNCTION pg_temp.bx_add(ts timestamptz, secs bigint, working bool)
        RETURNS timestamptz LANGUAGE sql STABLE AS $$
          SELECT CASE WHEN secs = 0 THEN ts
                      WHEN working THEN pg_temp.bx_at(pg_temp.bx_pos(ts) + secs)
                      ELSE ts + secs * interval '1 second' END
        $$
        """
    )


def _tz() -> str:
    from django.conf import settings

    return settings.TIME_ZONE


def _reference_tables(cursor, county_id: int) -> None:
    cursor.execute(
        """
        CREATE TEMP TABLE bx_grid ON COMMIT DROP AS
        SELECT (row_number() OVER (ORDER BY g.id)) - 1 AS n, g.id AS grid_id,
               g.village_id, v.parent_id AS town_id, t.parent_id AS city_id,
               cle.id AS team_id, cle.code AS team_code, mso.id AS office_id,
               mso.code AS office_code
        FROM teams_grid g
        JOIN teams_region v ON v.id = g.village_id
        JOIN teams_region t ON t.id = v.parent_id
        JOIN teams_team cle ON cle.code = t.code || '-CLE'
        JOIN teams_department mso ON mso.code = t.code || '-MSO'
        WHERE t.parent_id = %s
        """,
        [county_id],
    )
    cursor.execute(
        """
        CREATE TEMP TABLE bx_item ON COMMIT DROP AS
        SELECT (row_number() OVER (ORDER BY i.id)) - 1 AS n, i.id AS item_id
        FROM checklists_item i WHERE i.active AND i.whistleable AND i.code <> 'DEMO-01'
        """
    )
    cursor.execute(
        "CREATE TEMP TABLE bx_limit ON COMMIT DROP AS SELECT item_id, stage, amount, unit, "
        "yellow_at_percent AS yellow FROM checklists_timelimit"
    )
    cursor.execute("CREATE UNIQUE INDEX ON bx_limit (item_id, stage)")
    cursor.execute("CREATE TEMP TABLE bx_mix (lo int, hi int, path text) ON COMMIT DROP")
    cursor.executemany("INSERT INTO bx_mix VALUES (%s, %s, %s)", MIX)


# Clocks, in the order their starts are known: (slot, slot number, stage, paths, start).
# `start` is SQL over the case (bc) and the clocks already made (their end_at).
CLOCKS = [
    ("screening", 1, "screening", None, "bc.filed_at"),
    ("vh", 2, "village_handling", ("village",), "scr.end_at"),
    ("rin_t", 3, "report_in", WHISTLED, "scr.end_at"),
    ("rin_d", 4, "report_in", WHISTLED, "scr.end_at"),
    ("handling", 5, "handling", WHISTLED, "scr.end_at"),
    ("town_c", 6, "town_consultation", ("city",), "prev.end_at"),
    ("city_c", 7, "city_consultation", ("city",), "prev.end_at"),
    ("verif", 8, "verification", ("village", "town", "postpone", "city", "resumed"), "prev.end_at"),
]
# The clock whose end starts the next one (per path), for "prev" above.
PREVIOUS = {
    "town_c": {"city": "handling"},
    "city_c": {"city": "town_c"},
    "verif": {
        "village": "vh",
        "town": "handling",
        "postpone": "handling",
        "resumed": "handling",
        "city": "city_c",
    },
}


def _seed_clocks(cursor) -> None:
    """Every clock of every case: its start (the end of the stage before), due and yellow times
    from the item's limit, then its end: met within the limit, or (one in ten) its timer fired
    at the due time and the stage ended later. A postponement adds a working day to the
    handling clock; a suspension that was resumed adds the week it stood still."""
    cursor.execute(
        """
        CREATE TEMP TABLE bx_clock (
            case_id bigint, slot text, slot_no int, stage text, amount int, unit text,
            yellow int, started_at timestamptz, due_at timestamptz, warn_at timestamptz,
            end_at timestamptz, late bool, postponed bool DEFAULT false,
            paused_at timestamptz, remaining_seconds int, dispatch_id bigint
        ) ON COMMIT DROP
        """
    )
    for slot, number, stage, paths, start in CLOCKS:
        joins, where = "", ""
        if start.startswith("scr."):
            joins = "JOIN bx_clock scr ON scr.case_id = bc.id AND scr.slot = 'screening'"
        elif start.startswith("prev."):
            joins = (
                "JOIN bx_clock prev ON prev.case_id = bc.id AND prev.slot = "
                "CASE bc.path "
                + " ".join(
                    f"WHEN '{path}' THEN '{before}'" for path, before in PREVIOUS[slot].items()
                )
                + " END"
            )
        if paths:
            where = "WHERE bc.path IN (" + ", ".join(f"'{p}'" for p in paths) + ")"
        cursor.execute(
            f"""
            INSERT INTO bx_clock (case_id, slot, slot_no, stage, amount, unit, yellow,
                                  started_at, due_at, warn_at)
            SELECT bc.id, '{slot}', {number}, '{stage}', l.amount, l.unit, l.yellow, x.start,
                   pg_temp.bx_add(x.start, pg_temp.bx_seconds(l.amount, l.unit), x.working),
                   pg_temp.bx_add(x.start, pg_temp.bx_seconds(l.amount, l.unit) * l.yellow / 100,
                                  x.working)
            FROM bx_case bc
            {joins}
            JOIN bx_limit l ON l.item_id = bc.item_id AND l.stage = '{stage}'
            CROSS JOIN LATERAL (SELECT {start} AS start,
                                       l.unit IN ('working_hours', 'working_days') AS working) x
            {where}
            """  # noqa: S608 - our own constants
        )
        if slot == "handling":
            cursor.execute(
                """
                UPDATE bx_clock c SET due_at = pg_temp.bx_add(c.due_at, 27000, true),
                                      postponed = true
                FROM bx_case bc
                WHERE c.case_id = bc.id AND c.slot = 'handling' AND bc.path = 'postpone'
                """
            )
            cursor.execute(
                """
                UPDATE bx_clock c SET due_at = c.due_at + interval '7 days'
                FROM bx_case bc
                WHERE c.case_id = bc.id AND c.slot = 'handling' AND bc.path = 'resumed'
                """
            )
        # Its end: met within the limit, or late by up to 1.25 limits.
        cursor.execute(
            f"""
            UPDATE bx_clock c SET
                late = x.late,
                end_at = date_trunc('second', CASE WHEN x.late
                    THEN c.due_at + (0.05 + 1.2 * x.f) * (c.due_at - c.started_at)
                    ELSE c.started_at + (0.1 + 0.85 * x.f) * (c.due_at - c.started_at) END)
            FROM (SELECT case_id, (case_id * 7919 + {number} * 104729) % 1000 < {LATE_PER_MILLE}
                         AS late,
                         ((case_id * 31 + {number} * 17) % 100) / 100.0 AS f
                  FROM bx_clock WHERE slot = '{slot}') x
            WHERE c.slot = '{slot}' AND x.case_id = c.case_id
            """  # noqa: S608
        )
    # The case still suspended: its handling clock stopped a third of the way, never ended.
    cursor.execute(
        """
        UPDATE bx_clock c SET
            paused_at = date_trunc('second', c.started_at + (c.due_at - c.started_at) / 3),
            late = false, end_at = NULL
        FROM bx_case bc
        WHERE c.case_id = bc.id AND c.slot = 'handling' AND bc.path = 'parked'
        """
    )
    cursor.execute(
        """
        UPDATE bx_clock c SET remaining_seconds = CASE
            WHEN c.unit IN ('working_hours', 'working_days')
            THEN pg_temp.bx_pos(c.due_at) - pg_temp.bx_pos(c.paused_at)
            ELSE extract(epoch FROM c.due_at - c.paused_at)::int END
        WHERE c.paused_at IS NOT NULL
        """
    )
    cursor.execute("CREATE INDEX ON bx_clock (case_id, slot)")
    cursor.execute("ANALYZE bx_clock")


class StatementClock:
    """Prints each statement of the seed that takes more than a second (--verbose)."""

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            if took >= 1:
                print(f"    {took:6.1f} s  {' '.join(sql.split())[:110]}", flush=True)


def seed(*, county_id: int, cases: int, people: dict, verbose: bool = False) -> None:
    """Empty the case tables and seed `cases` cases of the county over the year."""
    from contextlib import nullcontext

    from django.db import connection

    tz = _tz()
    clock = connection.execute_wrapper(StatementClock()) if verbose else nullcontext()
    with (
        clock,
        bulk_load(
            also_empty=("policylab_replaycasefact", "policylab_replaydispatchfact"),
            skip_foreign_key_checks=True,
            months=(
                datetime(YEAR, 1, 1, tzinfo=UTC) - timedelta(days=1),
                datetime(YEAR, 12, 31, tzinfo=UTC) + timedelta(days=1),
            ),
        ) as cursor,
    ):
        _workdays(cursor)
        _reference_tables(cursor, county_id)
        cursor.execute("SELECT count(*) FROM bx_grid")
        (grids,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM bx_item")
        (items,) = cursor.fetchone()
        params = {
            "n": cases,
            "grids": grids,
            "items": items,
            "year": f"{YEAR}-01-01",
            "tz": tz,
            "worker": people["bx-worker"].pk,
            "officer": people["bx-officer"].pk,
            "captain": people["bx-captain"].pk,
            "committee": people["bx-city"].pk,
        }
        # The cases: spread over the year's days, filed between 07:00 and 21:00.
        cursor.execute(
            """
            CREATE TEMP TABLE bx_case ON COMMIT DROP AS
            SELECT s AS id, bg.*, bi.item_id, m.path,
                   (((%(year)s::date + (((s - 1)::bigint * 365) / %(n)s)::int)::timestamp
                     + interval '7 hours' + ((s * 7919) %% 50400) * interval '1 second')
                    AT TIME ZONE %(tz)s) AS filed_at
            FROM generate_series(1::bigint, %(n)s::bigint) AS s
            JOIN bx_grid bg ON bg.n = s %% %(grids)s
            JOIN bx_item bi ON bi.n = (s / %(grids)s) %% %(items)s
            JOIN bx_mix m ON (s * 37) %% 100 BETWEEN m.lo AND m.hi
            """,
            params,
        )
        cursor.execute("CREATE UNIQUE INDEX ON bx_case (id)")
        cursor.execute("ANALYZE bx_case")
        _seed_clocks(cursor)
        _seed_moments(cursor)
        _seed_cases(cursor, params)
        _seed_dispatches(cursor, params)
        _seed_deadlines(cursor)
        _seed_events(cursor, params)
        _seed_facts(cursor)
        for table in ("cases_case", "cases_event", "cases_dispatch", "cases_deadline"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )


def _seed_moments(cursor) -> None:
    """Each case's steps in time, from its clocks."""
    cursor.execute(
        """
        CREATE TEMP TABLE bx_moment ON COMMIT DROP AS
        SELECT bc.id, bc.path,
               scr.end_at AS screened_at,
               CASE bc.path WHEN 'village' THEN vh.end_at WHEN 'city' THEN cc.end_at
                            WHEN 'reject' THEN NULL WHEN 'parked' THEN NULL
                            ELSE h.end_at END AS resolved_at,
               v.end_at AS closed_at,
               h.started_at AS handling_from, h.end_at AS handling_end,
               h.paused_at AS paused_at, tc.end_at AS escalated_at,
               rt.end_at AS team_reported_at, rd.end_at AS dept_reported_at
        FROM bx_case bc
        JOIN bx_clock scr ON scr.case_id = bc.id AND scr.slot = 'screening'
        LEFT JOIN bx_clock vh ON vh.case_id = bc.id AND vh.slot = 'vh'
        LEFT JOIN bx_clock h ON h.case_id = bc.id AND h.slot = 'handling'
        LEFT JOIN bx_clock tc ON tc.case_id = bc.id AND tc.slot = 'town_c'
        LEFT JOIN bx_clock cc ON cc.case_id = bc.id AND cc.slot = 'city_c'
        LEFT JOIN bx_clock v ON v.case_id = bc.id AND v.slot = 'verif'
        LEFT JOIN bx_clock rt ON rt.case_id = bc.id AND rt.slot = 'rin_t'
        LEFT JOIN bx_clock rd ON rd.case_id = bc.id AND rd.slot = 'rin_d'
        """
    )
    cursor.execute("CREATE UNIQUE INDEX ON bx_moment (id)")


def _seed_cases(cursor, params: dict) -> None:
    cursor.execute(
        """
        INSERT INTO cases_case (
            id, number, tracking_code, source, address, description, contact_name,
            contact_phone, contact_email, status, level, status_before_suspension,
            priority, rework_count, version, rejection_reason, redirect, resolution_note,
            legal_instrument_number, satisfaction, resolved_level, filed_at, updated_at,
            resolved_at, closed_at, latitude, longitude, reporter_id,
            city_id, grid_id, item_id, town_id, village_id, suspension_requested,
            rejection_code, public)
        SELECT bc.id, 'BX-' || lpad(bc.id::text, 9, '0'), 'BX' || lpad(bc.id::text, 14, '0'),
               'grid_worker', 'No. ' || (bc.id %% 300) || ' County Road',
               'Replay benchmark whistle ' || bc.id, '', '', '',
               CASE bc.path WHEN 'reject' THEN 'rejected' WHEN 'parked' THEN 'suspended'
                            ELSE 'closed' END,
               CASE bc.path WHEN 'reject' THEN 'village' WHEN 'village' THEN 'village'
                            WHEN 'city' THEN 'city' ELSE 'town' END,
               CASE WHEN bc.path = 'parked' THEN 'in_progress' ELSE '' END,
               'normal', 0, 6,
               CASE WHEN bc.path = 'reject' THEN 'Not for whistling' ELSE '' END, '', '', '',
               CASE WHEN bc.path IN ('reject', 'parked') THEN ''
                    ELSE (ARRAY['satisfied', 'satisfied', 'basically_satisfied', 'unsatisfied',
                                'satisfied'])[1 + bc.id %% 5] END,
               CASE bc.path WHEN 'reject' THEN '' WHEN 'parked' THEN ''
                            WHEN 'village' THEN 'village' WHEN 'city' THEN 'city'
                            ELSE 'town' END,
               bc.filed_at, coalesce(mo.closed_at, mo.screened_at),
               mo.resolved_at, mo.closed_at,
               30.0 + 0.0001 * (bc.id %% 97), 121.0 + 0.0001 * (bc.id %% 89),
               %(worker)s, bc.city_id, bc.grid_id, bc.item_id, bc.town_id, bc.village_id,
               false, CASE WHEN bc.path = 'reject' THEN 'not_on_list' ELSE '' END, false
        FROM bx_case bc JOIN bx_moment mo ON mo.id = bc.id
        ORDER BY bc.id
        """,
        params,
    )


def _seed_dispatches(cursor, params: dict) -> None:
    """A whistled case goes to its town's comprehensive team and to a market supervision
    office (the county bureau for even ids, the town's own office for odd ones)."""
    cursor.execute(
        """
        INSERT INTO cases_dispatch (
            case_id, team_id, department_id, origin, task, state, dispatched_at,
            report_in_due, reported_in_at, late, handling_note, handled_at, resolved_at, due_at,
            return_reason, return_note, return_ruling)
        SELECT bc.id, h.team_id, h.department_id, 'whistle', '',
               CASE WHEN bc.path = 'parked' THEN 'reported' ELSE 'resolved' END,
               c.started_at, c.due_at, c.end_at, c.late, '', NULL,
               CASE WHEN bc.path = 'parked' THEN NULL ELSE mo.resolved_at END, NULL, '', '', ''
        FROM bx_case bc
        JOIN bx_moment mo ON mo.id = bc.id
        CROSS JOIN LATERAL (VALUES ('rin_t', bc.team_id, NULL::bigint),
            ('rin_d', NULL::bigint, CASE WHEN bc.id %% 2 = 0
                 THEN (SELECT id FROM teams_department WHERE code = 'BX-MSB')
                 ELSE bc.office_id END)) AS h(slot, team_id, department_id)
        JOIN bx_clock c ON c.case_id = bc.id AND c.slot = h.slot
        ORDER BY bc.id, h.slot DESC
        """,
        params,
    )
    cursor.execute(
        """
        UPDATE bx_clock c SET dispatch_id = d.id
        FROM cases_dispatch d
        WHERE d.case_id = c.case_id AND c.slot IN ('rin_t', 'rin_d')
          AND (d.team_id IS NOT NULL) = (c.slot = 'rin_t')
        """
    )


def _seed_deadlines(cursor) -> None:
    cursor.execute(
        """
        INSERT INTO cases_deadline (
            stage, amount, unit, yellow_at_percent, started_at, warn_at, due_at, warned_at,
            met_at, fired_at, paused_at, remaining_seconds, postponed, case_id, dispatch_id,
            case_filed_at)
        SELECT c.stage, c.amount, c.unit, c.yellow, c.started_at, c.warn_at, c.due_at,
               CASE WHEN c.late OR c.end_at > c.warn_at
                         OR (c.paused_at IS NOT NULL AND c.paused_at > c.warn_at)
                    THEN c.warn_at + interval '10 seconds' END,
               CASE WHEN NOT c.late THEN c.end_at END,
               CASE WHEN c.late THEN c.due_at + interval '20 seconds' END,
               c.paused_at, c.remaining_seconds, c.postponed, c.case_id, c.dispatch_id,
               k.filed_at
        FROM bx_clock c JOIN cases_case k ON k.id = c.case_id
        ORDER BY c.case_id, c.slot_no
        """
    )


# Events per path: (action, from status, to status, from level, to level, moment SQL, actor,
# dispatch slot or None, public). Moments are columns of bx_moment (mo) / bx_case (bc).
_FILE = ("file", "", "filed", "", "village", "bc.filed_at", "worker", None, True)
_VERIFY = (
    "verify_pass",
    "resolved",
    "closed",
    "{lvl}",
    "{lvl}",
    "mo.closed_at",
    "worker",
    None,
    True,
)
_EVALUATE = (
    "evaluate",
    "closed",
    "closed",
    "{lvl}",
    "{lvl}",
    "mo.closed_at + interval '1 day'",
    "worker",
    None,
    False,
)
_WHISTLE = (
    "whistle",
    "filed",
    "dispatched",
    "village",
    "town",
    "mo.screened_at",
    "officer",
    None,
    True,
)
_REPORT = [
    (
        "report_in",
        "dispatched",
        "in_progress",
        "town",
        "town",
        "mo.team_reported_at",
        "captain",
        "t",
        False,
    ),
    (
        "report_in",
        "in_progress",
        "in_progress",
        "town",
        "town",
        "mo.dept_reported_at",
        "captain",
        "d",
        False,
    ),
]
_RESOLVE_TOWN = (
    "resolve",
    "in_progress",
    "resolved",
    "town",
    "town",
    "mo.resolved_at",
    "captain",
    None,
    True,
)
EVENTS = {
    "reject": [
        _FILE,
        (
            "reject",
            "filed",
            "rejected",
            "village",
            "village",
            "mo.screened_at",
            "officer",
            None,
            True,
        ),
    ],
    "village": [
        _FILE,
        (
            "accept",
            "filed",
            "village_handling",
            "village",
            "village",
            "mo.screened_at",
            "officer",
            None,
            True,
        ),
        (
            "resolve_on_spot",
            "village_handling",
            "resolved",
            "village",
            "village",
            "mo.resolved_at",
            "officer",
            None,
            True,
        ),
        _VERIFY,
        _EVALUATE,
    ],
    "town": [_FILE, _WHISTLE, *_REPORT, _RESOLVE_TOWN, _VERIFY, _EVALUATE],
    "postpone": [
        _FILE,
        _WHISTLE,
        *_REPORT,
        (
            "request_postponement",
            "in_progress",
            "in_progress",
            "town",
            "town",
            "mo.handling_from + interval '1 hour'",
            "captain",
            None,
            False,
        ),
        (
            "decide_postponement",
            "in_progress",
            "in_progress",
            "town",
            "town",
            "mo.handling_from + interval '2 hours'",
            "committee",
            None,
            False,
        ),
        _RESOLVE_TOWN,
        _VERIFY,
        _EVALUATE,
    ],
    "resumed": [
        _FILE,
        _WHISTLE,
        *_REPORT,
        (
            "suspend",
            "in_progress",
            "suspended",
            "town",
            "town",
            "mo.handling_from + interval '1 hour'",
            "committee",
            None,
            True,
        ),
        (
            "resume",
            "suspended",
            "in_progress",
            "town",
            "town",
            "mo.handling_from + interval '7 days 1 hour'",
            "committee",
            None,
            True,
        ),
        _RESOLVE_TOWN,
        _VERIFY,
        _EVALUATE,
    ],
    "parked": [
        _FILE,
        _WHISTLE,
        *_REPORT,
        (
            "suspend",
            "in_progress",
            "suspended",
            "town",
            "town",
            "mo.paused_at",
            "committee",
            None,
            True,
        ),
    ],
    "city": [
        _FILE,
        _WHISTLE,
        *_REPORT,
        (
            "request_consultation",
            "in_progress",
            "in_consultation",
            "town",
            "town",
            "mo.handling_end",
            "captain",
            None,
            False,
        ),
        (
            "escalate",
            "in_consultation",
            "in_consultation",
            "town",
            "city",
            "mo.escalated_at",
            "committee",
            None,
            True,
        ),
        (
            "resolve",
            "in_consultation",
            "resolved",
            "city",
            "city",
            "mo.resolved_at",
            "committee",
            None,
            True,
        ),
        _VERIFY,
        _EVALUATE,
    ],
}
LEVEL_OF = {
    "village": "village",
    "town": "town",
    "postpone": "town",
    "resumed": "town",
    "city": "city",
}


def _seed_events(cursor, params: dict) -> None:
    """Each case's trace along its path (chain_hash left '' as in bench.pages: the benchmark
    does not verify traces)."""
    cursor.execute(
        "CREATE TEMP TABLE bx_event (case_id bigint, k int, action text, from_status text, "
        "to_status text, from_level text, to_level text, at timestamptz, actor text, "
        "slot text, public bool) ON COMMIT DROP"
    )
    for path, steps in EVENTS.items():
        level = LEVEL_OF.get(path, "town")
        for k, (action, from_s, to_s, from_l, to_l, moment, actor, slot, public) in enumerate(
            steps
        ):
            cursor.execute(
                f"""
                INSERT INTO bx_event
                SELECT bc.id, {k}, %s, %s, %s, %s, %s, {moment}, %s, %s, %s
                FROM bx_case bc JOIN bx_moment mo ON mo.id = bc.id
                WHERE bc.path = %s
                """,  # noqa: S608 - our own constants
                [
                    action,
                    from_s,
                    to_s,
                    from_l.format(lvl=level),
                    to_l.format(lvl=level),
                    actor,
                    slot,
                    public,
                    path,
                ],
            )
    cursor.execute(
        """
        INSERT INTO cases_event (
            case_id, dispatch_id, actor_id, actor_label, action, from_status, to_status,
            from_level, to_level, data, public, created_at, case_filed_at)
        SELECT e.case_id, d.id,
               CASE e.actor WHEN 'worker' THEN %(worker)s WHEN 'officer' THEN %(officer)s
                            WHEN 'captain' THEN %(captain)s ELSE %(committee)s END,
               '', e.action, e.from_status, e.to_status, e.from_level, e.to_level,
               CASE e.action
                   WHEN 'whistle' THEN jsonb_build_object(
                       'teams', jsonb_build_array(bc.team_code),
                       'departments', jsonb_build_array(
                           CASE WHEN bc.id %% 2 = 0 THEN 'BX-MSB' ELSE bc.office_code END))
                   WHEN 'reject' THEN jsonb_build_object(
                       'reason', 'A civil dispute', 'redirect', 'The people''s court')
                   WHEN 'report_in' THEN jsonb_build_object('late', c.late)
                   WHEN 'resolve' THEN jsonb_build_object('note', 'Removed and cleaned')
                   WHEN 'resolve_on_spot' THEN jsonb_build_object('note', 'Solved on site')
                   WHEN 'decide_postponement' THEN jsonb_build_object(
                       'approved', true, 'stage', 'handling', 'amount', 1,
                       'unit', 'working_days')
                   WHEN 'evaluate' THEN jsonb_build_object('satisfaction',
                       (ARRAY['satisfied', 'satisfied', 'basically_satisfied', 'unsatisfied',
                              'satisfied'])[1 + bc.id %% 5])
                   ELSE '{}'::jsonb END,
               e.public, e.at, bc.filed_at
        FROM bx_event e
        JOIN bx_case bc ON bc.id = e.case_id
        LEFT JOIN bx_clock c ON c.case_id = e.case_id AND c.slot = 'rin_' || e.slot
        LEFT JOIN cases_dispatch d ON d.id = c.dispatch_id
        ORDER BY e.case_id, e.at, e.k
        """,
        params,
    )


def _seed_facts(cursor) -> None:
    """The assessment facts of each case and dispatch, as assessment.facts derives them from
    the trace and the clocks above (late: a clock of a case's own stage that fired)."""
    cursor.execute(
        """
        CREATE TEMP TABLE bx_late ON COMMIT DROP AS
        SELECT case_id, count(*) AS n, min(due_at) AS first_due
        FROM bx_clock WHERE late AND stage <> 'report_in' GROUP BY case_id
        """
    )
    cursor.execute("CREATE UNIQUE INDEX ON bx_late (case_id)")
    cursor.execute(
        """
        INSERT INTO assessment_casefact (
            case_id, city_id, town_id, village_id, grid_id, item_id, reporter_id, filed_at,
            accepted, rejected, closed, closed_at, closed_level, resolved_at, overdue,
            closed_on_time, reworked, rework_count, postponed, postponed_at, suspended,
            was_suspended, whistled, escalated, max_level, satisfaction, rated_at,
            handling_seconds, last_event_id, computed_at, merged, supporters, solved_by,
            closing_corrected, late_count, overdue_at, first_closed_at)
        SELECT c.id, c.city_id, c.town_id, c.village_id, c.grid_id, c.item_id, c.reporter_id,
               c.filed_at, bc.path <> 'reject', bc.path = 'reject', c.status = 'closed',
               c.closed_at, CASE WHEN c.status = 'closed' THEN c.resolved_level ELSE '' END,
               c.resolved_at, lt.case_id IS NOT NULL,
               c.status = 'closed' AND lt.case_id IS NULL, false, 0,
               bc.path = 'postpone',
               CASE WHEN bc.path = 'postpone' THEN mo.handling_from + interval '2 hours' END,
               bc.path = 'parked', bc.path IN ('parked', 'resumed'),
               bc.path IN ('town', 'postpone', 'city', 'resumed', 'parked'), bc.path = 'city',
               c.level, c.satisfaction,
               CASE WHEN c.satisfaction <> '' THEN c.closed_at + interval '1 day' END,
               CASE WHEN c.status = 'closed'
                    THEN pg_temp.bx_pos(c.resolved_at) - pg_temp.bx_pos(c.filed_at) END,
               e.last_id, now(), false, 0,
               CASE WHEN c.status <> 'closed' THEN ''
                    WHEN bc.path = 'village' THEN 'village'
                    WHEN bc.path = 'city' THEN 'consultation'
                    ELSE 'team' END,
               false, coalesce(lt.n, 0), lt.first_due, c.closed_at
        FROM cases_case c
        JOIN bx_case bc ON bc.id = c.id
        JOIN bx_moment mo ON mo.id = c.id
        LEFT JOIN bx_late lt ON lt.case_id = c.id
        JOIN (SELECT case_id, max(id) AS last_id FROM cases_event GROUP BY case_id) e
          ON e.case_id = c.id
        """
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
               d.late, false, d.resolved_at, NULL, false, false, false, false, now(),
               false, false, false, false, 0, false, false, false, false, false, 0
        FROM cases_dispatch d JOIN cases_case c ON c.id = d.case_id
        """
    )


def seeded_cases(*, county_id: int) -> int:
    from assessment.models import CaseFact

    return CaseFact.objects.filter(city_id=county_id).count()


def check_seed(*, samples: int = 200) -> int:
    """Compare the seeded due and yellow times of a sample of clocks with cases.timers'
    calendar arithmetic; returns how many differ (0 expected)."""
    from cases import calendar
    from cases.models import Deadline

    wrong = 0
    rows = Deadline.objects.filter(paused_at__isnull=True, postponed=False).exclude(
        stage="handling", case__events__action="resume"
    )
    step = max(1, rows.count() // samples)
    for deadline in rows.order_by("id")[::step][:samples]:
        due = calendar.add_duration(
            start=deadline.started_at, amount=deadline.amount, unit=deadline.unit
        )
        working = calendar.is_working_unit(deadline.unit)
        total = calendar.seconds_between(start=deadline.started_at, end=due, working=working)
        warn = calendar.add_seconds(
            start=deadline.started_at,
            seconds=total * deadline.yellow_at_percent // 100,
            working=working,
        )
        if due != deadline.due_at or warn != deadline.warn_at:
            wrong += 1
            if wrong <= 3:
                print(
                    f"  clock {deadline.pk} ({deadline.stage} {deadline.amount} {deadline.unit} "
                    f"from {deadline.started_at}): due {deadline.due_at} / {due}, "
                    f"yellow {deadline.warn_at} / {warn}",
                    flush=True,
                )
    return wrong


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Run:
    key: str
    title: str
    seconds: float = 0.0
    replay_seconds: float = 0.0
    summary_seconds: float = 0.0
    peak_rss_mib: float = 0.0
    # The largest helper process's resident high-water mark (policylab.helpers), as it reported.
    helper_peak_mib: float = 0.0
    processes: int = 1
    tracemalloc_mib: float | None = None
    cases: int = 0
    dispatches: int = 0
    rows_updated: int = 0
    tally: dict = field(default_factory=dict)
    state: str = ""
    load: str = ""


def _reset_peak() -> bool:
    """Reset the kernel's high-water mark of this process's resident memory (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mib() -> float:
    from policylab.helpers import peak_mib

    return peak_mib() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scenarios(*, stage: str) -> list[tuple[str, str, dict]]:
    """(key, title, changes) of the three scenarios."""
    return [
        ("in_force", "(a) the rules in force", {}),
        ("doubled", f"(b) every {stage.replace('_', ' ')} limit doubled", {"double": stage}),
        (
            "calendar",
            "(c) two more holidays ("
            + ", ".join(day.isoformat() for day in EXTRA_HOLIDAYS)
            + "), report-in halved",
            {"holidays": EXTRA_HOLIDAYS, "halve": "report_in"},
        ),
    ]


def run_scenario(*, county, user, key: str, title: str, changes: dict, trace: bool) -> Run:
    """Make the scenario and its replay, and run it in this process as the task does (with
    its helper processes: WHISTLE_REPLAY_PROCESSES)."""
    from django.conf import settings

    from policylab import helpers, services
    from policylab.models import Replay, ReplayCaseFact, ReplayDispatchFact, Scenario
    from policylab.rules import limits_in_force, scheme_in_force

    limits = limits_in_force()
    for row in limits:
        if row["stage"] == changes.get("double"):
            row["amount"] *= 2
        if row["stage"] == changes.get("halve"):
            row["amount"] = max(1, row["amount"] // 2)
    scenario = Scenario.objects.create(
        city=county,
        name=f"bench {key}",
        limits=limits,
        holidays=[day.isoformat() for day in changes.get("holidays", ())],
        workdays=[],
        scheme=scheme_in_force(today=date(YEAR, 6, 30)),
        created_by=user,
    )
    rules = services.scenario_rules(scenario)
    replay = Replay.objects.create(
        scenario=scenario,
        name=f"bench {key}",
        region=county,
        period_kind="year",
        period_start=date(YEAR, 1, 1),
        period_end=date(YEAR + 1, 1, 1),
        rules=rules.as_json(),
        requested_by=user,
    )
    run = Run(key=key, title=title)
    timings = {"summary": 0.0, "replay": 0.0}
    original_summarise, original_period = services.summarise, services.replay_period
    original_join = helpers.join

    def summarise(**kwargs):
        started = time.perf_counter()
        try:
            return original_summarise(**kwargs)
        finally:
            timings["summary"] += time.perf_counter() - started

    def replay_period(**kwargs):
        started = time.perf_counter()
        try:
            return original_period(**kwargs)
        finally:
            timings["replay"] += time.perf_counter() - started

    # Timed and counted around the real functions (they run unchanged).
    def join(running):
        tallies = original_join(running)
        run.helper_peak_mib = max([run.helper_peak_mib, *(h.peak_mib or 0 for h in running)])
        return tallies

    services.summarise, services.replay_period, helpers.join = summarise, replay_period, join
    load_before = load_average()
    if trace:
        import tracemalloc

        tracemalloc.start()
    _reset_peak()
    started = time.perf_counter()
    try:
        run.state = services.run_replay(replay_id=replay.pk)
    finally:
        run.seconds = time.perf_counter() - started
        services.summarise, services.replay_period = original_summarise, original_period
        helpers.join = original_join
        if trace:
            run.tracemalloc_mib = tracemalloc.get_traced_memory()[1] / 1024 / 1024
            tracemalloc.stop()
    run.peak_rss_mib = _peak_mib()
    run.processes = settings.WHISTLE_REPLAY_PROCESSES
    run.load = f"{load_before} / {load_average()}"
    run.summary_seconds = timings["summary"]
    run.replay_seconds = timings["replay"]
    replay.refresh_from_db()
    if replay.state != Replay.State.DONE:
        raise AssertionError(f"{key}: the replay ended {replay.state}: {replay.error}")
    run.cases = ReplayCaseFact.objects.filter(replay=replay).count()
    run.dispatches = ReplayDispatchFact.objects.filter(replay=replay).count()
    run.tally = replay.summary.get("tally", {})
    run.rows_updated = run.tally.get("rows_changed", 0)
    # The rows written agree with the report's counts.
    changed = (
        ReplayCaseFact.objects.filter(replay=replay, verdict_changed=True).count(),
        ReplayDispatchFact.objects.filter(replay=replay, verdict_changed=True).count(),
    )
    if changed != (run.tally.get("cases_changed"), run.tally.get("dispatches_changed")):
        raise AssertionError(f"{key}: rows with a changed verdict {changed}, tally {run.tally}")
    return run


def _section(
    *,
    runs: list[Run],
    info: dict,
    command: str,
    seed_seconds: float | None,
    cases: int,
    stage: str,
    counts: dict,
) -> str:
    from django.utils import timezone

    worst = max(run.seconds for run in runs)
    met = worst <= TARGET_SECONDS
    lines = [
        SECTION,
        "",
        f"Command: `{command}` on {timezone.localtime():%Y-%m-%d %H:%M %Z} "
        f"(`make bench BENCH_ARGS=replay` runs it inside `make bench`).",
        "",
        machine_line(info)
        + " The load average (1 min) before and after each replay shows how much other work "
        "shared the machine.",
        "",
        f'A county ("{COUNTY}": {TOWNS} towns, {TOWNS * VILLAGES_PER_TOWN} villages, '
        f"{TOWNS * VILLAGES_PER_TOWN * GRIDS_PER_VILLAGE} grids, a comprehensive team and a "
        f"market supervision office per town) with {cases:,} cases filed over {YEAR}, seeded "
        "with set-based SQL"
        + (
            f" in {seed_seconds:.0f} s"
            if seed_seconds is not None
            else " (kept from an earlier run)"
        )
        + f": {counts.get('events', 0):,} events, {counts.get('dispatches', 0):,} dispatches, "
        f"{counts.get('deadlines', 0):,} clocks (each with its item's TimeLimit amount, unit and "
        "yellow light, due and yellow times counted on the calendar in force as cases.timers "
        "does; one in ten fired), and the assessment facts derived from them. 60% of the cases "
        "are solved in the village, 22% whistled to the town, 2% postponed, 9% consulted and "
        "escalated to the city, 2% suspended and resumed, 1% still suspended, 4% rejected.",
        "",
        "Each replay runs in-process as the Celery task does (`policylab.services.run_replay`: "
        "the cases chunk by chunk, then the indicators and rankings of the live and of the "
        "replayed facts for the county, its towns, villages, teams and departments), with the "
        "helper processes it starts (`policylab.helpers`, WHISTLE_REPLAY_PROCESSES, here "
        f"{runs[0].processes if runs else 1}: the task's process replays the first span of the "
        "cases and each helper another). Peak memory is the task process's resident "
        "high-water mark during that replay (VmHWM, reset before each), plus each helper's "
        "(the largest, as the helpers report their own VmHWM).",
        "",
        f"Target: each replay under {TARGET_SECONDS:.0f} s. "
        f"**{'met' if met else 'MISSED'}** (slowest {worst:.1f} s).",
        "",
        "| scenario | wall time | of which replay | of which summary | peak memory "
        "| cases / dispatches copied | rows that differ | clocks replayed | verdicts changed "
        "| would escalate | load before / after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        memory = f"{run.peak_rss_mib:.0f} MiB"
        if run.processes > 1:
            memory += f" + {run.processes - 1} × {run.helper_peak_mib:.0f} MiB"
        if run.tracemalloc_mib is not None:
            memory += f" (Python heap {run.tracemalloc_mib:.0f} MiB)"
        lines.append(
            f"| {run.title} | {run.seconds:.1f} s | {run.replay_seconds:.1f} s "
            f"| {run.summary_seconds:.1f} s | {memory} | {run.cases:,} / {run.dispatches:,} "
            f"| {run.rows_updated:,} | {run.tally.get('clocks_replayed', 0):,} of "
            f"{run.tally.get('clocks', 0):,} | {run.tally.get('cases_changed', 0):,} cases, "
            f"{run.tally.get('dispatches_changed', 0):,} dispatches "
            f"| {run.tally.get('would_escalate', 0):,} | {run.load} |"
        )
    lines += [
        "",
        "What these figures needed (first runs at 20,000 cases, load average 8-10 on the two "
        "CPUs): the indicators and rankings after the replay were planned for the replay "
        "tables as they were before it (empty: \"1 row\"), so each team's and department's "
        "counts ran nested loops over the year (one statement still running after 9 minutes); "
        "the replay now ANALYZEs its two tables once its rows are in "
        "(`policylab.replay._analyze`). Writing the replayed values with Django's "
        "`bulk_update` (a CASE WHEN per row and column) took 129 s of the 254 s the replays "
        "of (a) and (c) spent in `replay_period` under cProfile; it became one "
        "`UPDATE ... FROM (VALUES ...)` per 5,000 rows on PostgreSQL (and no update at all in "
        "the third round, below). Each replayed working-time clock walked the calendar "
        "day by day two to four times (`cases.calendar.add_duration`, `seconds_between`: "
        "28 s of the 39 s its clocks took, 186.6 s for (c) at 20,000 cases, 149 s of it in "
        "the replay); `policylab.worktime` counts the same working time in constant time from "
        "a table of the days (office time before each day), with the same results "
        "(tests/policylab/test_worktime.py compares it with the walks on random moments, "
        "with and without a scenario's days).",
        "",
        "Second round (December 2026), from (a) 250.5 s (181.1 s replay, 69.1 s summary) and "
        "(c) 447.3 s at 300,000 cases: the replay no longer reads every clock. The database "
        "counts each chunk's clocks (how many, late, turned yellow: `_live_counts`), the kinds "
        "of clock (item, stage, limit) whose rule the scenario changes are found once for the "
        "cohort (`_changed_kinds`), and only the cases with such a clock are read whole and "
        "judged again (`_affected`): the rules in force read no clock at all. A chunk's clocks "
        "are read by its span of case ids (an index range instead of a scan of all 1,143,000 "
        "clocks per chunk: 0.64 s to 0.08 s). The replay tables keep no foreign-key "
        "constraints and no index on the columns copied from the live facts (policylab "
        "migration 0002): inserting a chunk's 10,000 cases took 1.35 s and its dispatches "
        "0.60 s, 0.27 s each now, and the deferred checks at each commit (47 s of (a) under "
        "cProfile) are gone. The teams' and departments' counts of the summary are grouped "
        "queries (`assessment.selectors._grouped_handlers`, the same counts as `compute` per "
        "unit: tests/policylab/test_grouped_rankings.py) instead of 41 `compute` calls per "
        "summary (83 s of the two summaries of (a) under cProfile).",
        "",
        "Third round (December 2026). The figures above for (c) were measured on a database "
        "kept through many earlier runs; seeded afresh (and VACUUM ANALYZEd), the same code took "
        "185.5 s for (c) (164.7 s replay, 20.7 s summary), the replay one Python process on one "
        "of the two CPUs. Under cProfile: reading the affected cases' clocks (`_clocks`, 33 s), "
        "judging them again (`_replay_clock`, 58 s for 1.06 million calls), the cases' values "
        "(22 s), copying the live rows (27 s) and then updating 221,799 of them (`_write`, 42 s), "
        "and Django preparing the IN lists of a chunk's ten thousand ids one by one (about 15 s). "
        "Now each chunk's replayed values go into its copy in the same statement, from a "
        "temporary table loaded with COPY (`_copy_live`), instead of an update of the copied "
        "rows and their indexes afterwards: (c) 163.2 s (143.8 s replay). A chunk's ids go to "
        "the database as one array (`= ANY(%s)`, `_among`), and the task cuts the cases into "
        "one span per CPU, a helper process replaying each span but its own "
        "(`policylab.helpers`): (c) 99.8 s (76.5 s replay, 23.2 s summary), the same counts "
        "(tests/policylab/test_replay_helpers.py compares the rows and counts of a replay in "
        "one process and in three).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300_000, help="cases in the year")
    parser.add_argument(
        "--stage", default="village_handling", help="the stage whose limits (b) doubles"
    )
    parser.add_argument(
        "--only", nargs="+", choices=["in_force", "doubled", "calendar"], help="these scenarios"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the cases of an earlier run")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace the Python heap (slower)"
    )
    parser.add_argument("--profile", help="write a cProfile of the replays to this file")
    parser.add_argument("--verbose", action="store_true", help="time the seed's statements")
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    _prepare_environment()
    set_up(force=args.force)
    from django.core.cache import cache

    from cases.models import Deadline, Dispatch, Event

    county, people = build_county()
    seed_seconds = None
    if args.reuse and seeded_cases(county_id=county.pk) == args.cases:
        print(f"Reusing the {args.cases:,} cases already seeded", flush=True)
    else:
        print(f"Seeding {args.cases:,} cases of {COUNTY} over {YEAR} ...", flush=True)
        started = time.perf_counter()
        seed(county_id=county.pk, cases=args.cases, people=people, verbose=args.verbose)
        seed_seconds = time.perf_counter() - started
        print(f"  seeded in {seed_seconds:.1f} s (load {load_average()})", flush=True)
    cache.clear()
    counts = {
        "events": Event.objects.count(),
        "dispatches": Dispatch.objects.count(),
        "deadlines": Deadline.objects.count(),
    }
    wrong = check_seed()
    print(f"  clocks checked against cases.calendar: {wrong} of 200 differ", flush=True)
    runs = []
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    for key, title, changes in scenarios(stage=args.stage):
        if args.only and key not in args.only:
            continue
        print(f"Replaying {title} ...", flush=True)
        if profiler:
            profiler.enable()
        run = run_scenario(
            county=county,
            user=people["bx-city"],
            key=key,
            title=title,
            changes=changes,
            trace=args.tracemalloc,
        )
        if profiler:
            profiler.disable()
        runs.append(run)
        print(
            f"  {run.seconds:.1f} s (replay {run.replay_seconds:.1f} s, summary "
            f"{run.summary_seconds:.1f} s), peak {run.peak_rss_mib:.0f} MiB "
            f"(helpers {run.helper_peak_mib:.0f} MiB), {run.processes} processes, "
            f"{run.cases:,} cases + {run.dispatches:,} dispatches copied, "
            f"{run.rows_updated:,} rows updated, tally {run.tally}, load {run.load}",
            flush=True,
        )
    if profiler:
        profiler.dump_stats(args.profile)
        print(f"Profile written to {args.profile}")
    info = machine()
    command = "python -m bench.replay" + (f" {' '.join(argv)}" if argv else "")
    if argv is None and len(sys.argv) > 1:
        command = "python -m bench.replay " + " ".join(sys.argv[1:])
    text = _section(
        runs=runs,
        info=info,
        command=command,
        seed_seconds=seed_seconds,
        cases=args.cases,
        stage=args.stage,
        counts=counts,
    )
    print()
    print(text)
    worst = max((run.seconds for run in runs), default=0.0)
    met = bool(runs) and worst <= TARGET_SECONDS and wrong == 0
    if not args.no_write:
        write_section(SECTION, text)
        print(f"Written to {DOC.relative_to(BASE_DIR)}")
        record_results(
            "replay",
            {
                "cases": args.cases,
                "target_s": TARGET_SECONDS,
                "seconds": {run.key: round(run.seconds, 1) for run in runs},
                "summary_seconds": {run.key: round(run.summary_seconds, 1) for run in runs},
                "peak_rss_mib": round(max((run.peak_rss_mib for run in runs), default=0), 0),
                "worst_s": round(worst, 1),
                "target_met": met,
            },
        )
    print(
        f"REPLAY cases={args.cases} "
        + " ".join(
            f"{run.key}={run.seconds:.1f}s(summary {run.summary_seconds:.1f}s, "
            f"peak {run.peak_rss_mib:.0f}MiB)"
            for run in runs
        )
        + f" target={TARGET_SECONDS:.0f}s {'MET' if met else 'MISSED'} load={load_average()}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
