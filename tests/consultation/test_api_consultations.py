"""The consultation API drives a consultation as the pages do: calling one, attendance,
minutes, a decision per agenda item, archiving; each refused outside the scope (404), for the
wrong role (403), in the wrong state (409) and for bad input (400, nothing changed); every
POST honours the Idempotency-Key header."""

from datetime import timedelta

import pytest

from cases.models import Dispatch, Status
from consultation import services
from consultation.models import AgendaItem, Consultation, Invitation
from tests.api.conftest import client_for
from tests.cases.engine_steps import fresh, in_progress
from tests.consultation.conftest import MEETING, at, in_consultation

pytestmark = pytest.mark.usefixtures("clock")

LIST = "/api/consultations/"


def post(user, url, body=None, **headers):
    return client_for(user).post(url, body or {}, format="json", **headers)


def call_body(org, extra, cases, **changes) -> dict:
    body = {
        "level": "town",
        "region": org.town.pk,
        "scheduled_at": MEETING.isoformat(),
        "place": "Town hall",
        "cases": [case.pk for case in cases],
        "departments": [extra.bureau.pk],
    }
    body.update(changes)
    return body


def called(org, extra, cases=None) -> Consultation:
    return services.call_consultation(
        user=org.town_committee,
        level="town",
        region_id=org.town.pk,
        scheduled_at=MEETING,
        place="Town hall",
        case_ids=[case.pk for case in cases or [in_consultation(org)]],
        department_ids=[extra.bureau.pk],
    )


# --- calling -----------------------------------------------------------------------------------


def test_the_town_committee_calls_a_consultation(org, extra):
    case = in_consultation(org)
    response = post(org.town_committee, LIST, call_body(org, extra, [case]))
    assert response.status_code == 201, response.json()
    body = response.json()
    consultation = Consultation.objects.get()
    assert (body["id"], body["level"], body["status"]) == (consultation.pk, "town", "planned")
    assert [(i["case_number"], i["case_version"]) for i in body["agenda"]] == [
        (case.number, fresh(case).version)
    ]
    assert [i["department_id"] for i in body["invitations"]] == [extra.bureau.pk]
    assert extra.bureau_liaison.notifications.filter(kind="consultation_invited").exists()
    # The invited department now reads it too.
    listed = client_for(extra.bureau_liaison).get(LIST).json()["results"]
    assert [row["id"] for row in listed] == [consultation.pk]


def test_only_committees_call_and_bad_input_changes_nothing(org, extra):
    case = in_consultation(org)
    response = post(org.captain, LIST, call_body(org, extra, [case]))
    assert response.status_code == 403
    response = post(org.town_committee, LIST, call_body(org, extra, [], place=""))
    assert response.status_code == 400
    assert {"cases", "place"} <= set(response.json()["fields"])
    past = (MEETING - timedelta(days=2)).isoformat()
    response = post(org.town_committee, LIST, call_body(org, extra, [case], scheduled_at=past))
    assert response.status_code == 400 and "scheduled_at" in response.json()["fields"]
    # A case that is not waiting for this committee, and one outside the scope.
    busy = in_progress(org, description="Still handled")
    response = post(org.town_committee, LIST, call_body(org, extra, [busy]))
    assert response.status_code == 400 and "cases" in response.json()["fields"]
    response = post(org.town_committee, LIST, {**call_body(org, extra, []), "cases": [2**40]})
    assert response.status_code == 400 and "cases" in response.json()["fields"]
    response = post(org.town_committee, LIST, call_body(org, extra, [case], departments=[2**40]))
    assert response.status_code == 400 and "departments" in response.json()["fields"]
    response = post(org.town_committee, LIST, call_body(org, extra, [case], region="x"))
    assert response.status_code == 400 and "region" in response.json()["fields"]
    assert not Consultation.objects.exists()
    assert not AgendaItem.objects.exists()


