"""A joint visit is recorded as done on its day or later: one planned for tomorrow cannot be
recorded today, neither through the service nor on its page."""

import pytest

from cases.errors import IllegalTransition
from consultation.models import Investigation
from tests.consultation.conftest import T0, at
from tests.consultation.test_investigations import plan, record

pytestmark = pytest.mark.usefixtures("clock")


def test_a_visit_planned_for_tomorrow_cannot_be_recorded_today(org):
    investigation = plan(org, planned_for=at(2025, 6, 11, 9, 0))  # T0 is 2025-06-10
    with pytest.raises(IllegalTransition) as refused:
        record(org, investigation)
    assert "2025-06-11" in str(refused.value)
    investigation.refresh_from_db()
    assert investigation.status == Investigation.Status.PLANNED
    assert not investigation.findings.exists()


def test_a_visit_is_recorded_on_its_day_even_before_the_planned_hour(org):
    investigation = plan(org, planned_for=at(2025, 6, 10, 15, 0))
    assert investigation.planned_for > T0
    record(org, investigation)
    investigation.refresh_from_db()
    assert investigation.status == Investigation.Status.DONE


def test_a_visit_is_recorded_after_its_day(org, time_machine):
    investigation = plan(org, planned_for=at(2025, 6, 11, 9, 0))
    time_machine.move_to(at(2025, 6, 13, 10, 0), tick=False)
    record(org, investigation)
    investigation.refresh_from_db()
    assert investigation.status == Investigation.Status.DONE


def test_the_page_offers_no_record_form_before_the_day(client, org, time_machine):
    investigation = plan(org, planned_for=at(2025, 6, 11, 9, 0))
    client.force_login(org.captain)
    url = f"/consultation/investigations/{investigation.pk}/"
    html = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert 'data-testid="record-form"' not in html
    assert 'data-testid="record-not-yet"' in html
    time_machine.move_to(at(2025, 6, 11, 8, 0), tick=False)
    html = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert 'data-testid="record-form"' in html
