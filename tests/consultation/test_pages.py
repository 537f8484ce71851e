"""The consultation and investigation pages through the Django test client: both languages,
the happy path of each action, bad input, 404 out of scope and 403 in scope, query counts."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Dispatch, Source, Status
from checklists.models import Aspect
from consultation import services
from consultation.models import AgendaItem, Consultation, Investigation
from tests.cases.engine_steps import file_case, fresh
from tests.consultation.conftest import MEETING, at, in_consultation

pytestmark = pytest.mark.usefixtures("clock")

LANGUAGES = {"en": "Consultations", "zh-hans": "会商"}


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def as_user(client, user, language="en"):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def called(org, extra, cases) -> Consultation:
    return services.call_consultation(
        user=org.town_committee,
        level="town",
        region_id=org.town.pk,
        scheduled_at=MEETING,
        place="Town hall",
        case_ids=[c.pk for c in cases],
        department_ids=[extra.bureau.pk],
    )


# --- the queue ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_queue_shows_lights_and_time_left_in_both_languages(client, org, language):
    case = in_consultation(org)
    response = as_user(client, org.town_committee, language).get(reverse("consultation:queue"))
    assert response.status_code == 200
    page = response.content.decode()
    assert case.number in page
    assert 'data-light="green"' in page
    expected = {"en": "working time left", "zh-hans": "剩余"}[language]
    assert expected in page or "left" in page
    assert reverse("consultation:call") in page


def test_the_queue_is_for_committee_staff_only(client, org):
    response = as_user(client, org.liaison).get(reverse("consultation:queue"))
    assert response.status_code == 403


def test_the_queue_costs_the_same_queries_for_2_or_6_cases(client, org):
    as_user(client, org.town_committee)
    for _ in range(2):
        in_consultation(org)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("consultation:queue")).status_code == 200
    for _ in range(4):
        in_consultation(org)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("consultation:queue")).status_code == 200
    assert len(many) == len(few)


# --- calling -----------------------------------------------------------------------------------


def test_calling_a_consultation_through_the_page(client, org, extra):
    case = in_consultation(org)
    as_user(client, org.town_committee)
    form = client.get(reverse("consultation:call"), {"case": case.pk})
    assert form.status_code == 200
    assert f'value="{case.pk}"' in form.content.decode()
    response = client.post(
        reverse("consultation:call"),
        {
            "seat": "0",
            "scheduled_at": local(MEETING),
            "place": "Town hall",
            "cases": [case.pk],
            "departments": [extra.bureau.pk],
            "teams": [org.team.pk],
        },
    )
    consultation = Consultation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("consultation:detail", args=[consultation.pk])
    assert consultation.agenda_items.get().case == case
    assert consultation.invitations.count() == 2


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_calling_without_cases_or_place_shows_errors_and_changes_nothing(
    client, org, extra, language
):
    in_consultation(org)
    response = as_user(client, org.town_committee, language).post(
        reverse("consultation:call"),
        {"seat": "0", "scheduled_at": local(MEETING), "departments": [extra.bureau.pk]},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["cases"]
    assert not Consultation.objects.exists()
    response = client.post(
        reverse("consultation:call"),
        {"seat": "0", "scheduled_at": local(MEETING), "cases": [fresh_case_id(org)]},
    )
    assert "place" in response.context["form"].errors
    assert not Consultation.objects.exists()


def fresh_case_id(org) -> int:
    return Case.objects.filter(status=Status.IN_CONSULTATION).values_list("pk", flat=True)[0]


# --- the consultation page, access, report-in -------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_consultation_page_renders_for_the_committee_and_the_invited(
    client, org, extra, language
):
    case = in_consultation(org)
    consultation = called(org, extra, [case])
    url = reverse("consultation:detail", args=[consultation.pk])
    committee = as_user(client, org.town_committee, language).get(url)
    assert committee.status_code == 200
    assert f'data-testid="decide-form-{consultation.agenda_items.get().pk}"' in (
        committee.content.decode()
    )
    invited = as_user(client, extra.bureau_liaison, language).get(url)
    assert invited.status_code == 200
    page = invited.content.decode()
    assert case.number in page and "decide-form" not in page
    invitation = consultation.invitations.get()
    assert f'data-testid="confirm-{invitation.pk}"' in page


def test_an_uninvited_department_gets_404_for_the_consultation_and_its_cases(client, org, extra):
    case = in_consultation(org)
    consultation = called(org, extra, [case])
    as_user(client, extra.outsider)
    assert client.get(reverse("consultation:detail", args=[consultation.pk])).status_code == 404
    assert client.get(reverse("consultation:print", args=[consultation.pk])).status_code == 404
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    invitation = consultation.invitations.get()
    assert client.post(reverse("consultation:confirm", args=[invitation.pk])).status_code == 404
    as_user(client, extra.bureau_liaison)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200


def test_invited_department_reports_in_and_the_committee_sees_lateness(client, org, extra, clock):
    consultation = called(org, extra, [in_consultation(org)])
    invitation = consultation.invitations.get()
    url = reverse("consultation:detail", args=[consultation.pk])
    as_user(client, extra.bureau_liaison)
    response = client.post(reverse("consultation:confirm", args=[invitation.pk]), {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    clock.move_to(at(2025, 6, 10, 14, 50))
    client.post(reverse("consultation:check_in", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.confirmed_at is not None and invitation.late
    page = as_user(client, org.town_committee).get(url).content.decode()
    assert 'data-testid="late"' in page


def test_the_invited_may_not_decide_403(client, org, extra):
    consultation = called(org, extra, [in_consultation(org)])
    item = consultation.agenda_items.get()
    as_user(client, extra.bureau_liaison)
    assert client.get(reverse("consultation:decide", args=[item.pk])).status_code == 403
    response = client.post(reverse("consultation:archive", args=[consultation.pk]))
    assert response.status_code == 403
    assert Consultation.objects.get().status == Consultation.Status.PLANNED


# --- decisions through the page ----------------------------------------------------------------


def decision_data(item, **fields) -> dict:
    prefix = f"item{item.pk}"
    data = {
        f"{prefix}-version": fresh(item.case).version,
        f"{prefix}-kind": "tasks",
        f"{prefix}-decision": "Clear it jointly",
        f"{prefix}-review_on": "",
        f"{prefix}-tasks-TOTAL_FORMS": "3",
        f"{prefix}-tasks-INITIAL_FORMS": "0",
        f"{prefix}-tasks-MIN_NUM_FORMS": "0",
        f"{prefix}-tasks-MAX_NUM_FORMS": "10",
    }
    data.update({f"{prefix}-{key}": value for key, value in fields.items()})
    return data


def test_a_decision_with_two_tasks_through_the_page(client, org, extra):
    case = in_consultation(org)
    consultation = called(org, extra, [case])
    item = consultation.agenda_items.get()
    url = reverse("consultation:detail", args=[consultation.pk])
    data = decision_data(
        item,
        **{
            "tasks-0-department": extra.bureau.pk,
            "tasks-0-action": "Fine the owner",
            "tasks-0-due_at": "2025-06-12T17:00",
            "tasks-1-team": org.team.pk,
            "tasks-1-action": "Remove the heap",
            "tasks-1-due_at": "2025-06-13T12:00",
        },
        next=url,
    )
    data["next"] = url
    response = as_user(client, org.town_committee).post(
        reverse("consultation:decide", args=[item.pk]), data
    )
    assert response.status_code == 302 and response["Location"] == url
    assert fresh(case).status == Status.IN_PROGRESS
    tasks = case.dispatches.filter(origin=Dispatch.Origin.DECISION).order_by("pk")
    assert [(d.handler, d.task, d.due_at) for d in tasks] == [
        (extra.bureau, "Fine the owner", at(2025, 6, 12, 17, 0)),
        (org.team, "Remove the heap", at(2025, 6, 13, 12, 0)),
    ]
    page = client.get(url).content.decode()
    assert "Fine the owner" in page and 'data-decision="tasks"' in page
    # The bureau's liaison finds the task on the dispatch board.
    board = as_user(client, extra.bureau_liaison).get(reverse("cases:board"))
    assert "Fine the owner" in board.content.decode()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_task_without_a_handler_shows_the_error_next_to_it(client, org, extra, language):
    case = in_consultation(org)
    item = called(org, extra, [case]).agenda_items.get()
    data = decision_data(
        item, **{"tasks-0-action": "Somebody do it", "tasks-0-due_at": "2025-06-12T17:00"}
    )
    response = as_user(client, org.town_committee, language).post(
        reverse("consultation:decide", args=[item.pk]), data
    )
    assert response.status_code == 400
    assert response.context["formset"].forms[0].errors["team"]
    assert fresh(case).status == Status.IN_CONSULTATION
    assert AgendaItem.objects.get(pk=item.pk).decision == AgendaItem.Decision.PENDING


def test_tasks_decision_without_any_task_is_refused(client, org, extra):
    case = in_consultation(org)
    item = called(org, extra, [case]).agenda_items.get()
    response = as_user(client, org.town_committee).post(
        reverse("consultation:decide", args=[item.pk]), decision_data(item)
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert fresh(case).status == Status.IN_CONSULTATION


def test_suspend_and_close_and_escalate_through_the_page(client, org, extra):
    cases = [in_consultation(org, description=f"Heap {n}") for n in range(3)]
    consultation = called(org, extra, cases)
    items = list(consultation.agenda_items.order_by("order"))
    as_user(client, org.town_committee)
    url = lambda item: reverse("consultation:decide", args=[item.pk])  # noqa: E731
    client.post(
        url(items[0]),
        decision_data(items[0], kind="suspend", decision="Court case", review_on="2025-07-01"),
    )
    client.post(url(items[1]), decision_data(items[1], kind="close", decision="Settled"))
    client.post(url(items[2]), decision_data(items[2], kind="escalate", decision="Beyond us"))
    assert [fresh(c).status for c in cases] == [
        Status.SUSPENDED,
        Status.CLOSED,
        Status.IN_CONSULTATION,
    ]
    assert fresh(cases[2]).level == "city"
    assert fresh(cases[1]).resolution_note == "Settled"
    assert cases[0].events.get(action="suspend").data["review_on"] == date(2025, 7, 1).isoformat()


def test_a_stale_decision_form_is_refused(client, org, extra):
    case = in_consultation(org)
    item = called(org, extra, [case]).agenda_items.get()
    data = decision_data(item, kind="close", decision="Settled")
    data[f"item{item.pk}-version"] = fresh(case).version - 1
    response = as_user(client, org.town_committee).post(
        reverse("consultation:decide", args=[item.pk]), data
    )
    assert response.status_code == 400
    assert fresh(case).status == Status.IN_CONSULTATION


# --- minutes, print, archive, my consultations -------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_minutes_and_the_printable_page(client, org, extra, clock, language):
    consultation = called(org, extra, [in_consultation(org)])
    clock.move_to(at(2025, 6, 10, 15, 30))
    as_user(client, org.town_committee, language)
    response = client.post(
        reverse("consultation:minutes", args=[consultation.pk]), {"minutes": "We agreed."}
    )
    assert response.status_code == 302
    assert Consultation.objects.get().status == Consultation.Status.HELD
    printed = client.get(reverse("consultation:print", args=[consultation.pk]))
    page = printed.content.decode()
    assert printed.status_code == 200
    assert "We agreed." in page and f'<html lang="{language}"' in page
    assert 'data-testid="minutes-sheet"' in page
    assert "css/consultation.css" in page and "js/consultation.js" in page
    empty = client.post(reverse("consultation:minutes", args=[consultation.pk]), {"minutes": ""})
    assert empty.status_code == 400
    assert Consultation.objects.get().minutes == "We agreed."


def test_archiving_through_the_page_ends_the_invited_access(client, org, extra):
    case = in_consultation(org)
    consultation = called(org, extra, [case])
    as_user(client, org.town_committee)
    response = client.post(reverse("consultation:archive", args=[consultation.pk]))
    assert response.status_code == 302
    as_user(client, extra.bureau_liaison)
    assert client.get(reverse("consultation:detail", args=[consultation.pk])).status_code == 404
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404


def test_my_consultations_lists_only_invited_ones(client, org, extra):
    first = called(org, extra, [in_consultation(org)])
    services.call_consultation(
        user=org.town_committee,
        level="town",
        region_id=org.town.pk,
        scheduled_at=MEETING,
        place="Elsewhere",
        case_ids=[in_consultation(org).pk],
        team_ids=[org.team.pk],
    )
    response = as_user(client, extra.bureau_liaison, "zh-hans").get(reverse("consultation:mine"))
    assert response.status_code == 200
    assert [c.pk for c, _ in response.context["rows"]] == [first.pk]
    response = as_user(client, extra.outsider).get(reverse("consultation:mine"))
    assert response.context["rows"] == []


# --- hot spots and investigations --------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_hot_spots_page_lists_the_repeated_item(client, org, language):
    cases = [file_case(org, description=f"Again {n}") for n in range(3)]
    response = as_user(client, org.town_committee, language).get(reverse("consultation:hotspots"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-testid="hotspot-{org.item.pk}-{org.grid.pk}"' in page
    assert all(case.number in page for case in cases)
    assert as_user(client, org.grid_worker).get(reverse("consultation:hotspots")).status_code == 403


def test_planning_and_recording_an_investigation_through_the_pages(client, org):
    aspect = Aspect.objects.get(pk=org.item.aspect_id)
    as_user(client, org.town_committee)
    form = client.get(
        reverse("consultation:plan_investigation"), {"item": org.item.pk, "grid": org.grid.pk}
    )
    assert form.status_code == 200
    assert form.context["form"].initial["aspects"] == [aspect.pk]
    response = client.post(
        reverse("consultation:plan_investigation"),
        {
            "town": org.town.pk,
            "place_name": "New residential compound",
            "grid": org.grid.pk,
            "planned_for": "2025-06-10T15:00",
            "team": org.team.pk,
            "aspects": [aspect.pk],
            "departments": [org.department.pk],
            "hotspot_item": org.item.pk,
            "hotspot_grid": org.grid.pk,
        },
    )
    investigation = Investigation.objects.get()
    assert response.status_code == 302
    check = investigation.checks.get()
    team_row = investigation.attendance.get(team=org.team)
    as_user(client, org.captain, "zh-hans")
    url = reverse("consultation:investigation", args=[investigation.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {f"finding_{check.pk}": "Something", f"checked_{check.pk}": "on"})
    assert bad.status_code == 400
    assert bad.context["form"].errors[f"item_{check.pk}"]
    assert not Case.objects.filter(source=Source.INVESTIGATION).exists()
    response = client.post(
        url,
        {
            f"present_{team_row.pk}": "on",
            f"people_{team_row.pk}": "Li Hong",
            f"checked_{check.pk}": "on",
            f"finding_{check.pk}": "Garbage behind block 3",
            f"item_{check.pk}": org.item.pk,
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(source=Source.INVESTIGATION)
    assert case.finding.investigation == investigation
    assert case.number in client.get(url).content.decode()
    assert as_user(client, org.other_captain).get(url).status_code == 404
    assert as_user(client, org.liaison).post(url, {}).status_code == 403


def test_planning_is_for_the_town_committee(client, org):
    response = as_user(client, org.captain).get(reverse("consultation:plan_investigation"))
    assert response.status_code == 403
    response = as_user(client, org.captain).get(reverse("consultation:investigations"))
    assert response.status_code == 200


def test_the_consultation_page_costs_the_same_queries_for_2_or_6_cases(client, org, extra):
    as_user(client, org.town_committee)
    few = called(org, extra, [in_consultation(org) for _ in range(2)])
    many = called(org, extra, [in_consultation(org) for _ in range(6)])
    counts = []
    for consultation in (few, many):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("consultation:detail", args=[consultation.pk]))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
