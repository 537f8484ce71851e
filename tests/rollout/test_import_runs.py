"""The import page of the administration: an upload becomes a run that a Celery worker runs
once, its progress and report kept on the run, shown on its page; a clean dry run is run for
real from the stored file; templates and exports download; only deployment administrators
reach any of it."""

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from rollout import kinds, run_selectors, runs, tasks
from rollout.models import ImportRun
from teams.models import User
from tests.cases.test_upload_budget import celery_conf
from tests.factories import UserFactory
from tests.workers import isolated_broker, running_workers, wait_for

pytestmark = pytest.mark.django_db

# Line 2 is refused twice: a username with a space, an address that is none.
REFUSED_CSV = b"username,email\nwang yi!,not-an-address\n"
USERS_CSV = (
    "username,first_name,last_name,email\n"
    "wangyi,一,王,wangyi@example.gov.cn\n"
    "wanger,二,王,wanger@example.gov.cn\n"
    "wangsan,三,王,wangsan@example.gov.cn\n"
).encode()
USERNAMES = ["wangyi", "wanger", "wangsan"]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def importer(media) -> User:
    """Staff with the permission to add import runs (a deployment administrator)."""
    user = UserFactory(username="importer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_importrun"))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def page(client, importer):
    client.force_login(importer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def add_url() -> str:
    return reverse("admin:rollout_importrun_add")


def run_url(run: ImportRun) -> str:
    return reverse("admin:rollout_importrun_change", args=[run.pk])


def test_the_run_kinds_are_the_engines():
    assert ImportRun.Kind.values == list(kinds.KINDS)


# --- who may --------------------------------------------------------------------------------


def test_who_is_not_staff_is_sent_to_the_sign_in(client, media):
    client.force_login(UserFactory(username="walker"))
    for url in (add_url(), reverse("admin:rollout_importrun_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]
    assert not ImportRun.objects.exists()


def test_staff_without_the_permission_get_403_everywhere(client, importer, media):
    run = runs.start_import(
        user=importer, kind="users", upload=upload("a.csv", REFUSED_CSV), dry_run=True
    )
    clerk = UserFactory(username="clerk", is_staff=True)
    client.force_login(clerk)
    urls = [
        add_url(),
        reverse("admin:rollout_importrun_changelist"),
        run_url(run),
        reverse("admin:rollout_importrun_progress", args=[run.pk]),
        reverse("admin:rollout_importrun_template", args=["users", "csv", "en"]),
        reverse("admin:rollout_importrun_export", args=["users", "csv"]),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    response = client.post(add_url(), {"kind": "users", "file": upload("b.csv", REFUSED_CSV)})
    assert response.status_code == 403
    for_real = reverse("admin:rollout_importrun_for_real", args=[run.pk])
    assert client.post(for_real).status_code == 403
    assert ImportRun.objects.count() == 1
    with translation.override("en"), pytest.raises(runs.NotAllowed):
        runs.start_import(user=clerk, kind="users", upload=upload("c.csv", b"x"), dry_run=True)


# --- the upload -----------------------------------------------------------------------------


def test_an_upload_stores_the_file_and_queues_its_run_after_the_commit(
    page, importer, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = page.post(
            add_url(),
            {"kind": "users", "file": upload("staff.csv", REFUSED_CSV), "dry_run": "on"},
        )
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == run_url(run)
    assert len(queued) == 1
    assert (run.kind, run.filename, run.dry_run, run.status) == (
        "users",
        "staff.csv",
        True,
        ImportRun.Status.QUEUED,
    )
    assert run.created_by == importer
    assert run.language == "en"
    # A real file under MEDIA_ROOT, with the bytes uploaded.
    assert (media / run.file.name).read_bytes() == REFUSED_CSV


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "users"}, "file", "Choose a file to import."),
        (
            {"kind": "people", "file": ("a.csv", REFUSED_CSV)},
            "kind",
            "Select a valid choice. people is not one of the available choices.",
        ),
        ({"kind": "users", "file": ("a.csv", b"")}, "file", "The submitted file is empty."),
        (
            {"kind": "grids", "file": ("grids.csv", REFUSED_CSV)},
            "file",
            "A file of grids must end in .geojson, .json; grids.csv does not.",
        ),
        (
            {"kind": "users", "file": ("big.csv", b"username\n" + b"a\n" * 600)},
            "file",
            "The file is 1.2\xa0KB; at most 1000\xa0bytes is accepted.",
        ),
    ],
    ids=["no file", "unknown kind", "empty", "wrong type", "too large"],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    page, media, settings, data, field, message
):
    settings.WHISTLE_IMPORT_MAX_BYTES = 1000
    post = dict(data)
    if "file" in post:
        name, content = post["file"]
        post["file"] = upload(name, content)
    response = page.post(add_url(), post)
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert "Nothing was imported" in response.content.decode()
    assert not ImportRun.objects.exists()
    assert stored_files(media) == []


# --- running --------------------------------------------------------------------------------


def test_a_run_delivered_twice_runs_once(importer, media):
    run = runs.start_import(
        user=importer, kind="users", upload=upload("a.csv", REFUSED_CSV), dry_run=True
    )
    assert runs.run_import(run_id=run.pk) == ImportRun.Status.REFUSED
    finished = ImportRun.objects.get(pk=run.pk).finished_at
    assert runs.run_import(run_id=run.pk) == "skipped"
    run.refresh_from_db()
    assert run.status == ImportRun.Status.REFUSED
    assert run.finished_at == finished


def test_a_real_run_delivered_twice_imports_once_and_keeps_its_progress(importer, media):
    run = runs.start_import(
        user=importer, kind="users", upload=upload("users.csv", USERS_CSV), dry_run=False
    )
    assert runs.run_import(run_id=run.pk) == ImportRun.Status.DONE
    assert runs.run_import(run_id=run.pk) == "skipped"
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE
    assert sorted(run.report["created"]) == sorted(USERNAMES)
    assert run.report["ok"] is True and run.report["dry_run"] is False
    assert (run.progress_done, run.progress_total) == (3, 3)
    assert User.objects.filter(username__in=USERNAMES).count() == 3


def test_a_run_that_breaks_is_failed_with_its_error_and_writes_nothing(importer, media):
    run = runs.start_import(
        user=importer, kind="users", upload=upload("users.csv", USERS_CSV), dry_run=False
    )
    (media / run.file.name).unlink()  # the stored file is gone before the worker reads it
    assert runs.run_import(run_id=run.pk) == ImportRun.Status.FAILED
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "No such file" in run.error
    assert run.finished_at is not None and run.report is None
    assert not User.objects.filter(username__in=USERNAMES).exists()


def test_stalled_runs_are_queued_again_and_claimed_once(
    importer, media, django_capture_on_commit_callbacks
):
    lost = runs.start_import(
        user=importer, kind="users", upload=upload("users.csv", USERS_CSV), dry_run=False
    )
    busy = runs.start_import(
        user=importer, kind="users", upload=upload("b.csv", REFUSED_CSV), dry_run=True
    )
    now = timezone.now()
    ImportRun.objects.filter(pk=lost.pk).update(created_at=now - runs.STALLED * 2)
    # A run whose worker still reports progress is left alone, by the beat and by the claim.
    ImportRun.objects.filter(pk=busy.pk).update(
        status=ImportRun.Status.RUNNING, progress_at=now, created_at=now - runs.STALLED * 2
    )
    with django_capture_on_commit_callbacks() as queued:
        assert runs.resume_stalled_imports(now=now) == 1
    assert len(queued) == 1
    assert runs.run_import(run_id=busy.pk) == "skipped"
    assert runs.run_import(run_id=lost.pk) == ImportRun.Status.DONE
    # A worker that died mid-run: no progress for longer than STALLED, so it is run again.
    ImportRun.objects.filter(pk=busy.pk).update(progress_at=now - runs.STALLED * 2)
    assert runs.resume_stalled_imports() == 1
    assert runs.run_import(run_id=busy.pk) == ImportRun.Status.REFUSED


def test_a_clean_dry_run_is_run_for_real_from_the_stored_file(
    page, importer, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        page.post(
            add_url(), {"kind": "users", "file": upload("users.csv", USERS_CSV), "dry_run": "on"}
        )
    dry = ImportRun.objects.get()
    assert runs.run_import(run_id=dry.pk) == ImportRun.Status.DONE
    assert not User.objects.filter(username__in=USERNAMES).exists()  # a dry run writes nothing

    body = page.get(run_url(dry)).content.decode()
    assert 'data-testid="count-created">3<' in body
    assert 'data-testid="count-refused">0<' in body
    assert "What a real run would do" in body
    assert 'data-testid="run-for-real"' in body

    for_real = reverse("admin:rollout_importrun_for_real", args=[dry.pk])
    with django_capture_on_commit_callbacks() as queued:
        response = page.post(for_real)
    real = ImportRun.objects.exclude(pk=dry.pk).get()
    assert response["Location"] == run_url(real)
    assert len(queued) == 1
    assert (real.dry_run, real.dry_run_of, real.file.name) == (False, dry, dry.file.name)
    assert runs.run_import(run_id=real.pk) == ImportRun.Status.DONE
    assert User.objects.filter(username__in=USERNAMES).count() == 3
    assert "What the run did" in page.get(run_url(real)).content.decode()

    # Asked for once only: the button is gone and a second POST changes nothing.
    body = page.get(run_url(dry)).content.decode()
    assert 'data-testid="run-for-real"' not in body
    assert run_url(real) in body
    response = page.post(for_real, follow=True)
    assert "This dry run has already been run for real." in response.content.decode()
    assert ImportRun.objects.count() == 2


def test_a_refused_run_keeps_every_refusal_and_its_page_shows_them(page, importer, media):
    with translation.override("en"):
        run = runs.start_import(
            user=importer, kind="users", upload=upload("a.csv", REFUSED_CSV), dry_run=True
        )
    runs.run_import(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.REFUSED
    assert run.started_at <= run.finished_at
    errors = run.report["errors"]
    assert {(error["line"], error["column"]) for error in errors} == {
        (2, "username"),
        (2, "email"),
    }

    response = page.get(run_url(run))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="count-refused">2<' in body
    assert 'data-testid="count-created">0<' in body
    for error in errors:
        assert error["message"] in body
        assert f"<td>{error['column']}</td>" in body
    # Refused: nothing to run for real, and the page no longer polls.
    assert 'data-testid="run-for-real"' not in body
    assert "hx-get" not in body
    chinese = page.get(run_url(run), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 200
    assert 'data-testid="count-refused">2<' in chinese.content.decode()


def test_a_running_runs_bar_shows_the_workers_latest_figure(page, importer, media):
    """The worker's figure reaches the page through the cache before the engine commits."""
    run = runs.start_import(
        user=importer, kind="users", upload=upload("a.csv", USERS_CSV), dry_run=True
    )
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    cache.set(run_selectors.progress_key(run.pk), (1200, 5000))
    try:
        response = page.get(reverse("admin:rollout_importrun_progress", args=[run.pk]))
    finally:
        cache.delete(run_selectors.progress_key(run.pk))
    body = response.content.decode()
    assert "1200 of 5000 rows checked (24%)" in body
    assert '<progress value="1200" max="5000"' in body
    assert 'hx-trigger="every 1s"' in body


def test_the_progress_fragment_polls_until_the_run_ends_then_reloads_the_page(
    page, importer, media
):
    run = runs.start_import(
        user=importer, kind="users", upload=upload("a.csv", REFUSED_CSV), dry_run=True
    )
    url = reverse("admin:rollout_importrun_progress", args=[run.pk])
    response = page.get(url, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'hx-trigger="every 1s"' in body
    assert "HX-Refresh" not in response
    assert page.get(run_url(run)).content.decode().count("vendor/htmx/htmx.min.js") == 1

    runs.run_import(run_id=run.pk)
    response = page.get(url, headers={"HX-Request": "true"})
    assert response["HX-Refresh"] == "true"
    assert "hx-trigger" not in response.content.decode()


def test_progress_is_written_at_most_every_second_and_at_the_end(
    importer, media, django_assert_num_queries
):
    run = runs.start_import(
        user=importer, kind="users", upload=upload("a.csv", REFUSED_CSV), dry_run=True
    )
    progress = runs._progress(run.pk)
    with django_assert_num_queries(1):
        for done in range(1, 500):
            progress(done, 1000)  # the first call writes, the rest within the second do not
    run.refresh_from_db()
    assert (run.progress_done, run.progress_total) == (1, 1000)
    with django_assert_num_queries(1):
        progress(1000, 1000)  # the last row always
    run.refresh_from_db()
    assert (run.progress_done, run.progress_total) == (1000, 1000)
    assert run_selectors.live_progress(run) == (1000, 1000)


# --- downloads ------------------------------------------------------------------------------


def test_every_template_and_export_downloads_as_a_file(page, importer, media):
    runs.run_import(
        run_id=runs.start_import(
            user=importer, kind="users", upload=upload("users.csv", USERS_CSV), dry_run=False
        ).pk
    )
    listed = page.get(add_url()).content.decode()
    for kind in ImportRun.Kind.values:
        formats = ["geojson"] if kind in ("regions", "grids") else ["csv", "xlsx"]
        for fmt in formats:
            for language in ("zh-hans", "en"):
                url = reverse("admin:rollout_importrun_template", args=[kind, fmt, language])
                assert url in listed
                response = page.get(url)
                assert response.status_code == 200, url
                assert response["Content-Disposition"].startswith("attachment; filename=")
                assert f".{fmt}" in response["Content-Disposition"]
                assert response.content
            url = reverse("admin:rollout_importrun_export", args=[kind, fmt])
            assert url in listed
            response = page.get(url)
            assert response.status_code == 200, url
            assert response["Content-Disposition"].startswith("attachment; filename=")
    chinese = page.get(
        reverse("admin:rollout_importrun_template", args=["users", "csv", "zh-hans"])
    )
    english = page.get(reverse("admin:rollout_importrun_template", args=["users", "csv", "en"]))
    assert "用户名" in chinese.content.decode("utf-8-sig")
    assert english.content.decode("utf-8-sig").startswith("username")
    exported = page.get(reverse("admin:rollout_importrun_export", args=["users", "csv"]))
    assert all(name in exported.content.decode("utf-8-sig") for name in USERNAMES)
    # A kind or format that does not exist is a 404, not a file.
    assert (
        page.get(reverse("admin:rollout_importrun_export", args=["grids", "csv"])).status_code
        == 404
    )
    assert (
        page.get(reverse("admin:rollout_importrun_export", args=["people", "csv"])).status_code
        == 404
    )


# --- a real worker --------------------------------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_celery_worker_runs_the_upload_once_though_the_task_comes_twice(
    tmp_path, settings, monkeypatch
):
    media = tmp_path / "shared-media"
    settings.MEDIA_ROOT = media
    monkeypatch.setenv("MEDIA_ROOT", str(media))  # the worker reads the same disk
    importer = UserFactory(username="importer", is_staff=True)
    importer.user_permissions.add(Permission.objects.get(codename="add_importrun"))
    importer = User.objects.get(pk=importer.pk)

    with (
        isolated_broker(tmp_path) as broker,
        running_workers(count=1, broker=broker, tmp_path=tmp_path) as (worker,),
        celery_conf(task_default_queue=broker.queue, task_always_eager=False),
    ):
        run = runs.start_import(
            user=importer, kind="users", upload=upload("users.csv", USERS_CSV), dry_run=False
        )
        tasks.run_import.delay(run.pk)  # the broker delivers it a second time
        wait_for(
            lambda: len(worker.results("rollout.tasks.run_import")) == 2,
            timeout=120,
            what=f"the worker to take both messages:\n{worker.log()}",
        )
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE, run.error
    assert sorted(worker.results("rollout.tasks.run_import")) == ["'done'", "'skipped'"]
    assert sorted(run.report["created"]) == sorted(USERNAMES)
    assert (run.progress_done, run.progress_total) == (3, 3)
    assert run.started_at <= run.finished_at
    assert User.objects.filter(username__in=USERNAMES).count() == 3
