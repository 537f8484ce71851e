"""A public update in real browsers: the captain of a case in progress, whose handling note is
internal, posts a public update with a photo from the case page; the citizen following the
case on /track/ sees the update and its photo, and neither the handling note nor the
whistle's own photo."""

import pytest

from cases.models import Event
from cases.services import record_handling
from tests.cases.engine_steps import in_progress, png, team_dispatch
from tests.e2e.helpers import messages_text, shot, submit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HANDLING_NOTE = "Owner Li at no. 7 refuses to move the skip"
UPDATE = "Crews clear the bridge on Monday morning."


def test_the_citizen_sees_the_public_update_and_not_the_handling_note(browsing, org, photo):
    case = in_progress(org, photos=[png("filing.png")])
    record_handling(user=org.captain, dispatch_id=team_dispatch(case).pk, note=HANDLING_NOTE)

    # --- the captain posts a public update with a photo from the case page -------------------
    captain = browsing.page("cap", phone=False)
    captain.goto(f"/cases/{case.pk}/")
    handle = captain.locator("[data-testid=event][data-action=handle]")
    assert HANDLING_NOTE in handle.inner_text()
    assert handle.get_by_test_id("visibility").get_attribute("data-public") == "0"
    captain.get_by_test_id("post_update").click()
    form = captain.get_by_test_id("form-post_update")
    form.locator("[name=message]").fill(UPDATE)
    form.locator("[name=photos]").set_input_files([str(photo("progress"))])
    submit(captain, form.get_by_test_id("submit-post_update"))
    assert "The public update was posted." in messages_text(captain)
    update = captain.locator("[data-testid=event][data-action=public_update]")
    assert UPDATE in update.inner_text()
    assert update.get_by_test_id("visibility").first.get_attribute("data-public") == "1"
    shot(captain, "en-public-update-case-page")
    event = Event.objects.get(case=case, action="public_update")
    assert event.data == {"message": UPDATE}

    # --- the citizen looks the case up by its tracking code ----------------------------------
    citizen = browsing.page()
    citizen.goto("/track/")
    citizen.locator("#id_code").fill(case.tracking_code)
    submit(citizen, citizen.get_by_test_id("tracking-form").locator("button[type=submit]"))
    tracked = citizen.get_by_test_id("tracked-case")
    text = tracked.inner_text()
    assert UPDATE in text
    assert HANDLING_NOTE not in text
    assert HANDLING_NOTE not in citizen.content()
    assert citizen.get_by_test_id("public-update").inner_text().strip() == UPDATE
    photos = citizen.get_by_test_id("public-photo")
    assert photos.count() == 1  # the update's photo; the whistle's own photo stays internal
    image = photos.first.locator("img")
    image.scroll_into_view_if_needed()
    citizen.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=public-photo] img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    shot(citizen, "en-public-update-tracking")
