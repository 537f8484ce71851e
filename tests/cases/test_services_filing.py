"""Filing a whistle: numbers, tracking codes, the grid, who may file, screening, duplicates,
idempotency, photos, the screening clock and the village's notification."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from cases.errors import InvalidInput, NotAllowed, ScreeningRefused
from cases.models import (
    Attachment,
    Case,
    CaseSequence,
    Deadline,
    Event,
    IdempotencyKey,
    Notification,
    Source,
    Status,
)
from cases.services import file_whistle, merge_case
from cases.services.filing import TRACKING_ALPHABET
from checklists.models import Item, ScreeningRule, Stage, TimeUnit
from tests.cases.engine_steps import LAT, LNG, T0, actions, at, file_case, kinds_for, png
from tests.factories import CityFactory, GridFactory, TownFactory, VillageFactory, square_polygon


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def nothing_created() -> None:
    assert Case.objects.count() == 0
    assert Event.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert Deadline.objects.count() == 0
    assert Notification.objects.count() == 0


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# --- numbers, tracking codes, the grid ------------------------------------------------------


def test_numbers_count_per_city_and_year(org, time_machine):
    first = file_case(org)
    second = file_case(org, latitude=LAT + 0.003)
    assert (first.number, second.number) == ("HN-2025-000001", "HN-2025-000002")

    # Another city has its own count; the hotline files without a user.
    other_city = CityFactory(code="JX")
    other_grid = GridFactory(
        village=VillageFactory(parent=TownFactory(parent=other_city)),
        polygon=square_polygon(121.50, 31.00),
    )
    hotline = file_whistle(
        user=None,
        source=Source.HOTLINE,
        item=org.item,
        description="Rubbish at the market",
        latitude=31.00,
        longitude=121.50,
    ).case
    assert hotline.number == "JX-2025-000001"
    assert hotline.grid == other_grid and hotline.reporter is None
    assert hotline.events.get().actor_label == Source.HOTLINE

    # A new year starts again at 1.
    time_machine.move_to(at(2026, 1, 6, 9, 0), tick=False)
    assert file_case(org, latitude=LAT - 0.003).number == "HN-2026-000001"
    assert CaseSequence.objects.get(city=org.city, year=2025).last == 2
    assert CaseSequence.objects.get(city=org.city, year=2026).last == 1


def test_the_stored_number_is_the_number_returned_also_past_six_digits(org):
    file_case(org)
    CaseSequence.objects.filter(city=org.city, year=2025).update(last=999_998)
    numbers = [file_case(org, latitude=LAT + 0.001 * n).number for n in (1, 2)]
    assert numbers == ["HN-2025-999999", "HN-2025-1000000"]
    assert set(Case.objects.values_list("number", flat=True)) >= set(numbers)


def test_tracking_code_is_random_16_characters(org):
    codes = {file_case(org, latitude=LAT + 0.001 * n).tracking_code for n in range(3)}
    assert len(codes) == 3
    for code in codes:
        assert len(code) == 16
        assert set(code) <= set(TRACKING_ALPHABET)


def test_the_grid_comes_from_the_location(org):
    case = file_case(org)
    assert case.grid == org.grid
    assert (case.village, case.town, case.city) == (org.village, org.town, org.city)
    assert (case.status, case.level, case.version) == (Status.FILED, "village", 1)
    assert case.reporter == org.grid_worker and case.source == Source.GRID_WORKER
    event = case.events.get()
    assert (event.action, event.actor, event.to_status, event.public) == (
        "file",
        org.grid_worker,
        Status.FILED,
        True,
    )


def test_a_place_outside_every_grid_is_refused(org):
    with pytest.raises(InvalidInput) as error:
        file_case(org, latitude=10.0, longitude=10.0)
    assert "location" in error.value.fields
    nothing_created()


# --- who may file ---------------------------------------------------------------------------


def test_grid_worker_cannot_file_outside_their_villages(org):
    with pytest.raises(NotAllowed):
        file_case(org, latitude=30.50, longitude=120.80)  # org.other_grid, the other village
    nothing_created()
    # The other village's own grid worker may.
    case = file_case(org, user=org.other_grid_worker, latitude=30.50, longitude=120.80)
    assert case.grid == org.other_grid


@pytest.mark.parametrize("role", ["village_officer", "captain", "supervisor"])
def test_only_grid_workers_file_as_grid_workers(org, role):
    with pytest.raises(NotAllowed):
        file_case(org, user=getattr(org, role))
    nothing_created()


def test_grid_worker_source_needs_a_user(org):
    with pytest.raises(NotAllowed):
        file_case(org, user=None)
    nothing_created()


# --- screening ------------------------------------------------------------------------------


def test_an_item_that_is_not_for_whistling_is_refused_with_its_redirect(org):
    Item.objects.filter(pk=org.item.pk).update(
        whistleable=False,
        redirect_en="Call the sanitation company.",
        redirect_zh="请联系环卫公司。",
    )
    org.item.refresh_from_db()
    with translation.override("en"), pytest.raises(ScreeningRefused) as error:
        file_case(org)
    assert error.value.redirect == "Call the sanitation company."
    assert error.value.fields == {"redirect": "Call the sanitation company."}
    assert "Exposed garbage" in str(error.value.message)
    assert error.value.http_status == 400
    nothing_created()


@pytest.mark.parametrize(
    ("language", "description"),
    [("zh-hans", "邻居借款三万元一直不还，请帮忙处理"), ("en", "My neighbour's LOAN not repaid")],
)
def test_an_economic_dispute_is_refused_and_nothing_is_created(org, language, description):
    file_case(org)  # the city's sequence exists and stands at 1
    before = (Case.objects.count(), Event.objects.count(), Notification.objects.count())
    rule = ScreeningRule.objects.get(code="economic_dispute")
    with translation.override(language):
        with pytest.raises(ScreeningRefused) as error:
            file_case(org, description=description, latitude=LAT + 0.003)
        assert str(error.value.message) == rule.reason
        assert error.value.redirect == rule.redirect
    assert error.value.redirect
    assert (Case.objects.count(), Event.objects.count(), Notification.objects.count()) == before
    assert CaseSequence.objects.get(city=org.city).last == 1
    assert Deadline.objects.count() == 1


def test_an_inactive_rule_does_not_refuse(org):
    ScreeningRule.objects.filter(code="economic_dispute").update(active=False)
    assert file_case(org, description="loan not repaid, and garbage everywhere").pk


# --- possible duplicates and merging -----------------------------------------------------------


def test_a_second_whistle_nearby_is_flagged_as_a_possible_duplicate(org, time_machine):
    first = file_case(org)
    time_machine.move_to(T0 + timedelta(hours=71), tick=False)
    result = file_whistle(
        user=org.grid_worker,
        item=org.item,
        description="Same heap",
        latitude=LAT + 0.001,  # about 111 m north
        longitude=LNG,
    )
    assert result.possible_duplicate == first
    assert result.case.possible_duplicate_of == first
    assert result.case.events.get().data == {"possible_duplicate": first.number}


def test_far_away_later_or_another_item_is_not_a_duplicate(org, time_machine):
    file_case(org)
    far = file_case(org, latitude=LAT + 0.003)  # about 333 m
    other_item = file_case(org, item=Item.objects.get(code="SAN-02"))
    time_machine.move_to(T0 + timedelta(hours=73), tick=False)
    later = file_case(org, latitude=LAT, longitude=LNG + 0.0005)
    for case in (far, other_item):
        assert case.possible_duplicate_of is None
        assert case.events.get().data == {}
    # After the window the first one no longer counts; `far` (filed at T0 too) neither.
    assert later.possible_duplicate_of is None


def test_merging_a_duplicate_rejects_it_into_the_first_case(org):
    first = file_case(org)
    duplicate = file_case(org, latitude=LAT + 0.0005)
    assert duplicate.possible_duplicate_of == first
    merged = merge_case(
        user=org.village_officer,
        case_id=duplicate.pk,
        into_case_id=first.pk,
        expected_version=duplicate.version,
    )
    merged.refresh_from_db()
    assert merged.status == Status.REJECTED
    assert merged.merged_into == first
    assert merged.rejection_code == "merged"  # read as "Duplicate of <number>." by each reader
    assert first.number in merged.reason_for_rejection()
    event = merged.events.get(action="reject")
    assert event.data["merged_into"] == first.number
    assert event.actor == org.village_officer
    assert "case_rejected" in kinds_for(org.grid_worker, merged)
    assert not merged.deadlines.filter(met_at__isnull=True).exists()
    # The first case is untouched.
    first.refresh_from_db()
    assert (first.status, first.version) == (Status.FILED, 1)


def test_merging_needs_an_open_case_of_the_village_and_the_officer(org):
    first = file_case(org)
    duplicate = file_case(org, latitude=LAT + 0.0005)
    with pytest.raises(InvalidInput):
        merge_case(user=org.village_officer, case_id=duplicate.pk, into_case_id=duplicate.pk)
    with pytest.raises(NotAllowed):
        merge_case(user=org.captain, case_id=duplicate.pk, into_case_id=first.pk)
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into, duplicate.version) == (Status.FILED, None, 1)
    assert actions(duplicate) == ["file"]


# --- idempotency --------------------------------------------------------------------------


def test_the_same_idempotency_key_files_once(org):
    first = file_whistle(
        user=org.grid_worker,
        item=org.item,
        description="Garbage",
        latitude=LAT,
        longitude=LNG,
        idempotency_key="phone-42",
    )
    again = file_whistle(
        user=org.grid_worker,
        item=org.item,
        description="Garbage",
        latitude=LAT,
        longitude=LNG,
        idempotency_key="phone-42",
    )
    assert first.created and not again.created
    assert again.case.pk == first.case.pk
    assert Case.objects.count() == 1
    assert Event.objects.count() == 1
    assert IdempotencyKey.objects.get().case == first.case
    # Another key files another case.
    other = file_case(org, idempotency_key="phone-43")
    assert other.pk != first.case.pk and Case.objects.count() == 2


# --- photos ---------------------------------------------------------------------------------


def test_a_photo_is_stored_as_an_attachment_of_the_file_event(org, tmp_path):
    case = file_case(org, photos=[png("heap.png")])
    attachment = Attachment.objects.get()
    assert attachment.case == case
    assert attachment.event == case.events.get(action="file")
    assert (attachment.kind, attachment.purpose, attachment.content_type) == (
        "photo",
        "filing",
        "image/png",
    )
    assert (attachment.width, attachment.height) == (16, 12)
    assert attachment.original_name == "heap.png"
    assert attachment.uploaded_by == org.grid_worker
    # A small photo is re-encoded in the request: the clean photo and its thumbnail.
    assert attachment.state == "ready"
    assert sorted(stored_files(tmp_path / "media")) == sorted(
        [tmp_path / "media" / attachment.file.name, tmp_path / "media" / attachment.thumbnail.name]
    )


def test_a_bad_upload_is_refused_and_nothing_is_stored(org, tmp_path):
    bad = SimpleUploadedFile("heap.png", b"this is not an image at all", content_type="image/png")
    with pytest.raises(InvalidInput) as error:
        file_case(org, photos=[png(), bad])
    assert "photos" in error.value.fields
    nothing_created()
    assert stored_files(tmp_path / "media") == []


# --- the screening clock and the village's inbox --------------------------------------------


def test_filing_starts_the_screening_clock(org):
    case = file_case(org)
    deadline = Deadline.objects.get(case=case)
    assert deadline.stage == Stage.SCREENING
    assert (deadline.amount, deadline.unit) == (30, TimeUnit.NATURAL_MINUTES)
    assert deadline.started_at == T0
    assert deadline.due_at == T0 + timedelta(minutes=30)
    assert deadline.warn_at == T0 + timedelta(minutes=24)
    assert deadline.dispatch is None
    assert (deadline.fired_at, deadline.met_at, deadline.paused_at) == (None, None, None)


def test_the_village_officers_are_told(org):
    case = file_case(org)
    notification = Notification.objects.get(recipient=org.village_officer)
    assert (notification.kind, notification.case) == ("case_filed", case)
    assert notification.data["number"] == case.number
    assert Notification.objects.count() == 1  # nobody else
    assert re.fullmatch(r"HN-2025-\d{6}", case.number)
