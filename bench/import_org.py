"""Organisation import benchmark (issue 17): a county loaded from its files through
rollout.services.import_org on PostgreSQL, then the same files again (nothing changes).

    python -m bench.import_org                # or: make bench (BENCH_ARGS=import_org alone)
    python -m bench.import_org --no-write     # print only
    python -m bench.import_org --towns 5 --users 1000 --no-write   # smaller

Against PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
whistle_bench_import_org; created and migrated when missing; the benchmark county is removed
first, so its name must contain "bench" unless --force). It generates a county ("IB": 20 towns,
400 villages, 3,000 grids whose polygons have 30 to 120 vertices, never overlapping: each
village's square is cut into cells, each cell inset from its neighbours and its edges jittered
inwards; two departments and two teams per town; 5,000 users, each with a membership) and
writes its six files into a temporary folder: regions.geojson, grids.geojson,
departments.csv, teams.csv, users.csv and memberships.csv. Then, in this process:

1. first import: each file in turn through import_org(dry_run=False), with its wall time and
   the process's peak resident memory while it ran (VmHWM, reset before each file), and
   whether every row was created;
2. re-import: the same files again, which must change nothing (every row unchanged) and take
   less time.

Target: the first import of the whole county under 60 s. The figures replace the section
"Organisation import (issue 17)" of docs/benchmarks.md and go to var/bench/results.json under
"import_org". The last line printed is the summary (`IMPORT_ORG ...`).
"""

import argparse
import csv
import io
import json
import math
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    BASE_DIR,
    DOC,
    add_common_arguments,
    load_average,
    machine,
    record_results,
    set_up,
    write_section,
)

SECTION = "## Organisation import (issue 17)"
TARGET_SECONDS = 60.0
COUNTY = "IB"
# The county's corner and the size of one village's square, in degrees (about 860 x 1,110 m at
# this latitude); towns are 5 x 4 villages, the county 5 x 4 towns.
ORIGIN = (117.0, 38.0)
VILLAGE_DEG = 0.01
# The gap each cell keeps from its neighbours, and how far an edge point may move inwards.
INSET_DEG = 0.00006
ORDER = ("regions", "grids", "departments", "teams", "users", "memberships")
DEPARTMENT_KINDS = (("market", "市场监管"), ("ecology", "生态环境"))


# --- the county ------------------------------------------------------------------------------


@dataclass
class County:
    """The rows of each file, in the file's own columns (GeoJSON features for the first two)."""

    regions: list[dict] = field(default_factory=list)
    grids: list[dict] = field(default_factory=list)
    departments: list[dict] = field(default_factory=list)
    teams: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    memberships: list[dict] = field(default_factory=list)
    vertices: list[int] = field(default_factory=list)

    def rows(self, kind: str) -> list[dict]:
        return getattr(self, kind)


def _rectangle(x0: float, y0: float, x1: float, y1: float) -> dict:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def jittered_cell(
    rng: random.Random, x0: float, y0: float, x1: float, y1: float, vertices: int
) -> dict:
    """A simple polygon of about `vertices` corners inside the rectangle: its four sides walked
    counter-clockwise, each point pushed inwards by up to 40% of the spacing of the points (so
    no two sides' points can cross), the corners kept."""
    per_side = max(vertices // 4, 2)
    points: list[tuple[float, float]] = []
    sides = (
        ((x0, y0), (x1, y0), (0.0, 1.0)),  # bottom, inward is +y
        ((x1, y0), (x1, y1), (-1.0, 0.0)),  # right, inward is -x
        ((x1, y1), (x0, y1), (0.0, -1.0)),  # top, inward is -y
        ((x0, y1), (x0, y0), (1.0, 0.0)),  # left, inward is +x
    )
    for (ax, ay), (bx, by), (nx, ny) in sides:
        length = math.hypot(bx - ax, by - ay)
        reach = 0.4 * length / per_side
        points.append((ax, ay))
        for step in range(1, per_side):
            t = step / per_side
            push = rng.uniform(0, reach)
            points.append((ax + (bx - ax) * t + nx * push, ay + (by - ay) * t + ny * push))
    points.append(points[0])
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in points]]}


