"""Writing import runs: an upload queued for a Celery worker, run once, its report stored.

The engine (rollout.services.import_org) does the import; these services only keep the run:
the stored file, who asked, the progress a page polls, and the report.
"""

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.errors import ServiceError
from rollout.models import ImportRun
from rollout.run_selectors import PROGRESS_CACHE_SECONDS, RETRYABLE, progress_key
from teams.models import User

logger = logging.getLogger(__name__)

PERMISSION = "rollout.add_importrun"
GEO_KINDS = frozenset({ImportRun.Kind.REGIONS, ImportRun.Kind.GRIDS})
SUFFIXES = {True: (".geojson", ".json"), False: (".csv", ".xlsx")}
# A running run whose progress has not moved for this long lost its worker; a queued one this
# old lost its message (broker down). The engine writes in one transaction, so such a run
# changed nothing and is run again from the start (resume_stalled_imports).
STALLED = timedelta(minutes=10)
# The progress on the row moves at most this often (seconds), or when the file is done.
PROGRESS_EVERY = 1.0


class ImportRunError(ServiceError):
    code = "import_run"


class NotAllowed(ImportRunError, PermissionDenied):
    code = "not_allowed"
    http_status = 403


def may_import(user: User) -> bool:
    """Deployment administrators: staff with the permission to add import runs."""
    return bool(user.is_active and user.is_staff and user.has_perm(PERMISSION))


def _check_user(user: User) -> None:
    if not may_import(user):
        raise NotAllowed(_("You may not import the organisation."))


def _check_upload(*, kind: str, upload: UploadedFile | None) -> str:
    """The upload's plain file name, or a refusal that names the field at fault."""
    if kind not in ImportRun.Kind.values:
        raise ImportRunError(
            fields={
                "kind": [
                    _("Unknown kind %(kind)s; choose among %(kinds)s.")
                    % {"kind": kind, "kinds": ", ".join(ImportRun.Kind.values)}
                ]
            }
        )
    if upload is None:
        raise ImportRunError(fields={"file": [_("Choose a file to import.")]})
    name = Path(upload.name or "").name[:200]
    if not upload.size:
        raise ImportRunError(fields={"file": [_("The file is empty.")]})
    limit = settings.WHISTLE_IMPORT_MAX_BYTES
    if upload.size > limit:
        raise ImportRunError(
            fields={
                "file": [
                    _("The file is %(size)s; at most %(limit)s is accepted.")
                    % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
                ]
            }
        )
    suffixes = SUFFIXES[kind in GEO_KINDS]
    if not name.lower().endswith(suffixes):
        raise ImportRunError(
            fields={
                "file": [
                    _("A file of %(kind)s must end in %(suffixes)s; %(name)s does not.")
                    % {
                        "kind": ImportRun.Kind(kind).label,
                        "suffixes": ", ".join(suffixes),
                        "name": name or "-",
                    }
                ]
            }
        )
    return name


def _queue(run_id: int) -> None:
    """Queue the run's task; a broker that is down only costs a warning (the beat retries)."""
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    from rollout import tasks

    try:
        tasks.run_import.delay(run_id)
    except (OperationalError, RedisError, OSError) as error:
        logger.warning("Could not queue import run %s; the beat will retry: %s", run_id, error)


