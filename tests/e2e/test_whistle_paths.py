"""The other roads a whistle takes, in real browsers: rejected with a reason and a place to go
instead, sent back for rework after a failed check, warned as a possible duplicate before it is
sent, submitted twice, and opened by a grid worker of another village."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Case, Dispatch, Event, Status
from cases.services import (
    accept_case,
    file_whistle,
    report_in,
    resolve_case,
    whistle_to_town,
)
from tests.e2e.helpers import (
    case_id_from_url,
    fill_whistle_form,
    messages_text,
    shot,
    status_badge,
    submit,
    submit_whistle,
)
from tests.e2e.helpers import jpeg as write_jpeg

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def filed(org, *, description: str = "Rubbish by the school gate", near=None) -> Case:
    """A whistle of the grid worker, filed through the service (the test is about what follows)."""
    latitude, longitude = near or (30.5002, 120.7003)
    return file_whistle(
        user=org.grid_worker,
        item=org.item,
        description=description,
        grid=org.grid,
        latitude=latitude,
        longitude=longitude,
    ).case


def resolved_by_the_town(org, tmp_path) -> Case:
    """A case the captain has resolved with a photo, waiting for the grid worker's check."""
    case = filed(org)
    accept_case(user=org.village_officer, case_id=case.pk)
    whistle_to_town(user=org.village_officer, case_id=case.pk)
    dispatch = Dispatch.objects.get(case=case, team=org.team)
    report_in(user=org.captain, dispatch_id=dispatch.pk)
    evidence = write_jpeg(tmp_path / "evidence.jpg")
    resolve_case(
        user=org.captain,
        case_id=case.pk,
        note="Cleared",
        photos=[SimpleUploadedFile("evidence.jpg", evidence.read_bytes(), "image/jpeg")],
    )
    case.refresh_from_db()
    assert case.status == Status.RESOLVED
    return case


def test_rejected_whistle_tells_the_grid_worker_why_and_where_to_go(browsing, org):
    case = filed(org, description="My neighbour owes me 5,000 yuan")
    reason = "A civil dispute, not a matter for whistling."
    redirect = "The people's mediation committee of the village"

    officer = browsing.page("vo")
    officer.goto("/village/inbox/")
    officer.get_by_test_id(f"case-{case.number}").get_by_test_id("reject").click()
    form = officer.get_by_test_id("form-reject")
    shot(officer, "en-20-reject-form")
    # No reason: refused next to the field, nothing changes.
    submit(officer, form.get_by_test_id("submit-reject"))
    assert officer.locator(".field-error").count() >= 1
    case.refresh_from_db()
    assert case.status == Status.FILED
    shot(officer, "en-21-reject-form-error")

    form = officer.get_by_test_id("form-reject")
    form.locator("[name=reason]").fill(reason)
    form.locator("[name=redirect]").fill(redirect)
    submit(officer, form.get_by_test_id("submit-reject"))
    officer.wait_for_url("**/village/inbox/**")
    assert messages_text(officer)
    case.refresh_from_db()
    assert case.status == Status.REJECTED
    assert (case.rejection_reason, case.redirect) == (reason, redirect)

    worker = browsing.page("gw")
    worker.goto("/my/cases/")
    card = worker.get_by_test_id("filed").get_by_test_id(f"case-{case.number}")
    assert "rejected" in card.inner_text()
    card.get_by_role("link", name=case.number).click()
    worker.wait_for_url(f"**/cases/{case.pk}/")
    assert status_badge(worker) == Status.REJECTED
    main = worker.locator("main").inner_text()
    assert reason in main
    assert redirect in main
    shot(worker, "en-22-case-rejected")


