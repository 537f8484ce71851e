"""The organisation's import page in a real browser: upload a dry run, read its report, run it
for real; a queued run's progress bar polls (htmx) until the run ends, then the page shows the
report by itself."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile

from rollout import runs
from rollout.models import ImportRun
from teams.models import User
from tests.e2e.helpers import shot
from tests.factories import UserFactory
from tests.rollout.test_import_runs import USERNAMES, USERS_CSV

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def importer() -> User:
    user = UserFactory(username="importer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_importrun"))
    return user


def test_a_dry_run_then_the_real_run_through_the_page(browsing, importer, tmp_path):
    csv_file = tmp_path / "users.csv"
    csv_file.write_bytes(USERS_CSV)
    page = browsing.page("importer", phone=False)
    page.goto("/admin/rollout/importrun/add/")
    page.locator("#id_kind").select_option("users")
    page.locator("#id_file").set_input_files(str(csv_file))
    assert page.locator("#id_dry_run").is_checked()
    page.get_by_role("button", name="Upload and run").click()
    page.wait_for_load_state()
    # The tests' Celery runs the task at the commit, so the report is there at once.
    report = page.get_by_test_id("import-report")
    assert report.get_by_test_id("count-created").inner_text() == "3"
    assert "What a real run would do" in report.inner_text()
    assert not User.objects.filter(username__in=USERNAMES).exists()
    shot(page, "en-rollout-dry-run")

    page.get_by_role("button", name="Run it for real").click()
    page.wait_for_load_state()
    assert "What the run did" in page.get_by_test_id("import-report").inner_text()
    assert User.objects.filter(username__in=USERNAMES).count() == 3


def test_a_queued_runs_page_polls_until_its_report_is_there(browsing, importer):
    run = ImportRun(kind="users", filename="users.csv", dry_run=True, created_by=importer)
    run.file.save("users.csv", ContentFile(USERS_CSV))  # queued, no task sent
    page = browsing.page("importer", phone=False)
    page.goto(f"/admin/rollout/importrun/{run.pk}/change/")
    assert page.get_by_test_id("import-status").inner_text() == "queued"
    assert page.get_by_test_id("import-report").count() == 0

    assert runs.run_import(run_id=run.pk) == ImportRun.Status.DONE
    page.get_by_test_id("import-report").wait_for(timeout=10_000)
    assert page.get_by_test_id("import-status").inner_text() == "done"
    assert page.get_by_test_id("count-created").inner_text() == "3"
    assert page.locator("progress").get_attribute("value") == "3"