def start_import(*, user: User, kind: str, upload: UploadedFile | None, dry_run: bool) -> ImportRun:
    """Store the upload under MEDIA_ROOT and queue its import (a worker runs it after the
    commit). Refused, with nothing stored: no file, an unknown kind, a file too large or of
    the wrong type, a user who may not import."""
    _check_user(user)
    name = _check_upload(kind=kind, upload=upload)
    run = ImportRun(
        kind=kind,
        filename=name,
        dry_run=dry_run,
        created_by=user,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    run.file.save(name, upload, save=False)
    try:
        with transaction.atomic():
            run.save()
            transaction.on_commit(lambda: _queue(run.pk), robust=True)
    except BaseException:
        default_storage.delete(run.file.name)
        raise
    return run


def run_for_real(*, user: User, run_id: int) -> ImportRun:
    """Queue a real import of the file a clean dry run checked (the stored file, no second
    upload). Refused for a run that is not a finished clean dry run, or whose real run was
    already asked for."""
    _check_user(user)
    with transaction.atomic():
        source = ImportRun.objects.select_for_update().filter(pk=run_id).first()
        if source is None:
            raise ImportRunError(_("There is no such import run."))
        if not (source.dry_run and source.status == ImportRun.Status.DONE):
            raise ImportRunError(_("Only a dry run that finished without refusals can be run."))
        if source.real_runs.exclude(status__in=RETRYABLE).exists():
            raise ImportRunError(_("This dry run has already been run for real."))
        run = ImportRun.objects.create(
            kind=source.kind,
            file=source.file.name,
            filename=source.filename,
            dry_run=False,
            dry_run_of=source,
            created_by=user,
            language=translation.get_language() or source.language,
        )
        transaction.on_commit(lambda: _queue(run.pk), robust=True)
    return run


def _claimable(now: datetime) -> Q:
    return Q(status=ImportRun.Status.QUEUED) | Q(
        status=ImportRun.Status.RUNNING, progress_at__lt=now - STALLED
    )


def _progress(run_id: int) -> Callable[[int, int], None]:
    """The engine's progress callback: the row moves at most every PROGRESS_EVERY seconds,
    and when the last row is reached, so a 5,000-row file costs a handful of updates."""
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_EVERY and done < total:
            return
        last = now
        # The cache shows it at once; the row may sit inside the engine's transaction (seen by
        # other processes only at its commit) but is what stays.
        cache.set(progress_key(run_id), (done, total), PROGRESS_CACHE_SECONDS)
        ImportRun.objects.filter(pk=run_id).update(
            progress_done=done, progress_total=total, progress_at=timezone.now()
        )

    return progress


def _read(run: ImportRun) -> bytes:
    with run.file.open("rb") as stored:
        return stored.read()


def run_import(*, run_id: int) -> str:
    """The task's work: claim the queued run (once, whatever the broker delivers twice), run
    the engine on its stored file and keep the report. Returns the status it ends in, or
    "skipped" for a run another worker has or had."""
    from rollout.services import import_org

    with transaction.atomic():
        now = timezone.now()
        run = ImportRun.objects.select_for_update().filter(_claimable(now), pk=run_id).first()
        if run is None:
            return "skipped"
        run.status = ImportRun.Status.RUNNING
        run.started_at = run.progress_at = now
        run.progress_done = 0
        run.save(update_fields=["status", "started_at", "progress_at", "progress_done"])
    try:
        with translation.override(run.language or settings.LANGUAGE_CODE):
            report = import_org(
                kind=run.kind,
                filename=run.filename,
                data=_read(run),
                dry_run=run.dry_run,
                progress=_progress(run_id),
            )
            stored = report.as_dict()
    except Exception as error:
        logger.exception("Import run %s failed", run_id)
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportRun.Status.FAILED, finished_at=timezone.now(), error=str(error)[:2000]
        )
        return ImportRun.Status.FAILED
    status = ImportRun.Status.DONE if report.ok else ImportRun.Status.REFUSED
    run.refresh_from_db(fields=["progress_done", "progress_total"])
    done = run.progress_total if report.ok else run.progress_done
    cache.delete(progress_key(run_id))
    ImportRun.objects.filter(pk=run_id).update(
        status=status,
        report=stored,
        finished_at=timezone.now(),
        progress_done=done,
        progress_at=timezone.now(),
    )
    return status


def resume_stalled_imports(*, now: datetime | None = None) -> int:
    """Queue again the runs whose message was lost or whose worker died (the beat calls it);
    run_import claims each once."""
    now = now or timezone.now()
    ids = list(
        ImportRun.objects.filter(
            Q(status=ImportRun.Status.QUEUED, created_at__lt=now - STALLED)
            | Q(status=ImportRun.Status.RUNNING, progress_at__lt=now - STALLED)
        ).values_list("pk", flat=True)
    )
    for run_id in ids:
        transaction.on_commit(lambda run_id=run_id: _queue(run_id), robust=True)
    return len(ids)
