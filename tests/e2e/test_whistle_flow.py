"""The whole life of a whistle in real browsers, each person signed in as themselves: the grid
worker files from a phone with a photo and a place on the map, the village officer accepts and
whistles to the town, the captain reports in, assigns and resolves with a photo, the grid
worker verifies and evaluates. In English and in Simplified Chinese; every page is captured at
phone and desktop size."""

import pytest
from django.utils import translation

from cases.models import Case, Event, Satisfaction, Status
from teams.levels import level_words
from tests.e2e.helpers import (
    fill_whistle_form,
    messages_text,
    shot,
    status_badge,
    submit,
    submit_whistle,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LANGUAGE_CODES = {"en": "en", "zh": "zh-hans"}

HAPPY_EVENTS = [
    "file",
    "accept",
    "whistle",
    "report_in",
    "assign",
    "resolve",
    "verify_pass",
    "evaluate",
]


def label(choice, language: str) -> str:
    """A choice's label as the page shows it in `language`."""
    with translation.override(LANGUAGE_CODES[language]):
        return str(choice.label)


def text(message: str, language: str) -> str:
    """A message as the page shows it, the deployment's level names filled in."""
    with translation.override(LANGUAGE_CODES[language]):
        return translation.gettext(message) % level_words()


def assert_status(page, status: Status, language: str) -> None:
    assert status_badge(page) == status.value
    assert page.get_by_test_id("status").first.inner_text().strip() == label(status, language)


def run_happy_path(browsing, org, photo, language: str) -> Case:
    """Drive one case from the whistle to the evaluation; returns the closed case."""
    lang = language
    description = {"en": "Rubbish piled by the river bridge", "zh": "桥边河道垃圾堆积"}[lang]
    search = {"en": "SAN-01", "zh": "垃圾暴露"}[lang]

    # --- the grid worker files from the phone -----------------------------------------------
    worker = browsing.page("gw", language=lang, geolocation=(30.5001, 120.7002))
    assert worker.locator("html").get_attribute("lang") == LANGUAGE_CODES[lang]
    fill_whistle_form(
        worker,
        item_search=search,
        description=description,
        photos=[photo("rubbish")],
        use_location=lang == "en",  # the Chinese run taps the map instead
    )
    assert worker.locator("#id_item").input_value() == str(org.item.pk)
    assert org.grid.code in worker.get_by_test_id("location-status").inner_text()
    shot(worker, f"{lang}-01-file-form")
    case_id = submit_whistle(worker)
    case = Case.objects.get(pk=case_id)
    assert case.reporter == org.grid_worker
    assert case.grid == org.grid
    assert case.attachments.count() == 1
    assert_status(worker, Status.FILED, lang)
    assert case.number in messages_text(worker)
    if lang == "zh":
        assert case.item.name_zh in worker.locator("main").inner_text()
    shot(worker, f"{lang}-02-case-filed")

    # --- the village officer accepts, then whistles to the town ------------------------------
    officer = browsing.page("vo", language=lang)
    officer.goto("/village/inbox/")
    assert officer.get_by_role("heading", level=1).inner_text() == text("%(Village)s inbox", lang)
    card = officer.get_by_test_id(f"case-{case.number}")
    assert description in card.inner_text()
    shot(officer, f"{lang}-03-village-inbox")
    submit(officer, card.get_by_test_id("accept"))
    assert messages_text(officer)
    case.refresh_from_db()
    assert case.status == Status.VILLAGE_HANDLING
    card = officer.get_by_test_id(f"case-{case.number}")
    shot(officer, f"{lang}-04-village-inbox-accepted")
    submit(officer, card.get_by_test_id("whistle"))
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED
    officer.goto(f"/cases/{case.pk}/")
    assert_status(officer, Status.DISPATCHED, lang)
    shot(officer, f"{lang}-05-case-dispatched")

    # --- the town committee sees it among the dispatched cases --------------------------------
    town = browsing.page("town", language=lang, phone=False)
    town.goto("/command/")
    assert town.get_by_role("heading", level=1).inner_text() == text("%(Town)s command", lang)
    dispatched = town.get_by_test_id("section-dispatched")
    assert dispatched.get_by_test_id(f"case-{case.number}").count() == 1
    shot(town, f"{lang}-05b-town-command")

    # --- the captain reports in, assigns a member and resolves with a photo ------------------
    captain = browsing.page("cap", language=lang, phone=False)
    captain.goto("/board/")
    assert captain.get_by_role("heading", level=1).inner_text() == text("Dispatch board", lang)
    row = captain.locator("tr[data-testid^='dispatch-']", has_text=case.number)
    with translation.override(LANGUAGE_CODES[lang]):
        assert org.team.name in row.inner_text()
    shot(captain, f"{lang}-06-board")
    submit(captain, row.get_by_test_id("report_in"))
    assert messages_text(captain)
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
    row = captain.locator("tr[data-testid^='dispatch-']", has_text=case.number)
    row.get_by_test_id("assignee").select_option(label=org.member.username)
    submit(captain, row.get_by_test_id("assign"))
    row = captain.locator("tr[data-testid^='dispatch-']", has_text=case.number)
    assert org.member.username in row.inner_text()
    shot(captain, f"{lang}-07-board-assigned")
    row.get_by_test_id("resolve").click()
    form = captain.get_by_test_id("form-resolve")
    form.locator("[name=note]").fill({"en": "Cleared and cleaned", "zh": "已清运并清扫"}[lang])
    form.locator("[name=photos]").set_input_files([str(photo("cleaned"))])
    shot(captain, f"{lang}-08-resolve-form")
    submit(captain, form.get_by_test_id("submit-resolve"))
    captain.wait_for_url("**/board/**")
    assert messages_text(captain)
    case.refresh_from_db()
    assert case.status == Status.RESOLVED

    # --- the grid worker checks on site and evaluates ------------------------------------------
    worker.goto("/my/cases/")
    to_verify = worker.get_by_test_id("to-verify").get_by_test_id(f"case-{case.number}")
    shot(worker, f"{lang}-09-my-cases-to-verify")
    submit(worker, to_verify.get_by_test_id("verify-pass"))
    assert messages_text(worker)
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    evaluate = worker.get_by_test_id(f"evaluate-{case.pk}")
    evaluate.locator("input[name=satisfaction][value=satisfied]").check()
    shot(worker, f"{lang}-10-my-cases-evaluate")
    submit(worker, evaluate.get_by_test_id("evaluate"))
    assert messages_text(worker)

    worker.goto(f"/cases/{case.pk}/")
    assert_status(worker, Status.CLOSED, lang)
    main = worker.locator("main").inner_text()
    assert label(Satisfaction.SATISFIED, lang) in main
    timeline = worker.get_by_test_id("event").evaluate_all(
        "items => items.map(item => item.dataset.action)"
    )
    assert [action for action in timeline if action in HAPPY_EVENTS] == HAPPY_EVENTS
    shot(worker, f"{lang}-11-case-closed")

    # --- the lists the people keep: notifications and cases ----------------------------------
    worker.goto("/notifications/")
    assert worker.get_by_test_id("notification").count() >= 1
    shot(worker, f"{lang}-12-notifications")
    captain.goto("/cases/")
    assert captain.get_by_test_id("case-row").filter(has_text=case.number).count() == 1
    shot(captain, f"{lang}-13-case-list")

    case.refresh_from_db()
    return case


def assert_closed_and_traced(case: Case) -> None:
    assert case.status == Status.CLOSED
    assert case.satisfaction == Satisfaction.SATISFIED
    assert case.rework_count == 0
    actions = list(
        Event.objects.filter(case=case)
        .order_by("created_at", "pk")
        .values_list("action", flat=True)
    )
    assert [action for action in actions if action in HAPPY_EVENTS] == HAPPY_EVENTS
    assert set(case.attachments.values_list("purpose", flat=True)) >= {"evidence"}
    assert case.attachments.count() == 2


def test_happy_path_in_english(browsing, org, photo):
    case = run_happy_path(browsing, org, photo, "en")
    assert_closed_and_traced(case)


def test_happy_path_in_chinese(browsing, org, photo):
    case = run_happy_path(browsing, org, photo, "zh")
    assert_closed_and_traced(case)
    # The engine's words are translated: no English status label is left on the closed case.
    assert label(Status.CLOSED, "zh") == "已结案"
    assert label(Satisfaction.SATISFIED, "zh") == "满意"
