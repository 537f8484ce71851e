"""Reading import runs for the admin pages: the recent runs, a run's live progress and its
report in the shape the page shows."""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet

from rollout.models import ImportRun

RECENT = 50
# A real run that ended so may be asked for again from its dry run.
RETRYABLE = (ImportRun.Status.FAILED, ImportRun.Status.REFUSED)
# A progress figure in the cache outlives no run by much (it is dropped at the end anyway).
PROGRESS_CACHE_SECONDS = 3600


def progress_key(run_id: int) -> str:
    return f"rollout:import-run:{run_id}:progress"


def recent_runs(*, limit: int = RECENT) -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("created_by", "dry_run_of").order_by(
        "-created_at", "-id"
    )[:limit]


def live_progress(run: ImportRun) -> tuple[int, int]:
    """(rows done, rows in all) of a run: the worker's latest figure from the cache while it
    runs (the row catches up at the engine's commit), else the row's."""
    done, total = run.progress_done, run.progress_total
    if run.status == ImportRun.Status.RUNNING:
        cached = cache.get(progress_key(run.pk))
        if cached and cached[0] >= done:
            done, total = cached
    return done, total


@dataclass(frozen=True)
class ReportView:
    """What the run page shows of a stored report: the counts, and each refusal."""

    created: list[str]
    changed: list[str]
    unchanged: list[str]
    errors: list[dict]
    ok: bool


def report_of(run: ImportRun) -> ReportView | None:
    if not run.report:
        return None
    data = run.report
    return ReportView(
        created=list(data.get("created") or []),
        changed=list(data.get("changed") or []),
        unchanged=list(data.get("unchanged") or []),
        errors=[dict(error) for error in data.get("errors") or []],
        ok=bool(data.get("ok", not data.get("errors"))),
    )


def real_run_of(run: ImportRun) -> ImportRun | None:
    """The real run asked for after this dry run (the latest), if any."""
    return run.real_runs.order_by("-created_at", "-id").first()


def may_run_for_real(run: ImportRun) -> bool:
    """A finished clean dry run whose real run was not asked for (or failed)."""
    return (
        run.dry_run
        and run.status == ImportRun.Status.DONE
        and not run.real_runs.exclude(status__in=RETRYABLE).exists()
    )
