"""What "late", "accepted" and "suspended" mean, held for closed periods (issue 19, item 6):
a closed month's closure rate does not move when an old case is suspended or resumed later,
every passed limit of the case's own stages (screening and verification too) makes it late and
counts, a whistle the timer sent up was not accepted by the village, and hot spots count only
the whistles taken up."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from assessment.definitions import help_text
from assessment.hotspots import hot_spots
from assessment.indicators import KEYS, compute
from assessment.models import CaseFact
from assessment.periods import period_for
from assessment.services import refresh_case_facts
from cases import sweep
from cases.models import Deadline
from cases.services import (
    accept_case,
    merge_case,
    reject_case,
    resolve_on_spot,
    resume_case,
    suspend_case,
)
from checklists.models import Stage
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, at, file_case, png, whistled

JUNE = period_for("month", date(2025, 6, 1))


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def june_rates(org) -> tuple:  # noqa: F811
    refresh_all()
    values = compute(unit_type="town", unit_id=org.town.pk, period=JUNE, params={})
    closure = values["indicators"]["closure_rate"]
    return closure.numerator, closure.denominator


def refresh_all() -> None:
    from cases.models import Case

    for case_id in Case.objects.values_list("pk", flat=True):
        refresh_case_facts(case_id=case_id)


def fire_due(moment) -> None:
    sweep.sweep(now=moment)


def test_a_case_parked_in_its_month_stays_out_when_resumed_later(org, time_machine):  # noqa: F811
    closed = file_case(org)
    accept_case(user=org.village_officer, case_id=closed.pk)
    resolve_on_spot(user=org.village_officer, case_id=closed.pk, note="Swept", photos=[png()])
    parked = whistled(org)
    suspend_case(
        user=org.town_committee,
        case_id=parked.pk,
        reason="Needs a budget",
        review_on=date(2025, 9, 1),
    )
    at_month_end = june_rates(org)
    assert CaseFact.objects.get(pk=parked.pk).suspended

    time_machine.move_to(at(2025, 8, 20, 10, 0), tick=False)
    resume_case(user=org.town_committee, case_id=parked.pk)

    assert june_rates(org) == at_month_end
    assert CaseFact.objects.get(pk=parked.pk).suspended  # out of the closure rates for good


def test_a_case_parked_and_resumed_within_its_month_counts_as_any(org, time_machine):  # noqa: F811
    case = whistled(org)
    suspend_case(
        user=org.town_committee,
        case_id=case.pk,
        reason="Needs a permit",
        review_on=date(2025, 7, 1),
    )
    time_machine.move_to(at(2025, 6, 13, 10, 0), tick=False)
    resume_case(user=org.town_committee, case_id=case.pk)
    assert june_rates(org) == (0, 1)
    fact = CaseFact.objects.get(pk=case.pk)
    assert fact.was_suspended and not fact.suspended


def test_an_old_case_suspended_later_stays_in_its_month(org, time_machine):  # noqa: F811
    old = whistled(org)
    at_month_end = june_rates(org)
    assert at_month_end[1] == 1

    time_machine.move_to(at(2025, 8, 20, 10, 0), tick=False)
    suspend_case(
        user=org.town_committee, case_id=old.pk, reason="Needs a budget", review_on=date(2025, 9, 1)
    )

    assert june_rates(org) == at_month_end
    fact = CaseFact.objects.get(pk=old.pk)
    assert fact.was_suspended and not fact.suspended


def test_a_screening_timer_whistle_is_late_and_not_accepted(org, time_machine):  # noqa: F811
    case = file_case(org)
    screening = Deadline.objects.get(case=case, stage=Stage.SCREENING)
    moment = screening.due_at + timedelta(minutes=1)
    time_machine.move_to(moment, tick=False)
    fire_due(moment)
    refresh_case_facts(case_id=case.pk)
    fact = CaseFact.objects.get(pk=case.pk)
    assert fact.whistled  # the timer sent it up
    assert not fact.accepted  # the village never took it up
    assert fact.overdue and fact.late_count == 1 and not fact.closed_on_time
    on_the_spot = compute(unit_type="town", unit_id=org.town.pk, period=JUNE, params={})[
        "indicators"
    ]["on_the_spot_rate"]
    assert on_the_spot.denominator == 0
    counts = compute(unit_type="town", unit_id=org.town.pk, period=JUNE, params={})["counts"]
    assert counts["c_late_limits"] == 1  # the per_passed_limit deduction counts each firing


def test_a_verification_overrun_is_late(org, time_machine):  # noqa: F811
    case = file_case(org)
    accept_case(user=org.village_officer, case_id=case.pk)
    resolve_on_spot(user=org.village_officer, case_id=case.pk, note="Swept", photos=[png()])
    verification = Deadline.objects.get(case=case, stage=Stage.VERIFICATION)
    moment = verification.due_at + timedelta(minutes=1)
    time_machine.move_to(moment, tick=False)
    fire_due(moment)
    refresh_case_facts(case_id=case.pk)
    fact = CaseFact.objects.get(pk=case.pk)
    assert fact.accepted
    assert fact.overdue and fact.late_count >= 1


def test_hot_spots_leave_out_rejected_and_merged_whistles(org):  # noqa: F811
    kept = file_case(org)
    rejected = file_case(org)
    reject_case(
        user=org.village_officer,
        case_id=rejected.pk,
        reason="Not a public matter",
        redirect="The property management office",
    )
    duplicate = file_case(org)
    merge_case(user=org.village_officer, case_id=duplicate.pk, into_case_id=kept.pk)
    refresh_all()
    spots = hot_spots(user=org.supervisor, period=JUNE)
    mine = next(spot for spot in spots if spot["grid_id"] == org.grid.pk)
    assert mine["total"] == 1


def test_every_indicator_says_what_it_counts_and_what_its_words_mean(client, org):  # noqa: F811
    with translation.override("en"):  # the words are compared in English
        for key in KEYS:
            lines = [str(line) for line in help_text(key)]
            assert len(lines) >= 2, key  # its own text, then which cases a period counts
        assert any(line.startswith("Suspended") for line in map(str, help_text("closure_rate")))
        on_time = " ".join(map(str, help_text("on_time_closure_rate")))
        assert "Due:" in on_time and "Late:" in on_time and "Suspended" in on_time
        assert "timer" in " ".join(map(str, help_text("on_the_spot_rate")))
    client.force_login(org.supervisor)
    html = client.get(reverse("assessment:overview"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    tiles = html.count('class="kpi-tile"')
    assert tiles and html.count('data-testid="kpi-help"') == tiles
    assert "What is counted" in html


def test_the_architecture_doc_defines_the_words():
    text = (settings.BASE_DIR / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Facts and indicators", 1)[1].split("\n## ", 1)[0]
    for term in ("**Due**", "**Late**", "**Accepted**", "**Suspended**"):
        assert term in section