def test_failed_check_sends_the_case_back_for_rework(browsing, org, photo, tmp_path):
    case = resolved_by_the_town(org, tmp_path)
    reason = "Half of the rubbish is still there"

    worker = browsing.page("gw")
    worker.goto("/my/cases/")
    worker.get_by_test_id("to-verify").get_by_test_id(f"case-{case.number}").get_by_test_id(
        "verify-fail"
    ).click()
    form = worker.get_by_test_id("form-verify")
    form.locator("input[name=passed][value='0']").check()
    form.locator("[name=reason]").fill(reason)
    form.locator("[name=photos]").set_input_files([str(photo("still-dirty"))])
    shot(worker, "en-30-verify-fail-form")
    submit(worker, form.get_by_test_id("submit-verify"))
    worker.wait_for_url("**/my/cases/**")
    assert messages_text(worker)

    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
    assert case.rework_count == 1
    fail = Event.objects.get(case=case, action="verify_fail")
    assert fail.data["reason"] == reason
    assert case.attachments.filter(purpose="verification").count() == 1
    # The captain finds it back on the board, reported in again.
    captain = browsing.page("cap", phone=False)
    captain.goto("/board/")
    row = captain.locator("tr[data-testid^='dispatch-']", has_text=case.number)
    assert row.get_by_test_id("resolve").count() == 1
    captain.goto(f"/cases/{case.pk}/")
    assert status_badge(captain) == Status.IN_PROGRESS
    assert reason in captain.get_by_test_id("timeline").inner_text()
    shot(captain, "en-31-case-rework")


def test_nearby_open_case_is_shown_before_submitting(browsing, org, photo):
    earlier = filed(org, near=(30.5003, 120.7004))

    worker = browsing.page("gw", geolocation=(30.5001, 120.7002))
    fill_whistle_form(
        worker, item_search="SAN-01", description="Rubbish again", photos=[photo("again")]
    )
    warning = worker.get_by_test_id("nearby-warning")
    warning.wait_for()
    assert earlier.number in warning.inner_text()
    assert Case.objects.count() == 1  # only a warning: nothing is filed yet
    shot(worker, "en-40-file-form-nearby-warning")

    case_id = submit_whistle(worker)
    second = Case.objects.get(pk=case_id)
    assert second.pk != earlier.pk
    assert second.possible_duplicate_of_id == earlier.pk
    assert earlier.number in worker.get_by_test_id("duplicate-warning").inner_text()

    officer = browsing.page("vo")
    officer.goto("/village/inbox/")
    card = officer.get_by_test_id(f"case-{second.number}")
    assert earlier.number in card.get_by_test_id("duplicate-warning").inner_text()
    shot(officer, "en-41-village-inbox-duplicate")


def test_a_repeated_submit_files_one_case(browsing, org, photo):
    worker = browsing.page("gw", geolocation=(30.5001, 120.7002))

    # The request reaches the server but the answer is lost: the phone keeps the whistle as a
    # draft with its idempotency key, and the retry gets the case the first submit filed. (No
    # photo here: Chromium does not hand an intercepted request's file contents to the test.)
    fill_whistle_form(worker, item_search="SAN-01", description="Blocked drain")
    key = worker.locator("#id_idempotency_key").input_value()

    def lose_the_answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        assert route.fetch().status == 204  # filed; the phone never hears of it
        route.abort("internetdisconnected")

    worker.route("**/cases/new/", lose_the_answer)
    worker.get_by_test_id("submit-whistle").click()
    worker.get_by_test_id("draft").wait_for()
    assert "kept on this phone" in worker.locator("#submit-status").inner_text()
    assert Case.objects.count() == 1
    first = Case.objects.get()
    # The form is ready for the next whistle, with a key of its own.
    assert worker.locator("#id_idempotency_key").input_value() not in ("", key)
    shot(worker, "en-50-file-form-network-lost")

    # The next page opened sends what waits; the server knows the key: no second case.
    worker.unroute("**/cases/new/")
    worker.reload()
    worker.evaluate("() => window.WhistleApp.sending")
    assert (
        worker.evaluate(
            "() => window.WhistleDrafts.list(window.WhistleApp.config.user).then((l) => l.length)"
        )
        == 0
    )
    assert Case.objects.count() == 1
    worker.reload()
    assert first.number in messages_text(worker)  # "already filed as ..."

    # Two quick taps on the button of a fresh form file one more case, not two.
    fill_whistle_form(
        worker, item_search="SAN-01", description="Another pile", photos=[photo("pile")]
    )
    worker.get_by_test_id("submit-whistle").dblclick()
    worker.wait_for_url(re.compile(r"/cases/\d+/$"))
    assert case_id_from_url(worker.url) != first.pk
    worker.wait_for_load_state("networkidle")
    assert Case.objects.count() == 2


def test_grid_worker_of_another_village_gets_not_found(browsing, org):
    case = filed(org)
    stranger = browsing.page("gw2")
    for url in (f"/cases/{case.pk}/", f"/cases/{case.pk}/act/verify/"):
        response = stranger.goto(url)
        assert response.status == 404, url
        assert case.number not in stranger.content()
    shot(stranger, "en-60-case-not-found")