def generate(*, towns: int = 20, villages: int = 400, grids: int = 3000, users: int = 5000):
    """The county, the same for the same sizes (a fixed seed)."""
    rng = random.Random(17)
    county = County()
    x_origin, y_origin = ORIGIN
    per_town = villages // towns
    town_cols = 5
    village_cols = 5
    village_rows = math.ceil(per_town / village_cols)
    town_w = village_cols * VILLAGE_DEG
    town_h = village_rows * VILLAGE_DEG
    town_rows = math.ceil(towns / town_cols)
    county.regions.append(
        _feature(
            _rectangle(
                x_origin, y_origin, x_origin + town_cols * town_w, y_origin + town_rows * town_h
            ),
            code=COUNTY,
            name_zh="基准县",
            name_en="Bench County",
            level="city",
            parent="",
        )
    )
    village_codes: list[str] = []
    town_codes: list[str] = []
    corners: dict[str, tuple[float, float]] = {}
    for t in range(towns):
        tx = x_origin + (t % town_cols) * town_w
        ty = y_origin + (t // town_cols) * town_h
        town = f"{COUNTY}-T{t + 1:02d}"
        town_codes.append(town)
        county.regions.append(
            _feature(
                _rectangle(tx, ty, tx + town_w, ty + town_h),
                code=town,
                name_zh=f"第{t + 1}镇",
                name_en=f"Town {t + 1}",
                level="town",
                parent=COUNTY,
            )
        )
        for v in range(per_town):
            vx = tx + (v % village_cols) * VILLAGE_DEG
            vy = ty + (v // village_cols) * VILLAGE_DEG
            village = f"{town}-V{v + 1:02d}"
            village_codes.append(village)
            corners[village] = (vx, vy)
            county.regions.append(
                _feature(
                    _rectangle(vx, vy, vx + VILLAGE_DEG, vy + VILLAGE_DEG),
                    code=village,
                    name_zh=f"第{t + 1}镇第{v + 1}村",
                    name_en=f"Village {t + 1}-{v + 1}",
                    level="village",
                    parent=town,
                )
            )
    # Grids: spread evenly (7 or 8 per village at the default sizes), each village's square cut
    # into a 4 x 2 lattice of cells of which it uses the first ones.
    grid_codes: list[tuple[str, str]] = []
    for index in range(grids):
        village = village_codes[index % len(village_codes)]
        slot = index // len(village_codes)
        cols, rows = 4, math.ceil(max(grids / len(village_codes), 1) / 4)
        cell_w, cell_h = VILLAGE_DEG / cols, VILLAGE_DEG / rows
        vx, vy = corners[village]
        x0 = vx + (slot % cols) * cell_w + INSET_DEG
        y0 = vy + (slot // cols) * cell_h + INSET_DEG
        vertices = rng.randint(30, 120)
        county.vertices.append(vertices)
        polygon = jittered_cell(
            rng, x0, y0, x0 + cell_w - 2 * INSET_DEG, y0 + cell_h - 2 * INSET_DEG, vertices
        )
        code = f"{village}-G{slot + 1}"
        grid_codes.append((code, village))
        county.grids.append(
            _feature(
                polygon,
                code=code,
                name_zh=f"{village}第{slot + 1}网格",
                name_en=f"Grid {slot + 1} of {village}",
                village=village,
            )
        )
    departments: list[str] = []
    for town in town_codes:
        for kind, name in DEPARTMENT_KINDS:
            code = f"{town}-D-{kind}"
            departments.append(code)
            county.departments.append(
                {
                    "code": code,
                    "name_zh": f"{town}{name}所",
                    "name_en": f"{kind.title()} office of {town}",
                    "kind": kind,
                    "region": town,
                }
            )
    teams: list[tuple[str, str]] = []
    for town in town_codes:
        for n, kind in enumerate(("comprehensive", "professional"), start=1):
            code = f"{town}-TEAM{n}"
            teams.append((code, town))
            county.teams.append(
                {
                    "code": code,
                    "name_zh": f"{town}执法{n}队",
                    "name_en": f"Team {n} of {town}",
                    "region": town,
                    "kind": kind,
                    "parent": "",
                    "areas": "" if n == 1 else ";".join([town]),
                    "aspects": "",
                    "items": "",
                    "departments": ";".join(d for d in departments if d.startswith(f"{town}-")),
                }
            )
    # People: a grid worker per grid, an officer per village, committee staff per town, the
    # teams' captains and members (stationed in villages), liaisons, the county's staff.
    plan: list[tuple[str, str, str, str]] = []  # role, place, force, stationed_in
    plan += [("grid_worker", code, "", "") for code, _village in grid_codes]
    plan += [("village_officer", code, "", "") for code in village_codes]
    plan += [("town_committee", town, "", "") for town in town_codes for _ in range(5)]
    plan += [("team_captain", code, "law_enforcement", "") for code, _town in teams]
    plan += [("department_liaison", code, "", "") for code in departments]
    members = max(users - len(plan) - 40, 0)
    for n in range(members):
        code, town = teams[n % len(teams)]
        villages_of_town = [v for v in village_codes if v.startswith(f"{town}-")]
        stationed = villages_of_town[n % len(villages_of_town)]
        plan.append(("team_member", code, ("grid", "law_enforcement")[n % 2], stationed))
    plan += [("city_committee", COUNTY, "", "")] * 20
    plan += [("supervisor", COUNTY, "", "")] * 20
    for n, (role, place, force, stationed) in enumerate(plan[:users], start=1):
        username = f"ib{n:05d}"
        county.users.append(
            {
                "username": username,
                "last_name": "张王李赵刘陈杨黄"[n % 8],
                "first_name": f"{'伟芳娜敏静丽强磊'[n % 8]}{'一二三四五六七八九'[n % 9]}",
                "email": f"{username}@bench.example.cn",
                "phone": f"139{n:08d}",
                "is_active": "true",
            }
        )
        county.memberships.append(
            {
                "username": username,
                "role": role,
                "place": place,
                "force": force,
                "stationed_in": stationed,
            }
        )
    return county


def _feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


# --- the files ------------------------------------------------------------------------------


def write_files(county: County, folder: Path) -> dict[str, Path]:
    """The six files, as a county would send them: GeoJSON and UTF-8 CSV."""
    paths = {}
    for kind in ORDER:
        rows = county.rows(kind)
        if kind in ("regions", "grids"):
            path = folder / f"{kind}.geojson"
            path.write_text(
                json.dumps({"type": "FeatureCollection", "features": rows}, ensure_ascii=False),
                encoding="utf-8",
            )
        else:
            path = folder / f"{kind}.csv"
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            path.write_text(buffer.getvalue(), encoding="utf-8")
        paths[kind] = path
    return paths


# --- measuring ------------------------------------------------------------------------------


def _reset_peak() -> bool:
    """Reset this process's resident high-water mark (Linux: clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class FileRun:
    kind: str
    rows: int
    size: int
    seconds: float
    peak_mib: float
    created: int
    changed: int
    unchanged: int
    errors: list[str]
    progress_calls: int


def import_file(kind: str, path: Path) -> FileRun:
    from rollout.services import import_org

    data = path.read_bytes()
    calls = 0

    def progress(done: int, total: int) -> None:
        nonlocal calls
        calls += 1

    _reset_peak()
    started = time.perf_counter()
    report = import_org(kind=kind, filename=path.name, data=data, dry_run=False, progress=progress)
    seconds = time.perf_counter() - started
    return FileRun(
        kind=kind,
        rows=len(report.created) + len(report.changed) + len(report.unchanged),
        size=len(data),
        seconds=seconds,
        peak_mib=_peak_mib(),
        created=len(report.created),
        changed=len(report.changed),
        unchanged=len(report.unchanged),
        errors=[str(error) for error in report.errors[:5]],
        progress_calls=calls,
    )


def remove_county() -> None:
    """Drop what an earlier run imported, so that the first import creates every row."""
    from django.db import transaction

    from teams.models import Department, Grid, Membership, Region, Team, User

    with transaction.atomic():
        Membership.objects.filter(user__username__startswith="ib").delete()
        User.objects.filter(username__regex=r"^ib[0-9]{5}$").delete()
        Team.objects.filter(code__startswith=f"{COUNTY}-").delete()
        Department.objects.filter(code__startswith=f"{COUNTY}-").delete()
        Grid.objects.filter(code__startswith=f"{COUNTY}-").delete()
        for level in ("village", "town", "city"):
            Region.objects.filter(level=level, code__startswith=COUNTY).filter(
                code__regex=rf"^{COUNTY}(-|$)"
            ).delete()


def ensure_department_kinds() -> None:
    """The departments file names kinds by code: the county's two must exist."""
    from teams.models import DepartmentKind

    for code, name in DEPARTMENT_KINDS:
        DepartmentKind.objects.get_or_create(
            code=code, defaults={"name_zh": name, "name_en": code.title()}
        )


# --- the report -----------------------------------------------------------------------------


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MiB"
    return f"{size / 1024:.0f} KiB"


def _table(title: str, runs: list[FileRun]) -> list[str]:
    lines = [
        f"{title}:",
        "",
        "| file | rows | size | wall time | peak memory | created | changed | unchanged "
        "| refused |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.kind} | {run.rows:,} | {_size(run.size)} | "
            f"{run.seconds:.1f} s | {run.peak_mib:.0f} MiB | {run.created:,} | {run.changed:,} | "
            f"{run.unchanged:,} | {len(run.errors)} |"
        )
    total = sum(run.seconds for run in runs)
    peak = max((run.peak_mib for run in runs), default=0.0)
    rows = sum(run.rows for run in runs)
    lines.append(f"| **total** | {rows:,} | | **{total:.1f} s** | {peak:.0f} MiB | | | | |")
    return lines


def _section(
    *,
    first: list[FileRun],
    again: list[FileRun],
    county: County,
    info: dict,
    command: str,
    load: tuple[str, str],
) -> str:
    first_total = sum(run.seconds for run in first)
    again_total = sum(run.seconds for run in again)
    met = first_total <= TARGET_SECONDS and all(not run.errors for run in first)
    unchanged = all(not run.created and not run.changed and not run.errors for run in again)
    vertices = county.vertices
    lines = [
        SECTION,
        "",
        f"Command: `{command}` on {time.strftime('%Y-%m-%d %H:%M %Z')}, database "
        f"`{info['database']}` (`make bench BENCH_ARGS=import_org` runs it inside `make bench`).",
        "",
        f"Machine: {info['cpus']} CPUs ({info['cpu']}), {info['memory']} memory, PostgreSQL "
        f"{info['postgresql']}, Python {info['python']}; the database on the same machine, "
        f"shared with other work (load average, 1 min, before / after: {load[0]} / {load[1]}).",
        "",
        f"A county generated by `bench/import_org.py`: {len(county.regions):,} regions (1 county, "
        f"{sum(1 for r in county.regions if r['properties']['level'] == 'town')} towns, "
        f"{sum(1 for r in county.regions if r['properties']['level'] == 'village')} villages), "
        f"{len(county.grids):,} grids (polygons of {min(vertices)} to {max(vertices)} vertices, "
        f"{sum(vertices) / len(vertices):.0f} on average, none overlapping), "
        f"{len(county.departments)} departments, {len(county.teams)} teams, "
        f"{len(county.users):,} users and {len(county.memberships):,} memberships, written as "
        "two GeoJSON and four UTF-8 CSV files and imported in this order through "
        "`rollout.services.import_org(dry_run=False)` in one process on PostgreSQL, as the "
        "Celery task of the import page does. Peak memory is the process's resident high-water "
        "mark while that file was imported (VmHWM, reset before each file).",
        "",
        f"Target: the first import under {TARGET_SECONDS:.0f} s. "
        f"**{'met' if met else 'MISSED'}** ({first_total:.1f} s). The re-import of the same "
        f"files {'changed nothing' if unchanged else '**CHANGED ROWS**'} and took "
        f"{again_total:.1f} s ({'faster' if again_total < first_total else '**not faster**'}).",
        "",
        *_table("First import (every row new)", first),
        "",
        *_table("Re-import of the same files (nothing to change)", again),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--towns", type=int, default=20)
    parser.add_argument("--villages", type=int, default=400)
    parser.add_argument("--grids", type=int, default=3000)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--keep-files", help="write the files to this folder and keep them")
    add_common_arguments(parser)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whistle.settings")
    os.environ.setdefault(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/whistle_bench_import_org"
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    set_up(force=args.force)
    remove_county()
    ensure_department_kinds()

    started = time.perf_counter()
    county = generate(towns=args.towns, villages=args.villages, grids=args.grids, users=args.users)
    print(f"County generated in {time.perf_counter() - started:.1f} s", flush=True)
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="import-org-") as temporary:
        folder = Path(args.keep_files or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        paths = write_files(county, folder)
        first, again = [], []
        for label, runs in (("First import", first), ("Re-import", again)):
            print(f"{label}:", flush=True)
            for kind in ORDER:
                run = import_file(kind, paths[kind])
                runs.append(run)
                print(
                    f"  {kind:12} {run.rows:6,} rows {run.size / 1024 / 1024:5.1f} MiB "
                    f"{run.seconds:6.1f} s peak {run.peak_mib:4.0f} MiB created {run.created:,} "
                    f"changed {run.changed:,} unchanged {run.unchanged:,} "
                    f"refused {len(run.errors)} {run.errors[:2]}",
                    flush=True,
                )
    load_after = load_average()
    first_total = sum(run.seconds for run in first)
    again_total = sum(run.seconds for run in again)
    met = first_total <= TARGET_SECONDS and all(not run.errors for run in first)
    unchanged = all(not run.created and not run.changed and not run.errors for run in again)
    faster = again_total < first_total
    from django.db import connection

    info = {**machine(), "database": connection.settings_dict["NAME"]}
    command = "python -m bench.import_org" + (
        " " + " ".join(argv if argv is not None else sys.argv[1:])
        if (argv if argv is not None else sys.argv[1:])
        else ""
    )
    text = _section(
        first=first,
        again=again,
        county=county,
        info=info,
        command=command,
        load=(load_before, load_after),
    )
    print()
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
        print(f"Written to {DOC.relative_to(BASE_DIR)}")
        record_results(
            "import_org",
            {
                "target_s": TARGET_SECONDS,
                "first_s": round(first_total, 1),
                "again_s": round(again_total, 1),
                "seconds": {run.kind: round(run.seconds, 2) for run in first},
                "again_seconds": {run.kind: round(run.seconds, 2) for run in again},
                "peak_rss_mib": round(max(run.peak_mib for run in first + again), 0),
                "unchanged": unchanged,
                "target_met": met and unchanged and faster,
            },
        )
    print(
        f"IMPORT_ORG first={first_total:.1f}s again={again_total:.1f}s "
        + " ".join(f"{run.kind}={run.seconds:.1f}s" for run in first)
        + f" peak={max(run.peak_mib for run in first + again):.0f}MiB "
        f"unchanged={'yes' if unchanged else 'NO'} target={TARGET_SECONDS:.0f}s "
        f"{'MET' if met and unchanged and faster else 'MISSED'} load={load_average()}"
    )
    return 0 if met and unchanged and faster else 1


if __name__ == "__main__":
    sys.exit(main())
