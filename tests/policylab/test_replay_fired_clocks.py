"""A doubled limit on a stage that goes on after its timer fired (the verification): the
clock's row keeps no end, the event log does, so exactly the cases whose verification came
within the doubled limit turn on time (issue 21, Must hold: doubling a limit)."""

import pytest

from assessment.models import CaseFact
from cases import calendar
from cases.models import Deadline
from cases.services import accept_case, resolve_on_spot, verify_case
from checklists.models import Stage
from policylab.models import ReplayCaseFact
from tests.assessment.test_rebuild import file
from tests.cases.engine_steps import at, png
from tests.policylab.test_replay_rules import replayed, scaled, scenario_with


@pytest.mark.django_db
def test_a_fired_verification_ends_at_the_verification_and_a_doubled_limit_judges_it_again(
    org, drive, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    drive.time_machine.move_to(at(2025, 6, 16, 9, 0), tick=False)
    cases = {name: file(drive, org) for name in ("within", "beyond", "on_time")}
    for case in cases.values():
        drive(accept_case, user=org.village_officer, case_id=case.pk)
        drive(
            resolve_on_spot, user=org.village_officer, case_id=case.pk, note="Done", photos=[png()]
        )
    drive(verify_case, user=org.grid_worker, case_id=cases["on_time"].pk, passed=True)
    clock = Deadline.objects.get(case=cases["within"], stage=Stage.VERIFICATION)
    doubled_due = calendar.add_duration(
        start=clock.started_at, amount=clock.amount * 2, unit=clock.unit
    )
    # The verification timer fires for the two cases still waiting (the stage goes on).
    assert drive.sweep_at(clock.due_at) >= 2
    fired = Deadline.objects.filter(stage=Stage.VERIFICATION, fired_at__isnull=False)
    assert set(fired.values_list("case_id", flat=True)) == {
        cases["within"].pk,
        cases["beyond"].pk,
    }
    assert not fired.filter(met_at__isnull=False).exists()  # the rows keep no end
    # One is verified before the doubled limit, the other after it.
    drive.time_machine.move_to(clock.due_at + (doubled_due - clock.due_at) / 2, tick=False)
    drive(verify_case, user=org.grid_worker, case_id=cases["within"].pk, passed=True)
    drive.time_machine.move_to(doubled_due + (doubled_due - clock.due_at), tick=False)
    drive(verify_case, user=org.grid_worker, case_id=cases["beyond"].pk, passed=True)
    live = {pk: CaseFact.objects.get(case_id=case.pk) for pk, case in cases.items()}
    assert live["within"].overdue and not live["within"].closed_on_time
    assert live["beyond"].overdue and not live["beyond"].closed_on_time
    assert not live["on_time"].overdue and live["on_time"].closed_on_time

    replay = replayed(org, scenario_with(org, limits=scaled(Stage.VERIFICATION, 2), name="x2"))
    rows = {
        name: ReplayCaseFact.objects.get(replay=replay, case_id=case.pk)
        for name, case in cases.items()
    }
    assert not rows["within"].overdue and rows["within"].closed_on_time
    assert rows["within"].verdict_changed
    assert rows["beyond"].overdue and rows["beyond"].overdue_at == doubled_due
    assert not rows["beyond"].closed_on_time and not rows["beyond"].verdict_changed
    assert rows["on_time"].closed_on_time and not rows["on_time"].verdict_changed
    # A verification's timer sends nothing up: no case would have escalated.
    assert all(row.would_escalate_at is None for row in rows.values())
    tally = replay.summary["tally"]
    assert tally["cases_changed"] == 1 and tally["would_escalate"] == 0
    assert tally["late_clocks"] == tally["late_clocks_live"] - 1
