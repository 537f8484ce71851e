"""A small month of cases for the dashboard page tests, walked through the real services,
and helpers to read the numbers and links a page shows."""

import re
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

from assessment.services import rebuild_all_facts
from cases.models import Satisfaction
from cases.services import evaluate_case, reject_case, resolve_on_spot, verify_case
from tests.cases.engine_steps import accepted, file_case, png, resolved_by_team

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 6, 10, 9, 0, tzinfo=TZ)  # a Tuesday in office hours
OTHER = {"latitude": 30.50, "longitude": 120.80}  # inside org.other_grid

COUNT_LINK = re.compile(
    r'<a href="(?P<url>[^"]+)"[^>]*data-testid="count-link" data-count="(?P<count>\d+)"'
)


def closed_on_spot(org, satisfaction: str = Satisfaction.SATISFIED):
    case = accepted(org)
    resolve_on_spot(user=org.village_officer, case_id=case.pk, note="Cleared", photos=[png()])
    verify_case(user=org.grid_worker, case_id=case.pk, passed=True)
    return evaluate_case(user=org.grid_worker, case_id=case.pk, satisfaction=satisfaction)


def closed_by_team(org):
    case = resolved_by_team(org)
    return verify_case(user=org.grid_worker, case_id=case.pk, passed=True)


def month_of_cases(org) -> dict:
    """Two cases closed at the village, one closed by the town's team, one open, one rejected,
    one in the other village; facts rebuilt from the events."""
    cases = {
        "village_closed": closed_on_spot(org),
        "village_closed_2": closed_on_spot(org, Satisfaction.UNSATISFIED),
        "town_closed": closed_by_team(org),
        "open": file_case(org),
        "other_village": file_case(org, user=org.other_grid_worker, **OTHER),
    }
    rejected = file_case(org)
    cases["rejected"] = reject_case(
        user=org.village_officer, case_id=rejected.pk, reason="A civil dispute"
    )
    rebuild_all_facts()
    return cases


def count_links(html: str) -> list[tuple[str, int]]:
    """Every (drill-down url, number shown) pair on a page."""
    return [(unescape(m["url"]), int(m["count"])) for m in COUNT_LINK.finditer(html)]
