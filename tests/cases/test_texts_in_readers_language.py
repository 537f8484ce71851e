"""System texts are stored as codes and parameters and read in the reader's language (issue 19,
item 12): a merged duplicate's reason, the common reasons for rejection, and the notices that
carry them. Texts stored before (prose in the writer's language) still read as written."""

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import Case, Notification, Status
from cases.notifications import render
from cases.services import merge_case, reject_case
from tests.cases.engine_steps import LAT, file_case

pytestmark = pytest.mark.django_db

ZH = "zh-hans"


def _two_whistles(org) -> tuple[Case, Case]:
    first = file_case(org)
    duplicate = file_case(org, latitude=LAT + 0.0005)
    return first, duplicate


def test_a_merge_written_in_english_reads_in_chinese_for_a_chinese_grid_worker(org):
    first, duplicate = _two_whistles(org)
    with translation.override("en"):
        merge_case(user=org.village_officer, case_id=duplicate.pk, into_case_id=first.pk)
    duplicate = Case.objects.get(pk=duplicate.pk)
    assert duplicate.rejection_code == "merged"
    assert "Duplicate" not in duplicate.rejection_reason  # no prose of the writer stored

    notice = Notification.objects.get(recipient=org.grid_worker, kind="case_rejected")
    _subject, zh_body = render(notice, ZH)
    assert f"与 {first.number} 重复。" in zh_body
    assert "Duplicate of" not in zh_body
    _subject, en_body = render(notice, "en")
    assert f"Duplicate of {first.number}." in en_body

    with translation.override(ZH):
        assert duplicate.reason_for_rejection() == f"与 {first.number} 重复。"
    with translation.override("en"):
        assert duplicate.reason_for_rejection() == f"Duplicate of {first.number}."


def test_a_common_reason_is_stored_as_its_code_and_read_in_each_language(client, org):
    case = file_case(org)
    client.force_login(org.village_officer)
    response = client.post(
        reverse("cases:act", args=[case.pk, "reject"]),
        {"version": case.version, "common_reason": "dispute", "reason": "", "redirect": "Court"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.rejection_code, case.rejection_reason) == (
        Status.REJECTED,
        "dispute",
        "",
    )
    assert case.events.get(action="reject").data["reason_code"] == "dispute"

    notice = Notification.objects.get(recipient=org.grid_worker, kind="case_rejected")
    assert "属于民事或经济纠纷，不适用吹哨。" in render(notice, ZH)[1]
    assert "A civil or economic dispute: not for whistling." in render(notice, "en")[1]

    client.force_login(org.grid_worker)
    detail = reverse("cases:detail", args=[case.pk])
    zh_page = client.get(detail, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "属于民事或经济纠纷，不适用吹哨。" in zh_page
    assert "A civil or economic dispute" not in zh_page
    en_page = client.get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "A civil or economic dispute: not for whistling." in en_page


def test_a_common_reason_with_own_words_keeps_both(org):
    case = file_case(org)
    case = reject_case(
        user=org.village_officer,
        case_id=case.pk,
        reason="Ask the township court",
        reason_code="not_on_list",
    )
    case = Case.objects.get(pk=case.pk)
    assert (case.rejection_code, case.rejection_reason) == ("not_on_list", "Ask the township court")
    with translation.override("en"):
        assert case.reason_for_rejection() == (
            "The matter is not on the whistle list.\nAsk the township court"
        )


def test_an_unknown_reason_code_is_refused_and_changes_nothing(org):
    from cases.errors import InvalidInput

    case = file_case(org)
    with pytest.raises(InvalidInput):
        reject_case(user=org.village_officer, case_id=case.pk, reason="", reason_code="merged")
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.rejection_code) == (Status.FILED, "")


def test_texts_stored_before_still_read_as_written(org):
    case = file_case(org)
    Case.objects.filter(pk=case.pk).update(
        status=Status.REJECTED, rejection_reason="Duplicate of HN-2025-000001."
    )
    case = Case.objects.get(pk=case.pk)
    with translation.override(ZH):
        assert case.reason_for_rejection() == "Duplicate of HN-2025-000001."
    old = Notification.objects.create(
        recipient=org.grid_worker,
        case=case,
        kind="case_rejected",
        data={"reason": "Old words of the officer"},
        created_at=timezone.now(),
    )
    assert "Old words of the officer" in render(old, ZH)[1]
