"""The case detail page and every action endpoint, through the Django test client."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from cases.models import Attachment, Case, Deadline, Dispatch, Event, Postponement, Status
from cases.services import (
    accept_case,
    file_whistle,
    record_handling,
    report_in,
    request_consultation,
    request_postponement,
    resolve_case,
    verify_case,
    whistle_to_town,
)
from checklists.models import Stage

LAT, LNG = 30.50, 120.70


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png(name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 40, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf(name: str = "notice.pdf") -> SimpleUploadedFile:
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return SimpleUploadedFile(name, body, content_type="application/pdf")


# Steps through the real services.


def filed(org, **kwargs) -> Case:
    values = {
        "user": org.grid_worker,
        "item": org.item,
        "description": "Garbage piled beside the bridge",
        "grid": org.grid,
        "latitude": LAT,
        "longitude": LNG,
        "address": "Bridge road 1",
    }
    values.update(kwargs)
    return file_whistle(**values).case


def accepted(org) -> Case:
    case = filed(org)
    return accept_case(user=org.village_officer, case_id=case.pk)


def dispatched(org) -> Case:
    case = filed(org)
    return whistle_to_town(user=org.village_officer, case_id=case.pk)


def team_dispatch(case: Case) -> Dispatch:
    return case.dispatches.get(team__isnull=False)


def department_dispatch(case: Case) -> Dispatch:
    return case.dispatches.get(department__isnull=False)


def in_progress(org) -> Case:
    case = dispatched(org)
    report_in(user=org.captain, dispatch_id=team_dispatch(case).pk)
    return Case.objects.get(pk=case.pk)


def resolved(org) -> Case:
    case = in_progress(org)
    return resolve_case(user=org.captain, case_id=case.pk, note="Cleared", photos=[png()])


def closed(org) -> Case:
    case = resolved(org)
    return verify_case(user=org.grid_worker, case_id=case.pk, passed=True)


def in_consultation(org) -> Case:
    case = in_progress(org)
    return request_consultation(user=org.captain, case_id=case.pk, reason="Needs the committee")


def act_url(case: Case, action: str) -> str:
    return reverse("cases:act", args=[case.pk, action])


def dispatch_url(dispatch: Dispatch, action: str) -> str:
    return reverse("cases:dispatch_act", args=[dispatch.pk, action])


def detail_url(case: Case) -> str:
    return reverse("cases:detail", args=[case.pk])


def post(client, user, url: str, data: dict, **extra):
    """Post as the user; flash messages are stored in the language of the request."""
    client.force_login(user)
    extra.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
    return client.post(url, data, **extra)


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def actions_of(case: Case) -> list[str]:
    return list(case.events.order_by("created_at", "id").values_list("action", flat=True))


# The detail page.


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", ["Exposed garbage", "dispatched", "report-in"]), ("zh-hans", ["垃圾暴露", "已派遣"])],
)
def test_detail_renders_in_both_languages(client, org, language, words):
    case = dispatched(org)
    client.force_login(org.town_committee)
    response = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    for word in words:
        assert word in html
    assert case.number in html
    assert 'data-testid="timeline"' in html
    assert html.count('data-testid="event"') == case.events.count() == 2
    assert html.count('data-testid="dispatch"') == 2
    assert org.team.name_en in html or org.team.name_zh in html
    assert html.count('data-testid="deadline"') == Deadline.objects.filter(case=case).count()
    assert 'id="case-map-data"' in html
    assert "<script>" not in html.replace('<script id="case-map-data"', "")


def test_detail_shows_lights_with_labels_and_trace_data(client, org):
    case = dispatched(org)
    client.force_login(org.town_committee)
    html = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="light-badge light-green">green</span>' in html
    assert "whistled to the town" in html
    assert "Dispatched to" in html
    assert org.department.name_en in html
    assert "(filed → dispatched)" in html
    # The town sees its own actions only.
    assert 'data-testid="add_dispatch"' in html
    assert 'data-testid="cancel"' in html
    assert 'data-testid="accept"' not in html


def test_detail_shows_only_the_viewers_actions(client, org):
    case = filed(org)
    client.force_login(org.village_officer)
    html = client.get(detail_url(case)).content.decode()
    for action in ("accept", "reject", "whistle"):
        assert f'data-testid="{action}"' in html
    client.force_login(org.supervisor)
    html = client.get(detail_url(case)).content.decode()
    assert 'data-testid="accept"' not in html
    assert 'data-testid="reject"' not in html


def test_detail_warns_of_a_possible_duplicate(client, org):
    first = filed(org)
    second = filed(org)
    assert second.possible_duplicate_of_id == first.pk
    client.force_login(org.village_officer)
    html = client.get(detail_url(second)).content.decode()
    assert 'data-testid="duplicate-warning"' in html
    assert detail_url(first) in html
    assert 'data-testid="merge"' in html


def test_detail_tile_layer_is_optional(client, org, settings):
    case = filed(org)
    client.force_login(org.grid_worker)
    settings.WHISTLE_TILE_URL = ""
    html = client.get(detail_url(case)).content.decode()
    assert '"tileUrl": ""' in html
    assert '"polygon"' in html
    settings.WHISTLE_TILE_URL = "https://tiles.example/{z}/{x}/{y}.png"
    html = client.get(detail_url(case)).content.decode()
    assert "tiles.example" in html


def test_detail_queries_do_not_grow_with_the_trace(client, org):
    small = in_progress(org)
    big = in_progress(org)
    for number in range(17):
        record_handling(user=org.captain, dispatch_id=team_dispatch(big).pk, note=f"step {number}")
    assert small.events.count() <= 3 < 20 <= big.events.count()
    client.force_login(org.town_committee)
    counts = []
    for case in (small, big):
        client.get(detail_url(case))  # warm caches (session, content types)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(detail_url(case))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_detail_and_actions_are_not_found_outside_scope(client, org):
    case = dispatched(org)
    dispatch = team_dispatch(case)
    client.force_login(org.other_grid_worker)
    assert client.get(detail_url(case)).status_code == 404
    assert client.get(act_url(case, "accept")).status_code == 404
    assert client.post(act_url(case, "accept"), {"version": case.version}).status_code == 404
    assert client.get(dispatch_url(dispatch, "report_in")).status_code == 404
    assert (
        client.post(dispatch_url(dispatch, "report_in"), {"version": case.version}).status_code
        == 404
    )
    client.force_login(org.other_captain)
    assert client.get(detail_url(case)).status_code == 404
    assert fresh(case).version == case.version


def test_detail_requires_login(client, org):
    case = filed(org)
    response = client.get(detail_url(case))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_unknown_action_is_not_found(client, org):
    case = filed(org)
    client.force_login(org.village_officer)
    assert client.get(act_url(case, "fly")).status_code == 404
    assert client.get(dispatch_url(team_dispatch(dispatched(org)), "fly")).status_code == 404


# Case actions through cases:act.


def test_action_page_renders_the_form(client, org):
    case = filed(org)
    client.force_login(org.village_officer)
    response = client.get(act_url(case, "reject"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="version"' in html
    assert f'value="{case.version}"' in html
    assert 'name="reason"' in html
    assert 'name="redirect"' in html
    assert 'data-testid="submit-reject"' in html
    assert case.number in html


FORM_PAGES = [
    (filed, "village_officer", ["accept", "reject", "whistle"]),
    (accepted, "village_officer", ["resolve_on_spot", "whistle", "request_postponement"]),
    (in_progress, "captain", ["resolve", "request_consultation", "request_postponement"]),
    (in_progress, "town_committee", ["suspend", "add_dispatch"]),
    (in_consultation, "town_committee", ["decide", "escalate", "suspend", "add_dispatch"]),
    (resolved, "grid_worker", ["verify"]),
    (closed, "grid_worker", ["evaluate"]),
    (closed, "town_committee", ["reopen"]),
]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(("step", "who", "expected"), FORM_PAGES)
def test_every_action_form_renders(client, org, language, step, who, expected):
    case = step(org)
    user = getattr(org, who)
    client.force_login(user)
    html = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for action in expected:
        assert f'data-testid="{action}"' in html, action
        response = client.get(act_url(case, action), HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, action
        assert f'data-testid="submit-{action}"' in response.content.decode()


def test_htmx_get_renders_a_fragment(client, org):
    case = filed(org)
    client.force_login(org.village_officer)
    response = client.get(act_url(case, "reject"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="action-form-reject"' in html


def test_accept(client, org):
    case = filed(org)
    response = post(client, org.village_officer, act_url(case, "accept"), {"version": case.version})
    assert response.status_code == 302
    assert response["Location"] == detail_url(case)
    assert fresh(case).status == Status.VILLAGE_HANDLING
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The case was accepted." in page


def test_htmx_post_redirects_with_a_header(client, org):
    case = filed(org)
    response = post(
        client,
        org.village_officer,
        act_url(case, "accept"),
        {"version": case.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == detail_url(case)


def test_reject_with_a_common_reason(client, org):
    case = filed(org)
    response = post(
        client,
        org.village_officer,
        act_url(case, "reject"),
        {"version": case.version, "common_reason": "dispute", "reason": "", "redirect": "Court"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.status == Status.REJECTED
    # Stored as its code, read in the reader's language (issue 19, item 12).
    assert (case.rejection_code, case.rejection_reason) == ("dispute", "")
    assert case.redirect == "Court"


def test_reject_without_reason_changes_nothing(client, org):
    case = filed(org)
    response = post(
        client,
        org.village_officer,
        act_url(case, "reject"),
        {"version": case.version, "reason": " ", "redirect": "x"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_reason_error"' in html
    assert "Give the reason for rejection." in html
    assert "\nx</textarea>" in html
    assert fresh(case).status == Status.FILED
    assert fresh(case).version == case.version


def test_merge_into_the_possible_duplicate(client, org):
    first = filed(org)
    second = filed(org)
    client.force_login(org.village_officer)
    form = client.get(act_url(second, "merge")).content.decode()
    assert f'value="{first.number}"' in form
    response = client.post(
        act_url(second, "merge"), {"version": second.version, "into": first.number}
    )
    assert response.status_code == 302
    second = fresh(second)
    assert second.merged_into_id == first.pk
    assert second.status == Status.REJECTED


def test_merge_into_an_unknown_case(client, org):
    first = filed(org)
    second = filed(org)
    response = post(
        client,
        org.village_officer,
        act_url(second, "merge"),
        {"version": second.version, "into": "HN-1999-999999"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "No case with this number." in response.content.decode()
    assert fresh(second).status == Status.FILED
    assert first.status == Status.FILED


def test_whistle(client, org):
    case = filed(org)
    response = post(
        client,
        org.village_officer,
        act_url(case, "whistle"),
        {"version": case.version, "note": "Big"},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.status == Status.DISPATCHED
    assert case.dispatches.count() == 2


def test_resolve_on_spot_with_photo(client, org):
    case = accepted(org)
    response = post(
        client,
        org.village_officer,
        act_url(case, "resolve_on_spot"),
        {"version": case.version, "note": "Swept", "photos": [png("a.png"), png("b.png")]},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.status == Status.RESOLVED
    assert case.attachments.filter(purpose=Attachment.Purpose.EVIDENCE).count() == 2


def test_resolve_on_spot_without_evidence_changes_nothing(client, org):
    case = accepted(org)
    response = post(
        client,
        org.village_officer,
        act_url(case, "resolve_on_spot"),
        {"version": case.version, "note": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_photos_error"' in html
    assert "Add at least one photo" in html
    assert 'id="id_note_error"' in html
    assert fresh(case).status == Status.VILLAGE_HANDLING
    assert not case.attachments.exists()


def test_resolve_with_photo_then_shows_it(client, org):
    case = in_progress(org)
    response = post(
        client,
        org.captain,
        act_url(case, "resolve"),
        {"version": case.version, "note": "Cleared", "photos": [png()]},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.status == Status.RESOLVED
    photo = case.attachments.get()
    html = client.get(detail_url(case)).content.decode()
    assert reverse("cases:attachment", args=[photo.pk]) in html


def test_resolve_with_a_legal_instrument_only(client, org):
    case = in_progress(org)
    response = post(
        client,
        org.captain,
        act_url(case, "resolve"),
        {"version": case.version, "note": "", "legal_instrument_number": "HN-ZF-2025-12"},
    )
    assert response.status_code == 302
    assert fresh(case).legal_instrument_number == "HN-ZF-2025-12"


def test_verify_pass(client, org):
    case = resolved(org)
    response = post(
        client, org.grid_worker, act_url(case, "verify"), {"version": case.version, "passed": "1"}
    )
    assert response.status_code == 302
    assert fresh(case).status == Status.CLOSED


def test_verify_fail_needs_a_photo_and_a_reason(client, org):
    case = resolved(org)
    response = post(
        client,
        org.grid_worker,
        act_url(case, "verify"),
        {"version": case.version, "passed": "0", "reason": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "Say what is still wrong." in response.content.decode()
    assert fresh(case).status == Status.RESOLVED
    response = client.post(
        act_url(case, "verify"),
        {"version": case.version, "passed": "0", "reason": "Still there", "photos": [png()]},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.status == Status.IN_PROGRESS
    assert case.rework_count == 1


def test_evaluate(client, org):
    case = closed(org)
    response = post(
        client,
        org.grid_worker,
        act_url(case, "evaluate"),
        {"version": case.version, "satisfaction": "satisfied", "comment": "Quick"},
    )
    assert response.status_code == 302
    assert fresh(case).satisfaction == "satisfied"
    # Once evaluated, the action is gone.
    assert client.get(act_url(case, "evaluate")).status_code == 403


def test_suspend_and_resume(client, org):
    case = in_consultation(org)
    review = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = post(
        client,
        org.town_committee,
        act_url(case, "suspend"),
        {"version": case.version, "reason": "Waiting for the land survey", "review_on": review},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.status == Status.SUSPENDED
    html = client.get(detail_url(case)).content.decode()
    assert 'data-testid="resume"' in html
    response = client.post(act_url(case, "resume"), {"version": case.version})
    assert response.status_code == 302
    assert fresh(case).status == Status.IN_CONSULTATION


def test_suspend_with_a_past_review_date_changes_nothing(client, org):
    case = in_consultation(org)
    response = post(
        client,
        org.town_committee,
        act_url(case, "suspend"),
        {"version": case.version, "reason": "x", "review_on": "2000-01-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert 'id="id_review_on_error"' in response.content.decode()
    assert fresh(case).status == Status.IN_CONSULTATION


def test_request_consultation_then_escalate(client, org):
    case = in_progress(org)
    response = post(
        client,
        org.captain,
        act_url(case, "request_consultation"),
        {"version": case.version, "reason": "Land ownership unclear"},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.status == Status.IN_CONSULTATION
    response = post(
        client,
        org.town_committee,
        act_url(case, "escalate"),
        {"version": case.version, "reason": "City departments needed"},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.level == "city"
    assert actions_of(case)[-1] == "escalate"


def test_decide_consultation(client, org):
    case = in_consultation(org)
    due = timezone.localtime() + timedelta(days=3)
    response = post(
        client,
        org.town_committee,
        act_url(case, "decide"),
        {
            "version": case.version,
            "decision": "The department removes it",
            "department": org.department.pk,
            "task": "Remove the waste",
            "due_at": due.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    case = fresh(case)
    assert case.status == Status.IN_PROGRESS
    assert case.dispatches.filter(origin=Dispatch.Origin.DECISION).count() == 1


def test_reopen(client, org):
    case = closed(org)
    response = post(
        client,
        org.town_committee,
        act_url(case, "reopen"),
        {"version": case.version, "reason": "The garbage is back"},
    )
    assert response.status_code == 302
    assert fresh(case).status == Status.IN_PROGRESS


def test_add_dispatch(client, org):
    case = dispatched(org)
    team_dispatch(case)
    from tests.factories import TeamFactory

    second_team = TeamFactory(region=org.town, kind="professional")
    response = post(
        client,
        org.town_committee,
        act_url(case, "add_dispatch"),
        {"version": case.version, "team": second_team.pk, "task": "Bring a truck"},
    )
    assert response.status_code == 302
    assert case.dispatches.filter(team=second_team, task="Bring a truck").exists()


def test_add_dispatch_needs_one_handler(client, org):
    case = dispatched(org)
    response = post(
        client,
        org.town_committee,
        act_url(case, "add_dispatch"),
        {"version": case.version, "team": org.team.pk, "department": org.department.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "Choose one team or one department." in response.content.decode()
    assert case.dispatches.count() == 2


def test_add_dispatch_refuses_another_towns_team(client, org):
    case = dispatched(org)
    response = post(
        client,
        org.town_committee,
        act_url(case, "add_dispatch"),
        {"version": case.version, "team": org.other_team.pk},
    )
    assert response.status_code == 400
    assert case.dispatches.count() == 2


def test_request_postponement_and_approve(client, org):
    case = in_progress(org)
    deadline = Deadline.objects.get(case=case, stage=Stage.HANDLING, met_at__isnull=True)
    client.force_login(org.captain)
    html = client.get(detail_url(case)).content.decode()
    assert 'data-testid="request-postponement"' in html
    form = client.get(act_url(case, "request_postponement") + f"?deadline={deadline.pk}")
    assert form.status_code == 200
    response = client.post(
        act_url(case, "request_postponement"),
        {
            "version": case.version,
            "deadline": deadline.pk,
            "amount": 2,
            "unit": "working_hours",
            "reason": "The truck is broken",
        },
    )
    assert response.status_code == 302
    postponement = Postponement.objects.get(deadline=deadline)
    before = deadline.due_at

    client.force_login(org.town_committee)
    html = client.get(detail_url(case)).content.decode()
    assert 'data-testid="approve-postponement"' in html
    # The captain cannot decide.
    response = post(
        client,
        org.captain,
        reverse("cases:postponement_decide", args=[postponement.pk]),
        {"approve": "1"},
    )
    assert response.status_code == 403
    response = post(
        client,
        org.town_committee,
        reverse("cases:postponement_decide", args=[postponement.pk]),
        {"approve": "1", "note": "Once", "next": detail_url(case)},
    )
    assert response.status_code == 302
    postponement.refresh_from_db()
    deadline.refresh_from_db()
    assert postponement.decision == Postponement.Decision.APPROVED
    assert deadline.postponed
    assert deadline.due_at > before


def test_refuse_postponement(client, org):
    case = in_progress(org)
    deadline = Deadline.objects.get(case=case, stage=Stage.HANDLING, met_at__isnull=True)
    postponement = request_postponement(
        user=org.captain,
        case_id=case.pk,
        deadline_id=deadline.pk,
        amount=1,
        unit="working_days",
        reason="x",
    )
    response = post(
        client,
        org.town_committee,
        reverse("cases:postponement_decide", args=[postponement.pk]),
        {"approve": "0"},
    )
    assert response.status_code == 302
    postponement.refresh_from_db()
    assert postponement.decision == Postponement.Decision.REFUSED
    client.force_login(org.other_grid_worker)
    response = client.post(
        reverse("cases:postponement_decide", args=[postponement.pk]), {"approve": "1"}
    )
    assert response.status_code == 404


def test_postponement_decide_is_post_only(client, org):
    case = in_progress(org)
    deadline = Deadline.objects.get(case=case, stage=Stage.HANDLING, met_at__isnull=True)
    postponement = request_postponement(
        user=org.captain,
        case_id=case.pk,
        deadline_id=deadline.pk,
        amount=1,
        unit="working_days",
        reason="x",
    )
    client.force_login(org.town_committee)
    assert (
        client.get(reverse("cases:postponement_decide", args=[postponement.pk])).status_code == 405
    )


# Dispatch actions.


def test_report_in_assign_handle_resolve_part_and_cancel(client, org):
    case = dispatched(org)
    team, department = team_dispatch(case), department_dispatch(case)

    response = post(client, org.captain, dispatch_url(team, "report_in"), {"version": case.version})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.state == Dispatch.State.REPORTED
    assert fresh(case).status == Status.IN_PROGRESS

    case = fresh(case)
    form = client.get(dispatch_url(team, "assign")).content.decode()
    assert f'value="{org.member.pk}"' in form
    response = client.post(
        dispatch_url(team, "assign"), {"version": case.version, "assignee": org.member.pk}
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.assignee == org.member

    case = fresh(case)
    response = post(
        client,
        org.member,
        dispatch_url(team, "handle"),
        {"version": case.version, "note": "On site", "photos": [png()]},
    )
    assert response.status_code == 302
    assert "On site" in Dispatch.objects.get(pk=team.pk).handling_note
    assert Attachment.objects.filter(dispatch=team, purpose="handling").count() == 1

    case = fresh(case)
    response = post(
        client, org.liaison, dispatch_url(department, "report_in"), {"version": case.version}
    )
    assert response.status_code == 302
    case = fresh(case)
    response = client.post(
        dispatch_url(department, "resolve_part"),
        {"version": case.version, "note": "", "legal_instrument_number": "UM-7"},
    )
    assert response.status_code == 302
    assert Dispatch.objects.get(pk=department.pk).state == Dispatch.State.RESOLVED

    # The town withdraws a dispatch it added.
    from tests.factories import TeamFactory

    extra_team = TeamFactory(region=org.town, kind="professional")
    from cases.services import add_dispatch

    extra = add_dispatch(user=org.town_committee, case_id=case.pk, team_id=extra_team.pk)
    case = fresh(case)
    response = post(
        client,
        org.town_committee,
        dispatch_url(extra, "cancel"),
        {"version": case.version, "reason": "Wrong team"},
    )
    assert response.status_code == 302
    assert Dispatch.objects.get(pk=extra.pk).state == Dispatch.State.CANCELLED
    assert actions_of(case)[-1] == "cancel_dispatch"


def test_handle_without_note_changes_nothing(client, org):
    case = in_progress(org)
    dispatch = team_dispatch(case)
    response = post(
        client,
        org.captain,
        dispatch_url(dispatch, "handle"),
        {"version": case.version, "note": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert 'id="id_note_error"' in response.content.decode()
    assert Event.objects.filter(case=case, action="handle").count() == 0


def test_resolve_part_without_evidence_changes_nothing(client, org):
    case = dispatched(org)
    department = department_dispatch(case)
    report_in(user=org.liaison, dispatch_id=department.pk)
    case = fresh(case)
    response = post(
        client,
        org.liaison,
        dispatch_url(department, "resolve_part"),
        {"version": case.version, "note": "Done"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert 'id="id_photos_error"' in response.content.decode()
    assert Dispatch.objects.get(pk=department.pk).state == Dispatch.State.REPORTED


def test_dispatch_action_not_allowed_is_forbidden(client, org):
    case = dispatched(org)
    team = team_dispatch(case)
    # The liaison sees the case (its department is dispatched) but not the team's dispatch.
    client.force_login(org.liaison)
    assert client.get(dispatch_url(team, "report_in")).status_code == 403
    assert (
        client.post(dispatch_url(team, "report_in"), {"version": case.version}).status_code == 403
    )
    # A member may not assign.
    client.force_login(org.member)
    assert client.get(dispatch_url(team, "assign")).status_code == 403
    assert Dispatch.objects.get(pk=team.pk).state == Dispatch.State.WAITING


# Refusals.


def test_in_scope_but_not_allowed_is_forbidden(client, org):
    case = filed(org)
    client.force_login(org.supervisor)
    assert client.get(detail_url(case)).status_code == 200
    assert client.get(act_url(case, "accept")).status_code == 403
    assert client.post(act_url(case, "accept"), {"version": case.version}).status_code == 403
    assert fresh(case).status == Status.FILED


def test_stale_version_is_refused_and_changes_nothing(client, org):
    case = in_progress(org)
    old_version = case.version
    # Someone else records handling meanwhile: the version moves, the action stays open.
    record_handling(user=org.member, dispatch_id=team_dispatch(case).pk, note="meanwhile")
    response = post(
        client,
        org.captain,
        act_url(case, "request_consultation"),
        {"version": old_version, "reason": "x"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "changed by someone else" in response.content.decode()
    assert fresh(case).status == Status.IN_PROGRESS


def test_stale_form_for_an_action_no_longer_open(client, org):
    case = filed(org)
    accept_case(user=org.village_officer, case_id=case.pk)
    response = post(
        client,
        org.village_officer,
        act_url(case, "reject"),
        {"version": case.version, "reason": "x"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    assert fresh(case).status == Status.VILLAGE_HANDLING
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "changed by someone else" in page


def test_stale_dispatch_form_is_refused(client, org):
    case = in_progress(org)
    dispatch = team_dispatch(case)
    old_version = case.version
    record_handling(user=org.member, dispatch_id=dispatch.pk, note="meanwhile")
    response = post(
        client,
        org.captain,
        dispatch_url(dispatch, "handle"),
        {"version": old_version, "note": "mine"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "changed by someone else" in response.content.decode()
    assert "mine" not in Dispatch.objects.get(pk=dispatch.pk).handling_note


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/cases/?status=filed", "/cases/?status=filed"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
    ],
)
def test_next_is_honoured_only_when_safe(client, org, next_url, expected):
    case = filed(org)
    response = post(
        client,
        org.village_officer,
        act_url(case, "accept"),
        {"version": case.version, "next": next_url},
    )
    assert response.status_code == 302
    assert response["Location"] == (expected or detail_url(case))


# Attachments.


def test_attachment_is_served_inline_for_images(client, org):
    case = filed(org, photos=[png("bridge.png")])
    photo = case.attachments.get()
    client.force_login(org.grid_worker)
    response = client.get(reverse("cases:attachment", args=[photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_pdf_attachment_is_downloaded(client, org):
    case = in_progress(org)
    dispatch = team_dispatch(case)
    record_handling(user=org.captain, dispatch_id=dispatch.pk, note="notice", photos=[pdf()])
    document = case.attachments.get()
    assert document.kind == Attachment.Kind.DOCUMENT
    client.force_login(org.town_committee)
    html = client.get(detail_url(case)).content.decode()
    assert 'data-testid="document"' in html
    response = client.get(reverse("cases:attachment", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")


def test_attachment_outside_scope_is_not_found(client, org):
    case = filed(org, photos=[png()])
    photo = case.attachments.get()
    client.force_login(org.other_grid_worker)
    assert client.get(reverse("cases:attachment", args=[photo.pk])).status_code == 404
    assert client.get(reverse("cases:attachment", args=[photo.pk + 1000])).status_code == 404