def test_calling_twice_with_one_key_calls_once(org, extra):
    body = call_body(org, extra, [in_consultation(org)])
    first = post(org.town_committee, LIST, body, HTTP_IDEMPOTENCY_KEY="call-1")
    again = post(org.town_committee, LIST, body, HTTP_IDEMPOTENCY_KEY="call-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert Consultation.objects.count() == 1


def test_deleting_or_replacing_is_not_allowed(org, extra):
    consultation = called(org, extra)
    client = client_for(org.town_committee)
    assert client.delete(f"{LIST}{consultation.pk}/").status_code == 405
    assert client.put(f"{LIST}{consultation.pk}/", {}, format="json").status_code == 405


# --- minutes and archiving ---------------------------------------------------------------------


def test_the_committee_keeps_the_minutes(org, extra, clock):
    consultation = called(org, extra)
    url = f"{LIST}{consultation.pk}/minutes/"
    assert post(extra.bureau_liaison, url, {"minutes": "Hi"}).status_code == 403
    assert post(extra.outsider, url, {"minutes": "Hi"}).status_code == 404
    assert post(org.other_captain, url, {"minutes": "Hi"}).status_code == 404
    response = post(org.town_committee, url, {"minutes": "  "})
    assert response.status_code == 400 and "minutes" in response.json()["fields"]
    assert Consultation.objects.get().minutes == ""
    clock.move_to(at(2025, 6, 10, 15, 0))  # the meeting has begun: minutes mark it held
    response = post(org.town_committee, url, {"minutes": "The bureau will act."})
    assert response.status_code == 200, response.json()
    assert (response.json()["minutes"], response.json()["status"]) == (
        "The bureau will act.",
        "held",
    )


def test_archiving_ends_the_invited_access(org, extra):
    consultation = called(org, extra)
    url = f"{LIST}{consultation.pk}/archive/"
    assert post(extra.bureau_liaison, url).status_code == 403
    assert post(org.supervisor, url).status_code == 403
    assert post(extra.outsider, url).status_code == 404
    response = post(org.town_committee, url)
    assert response.status_code == 200 and response.json()["status"] == "archived"
    assert client_for(extra.bureau_liaison).get(f"{LIST}{consultation.pk}/").status_code == 404
    assert post(org.town_committee, url).status_code == 409
    response = post(org.town_committee, f"{LIST}{consultation.pk}/minutes/", {"minutes": "Late"})
    assert response.status_code == 409
    assert Consultation.objects.get().minutes == ""


# --- attendance --------------------------------------------------------------------------------


def test_the_invited_confirm_and_check_in_late(org, extra, clock):
    invitation = called(org, extra).invitations.get()
    confirm = f"/api/invitations/{invitation.pk}/confirm/"
    check_in = f"/api/invitations/{invitation.pk}/check-in/"
    assert post(extra.outsider, confirm).status_code == 404
    assert post(org.captain, confirm).status_code == 404
    assert post(org.town_committee, confirm).status_code == 403  # only the invitee confirms
    response = post(extra.bureau_liaison, confirm)
    assert response.status_code == 200 and response.json()["confirmed_at"]
    assert post(extra.bureau_liaison, confirm).status_code == 409
    clock.move_to(at(2025, 6, 10, 14, 50))
    response = post(extra.bureau_liaison, check_in, HTTP_IDEMPOTENCY_KEY="arrive")
    assert response.status_code == 200
    assert response.json()["late"] is True and response.json()["checked_in_at"]
    again = post(extra.bureau_liaison, check_in, HTTP_IDEMPOTENCY_KEY="arrive")
    assert again.json() == response.json() and again.headers["Idempotent-Replayed"] == "true"
    assert post(org.town_committee, check_in).status_code == 409
    assert Invitation.objects.get().late


def test_check_in_is_on_the_day_only(org, extra, clock):
    invitation = called(org, extra).invitations.get()
    clock.move_to(MEETING + timedelta(days=1))
    response = post(org.town_committee, f"/api/invitations/{invitation.pk}/check-in/")
    assert response.status_code == 409
    assert Invitation.objects.get().checked_in_at is None


# --- decisions ---------------------------------------------------------------------------------


def decide_url(item) -> str:
    return f"/api/agenda-items/{item.pk}/decide/"


def decision(item, **changes) -> dict:
    body = {
        "version": fresh(item.case).version,
        "kind": "tasks",
        "decision": "Clear it jointly",
        "tasks": [],
    }
    body.update(changes)
    return body


def test_a_decision_with_two_tasks(org, extra):
    case = in_consultation(org)
    item = called(org, extra, [case]).agenda_items.get()
    tasks = [
        {"department": extra.bureau.pk, "action": "Fine the owner", "due_at": "2025-06-12T17:00"},
        {"team": org.team.pk, "action": "Remove the heap", "due_at": "2025-06-13T12:00"},
    ]
    response = post(org.town_committee, decide_url(item), decision(item, tasks=tasks))
    assert response.status_code == 200, response.json()
    assert response.json()["agenda"][0]["decision"] == "tasks"
    assert fresh(case).status == Status.IN_PROGRESS
    given = case.dispatches.filter(origin=Dispatch.Origin.DECISION).order_by("pk")
    assert [(d.handler, d.task, d.due_at) for d in given] == [
        (extra.bureau, "Fine the owner", at(2025, 6, 12, 17, 0)),
        (org.team, "Remove the heap", at(2025, 6, 13, 12, 0)),
    ]
    assert post(org.town_committee, decide_url(item), decision(item)).status_code == 409


def test_suspend_close_and_escalate(org, extra):
    cases = [in_consultation(org, description=f"Heap {n}") for n in range(3)]
    items = list(called(org, extra, cases).agenda_items.order_by("order"))
    answers = [
        post(
            org.town_committee,
            decide_url(items[0]),
            decision(items[0], kind="suspend", decision="Court case", review_on="2025-07-01"),
        ),
        post(org.town_committee, decide_url(items[1]), decision(items[1], kind="close")),
        post(org.town_committee, decide_url(items[2]), decision(items[2], kind="escalate")),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [fresh(c).status for c in cases] == [
        Status.SUSPENDED,
        Status.CLOSED,
        Status.IN_CONSULTATION,
    ]
    assert fresh(cases[2]).level == "city"


def test_decisions_are_the_committees_and_bad_ones_change_nothing(org, extra):
    case = in_consultation(org)
    item = called(org, extra, [case]).agenda_items.get()
    url = decide_url(item)
    close = decision(item, kind="close")
    assert post(extra.bureau_liaison, url, close).status_code == 403
    assert post(org.supervisor, url, close).status_code == 403
    assert post(extra.outsider, url, close).status_code == 404
    assert post(org.town_committee, "/api/agenda-items/999999/decide/", close).status_code == 404
    refusals = [
        (decision(item), "tasks"),  # tasks without any task
        (decision(item, kind="close", decision=""), "decision"),
        (decision(item, kind="suspend"), "review_on"),
        (decision(item, kind="maybe"), "kind"),
        (
            decision(item, tasks=[{"action": "Someone", "due_at": "2025-06-12T17:00"}]),
            "handler",
        ),
        (
            decision(
                item,
                tasks=[{"team": org.team.pk, "action": "Late", "due_at": "2025-06-01T17:00"}],
            ),
            "tasks.0.due_at",
        ),
        ({"kind": "close", "decision": "No version"}, "version"),
    ]
    for body, field in refusals:
        response = post(org.town_committee, url, body)
        assert response.status_code == 400, (body, response.json())
        assert field in response.json()["fields"], (body, response.json())
    stale = post(org.town_committee, url, decision(item, kind="close", version=0))
    assert stale.status_code == 409
    assert fresh(case).status == Status.IN_CONSULTATION
    assert AgendaItem.objects.get().decision == AgendaItem.Decision.PENDING
    assert not case.dispatches.filter(origin=Dispatch.Origin.DECISION).exists()


def test_a_retried_decision_is_decided_once(org, extra):
    case = in_consultation(org)
    item = called(org, extra, [case]).agenda_items.get()
    body = decision(
        item, tasks=[{"team": org.team.pk, "action": "Remove", "due_at": "2025-06-12T17:00"}]
    )
    first = post(org.town_committee, decide_url(item), body, HTTP_IDEMPOTENCY_KEY="d-1")
    again = post(org.town_committee, decide_url(item), body, HTTP_IDEMPOTENCY_KEY="d-1")
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert case.dispatches.filter(origin=Dispatch.Origin.DECISION).count() == 1
    assert case.events.filter(action="decide").count() == 1


def test_a_retried_archive_or_minutes_answers_as_the_first(org, extra):
    consultation = called(org, extra)
    url = f"{LIST}{consultation.pk}/"
    minutes = {"minutes": "Agreed"}
    first = post(org.town_committee, f"{url}minutes/", minutes, HTTP_IDEMPOTENCY_KEY="m-1")
    again = post(org.town_committee, f"{url}minutes/", minutes, HTTP_IDEMPOTENCY_KEY="m-1")
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    first = post(org.town_committee, f"{url}archive/", HTTP_IDEMPOTENCY_KEY="a-1")
    again = post(org.town_committee, f"{url}archive/", HTTP_IDEMPOTENCY_KEY="a-1")
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert post(org.town_committee, f"{url}archive/", HTTP_IDEMPOTENCY_KEY="a-2").status_code == 409
