"""The unit page's reasons for rejection group the common reasons by their code and name them
in the reader's language; each count opens exactly those whistles (issue 19, item 12)."""

import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import translation

from assessment.services import refresh_case_facts
from cases.services import reject_case
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import T0, file_case


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def test_common_reasons_are_counted_by_code_and_read_in_chinese(client, org):  # noqa: F811
    with translation.override("en"):
        for code in ("dispute", "dispute", "not_on_list"):
            case = file_case(org)
            reject_case(user=org.village_officer, case_id=case.pk, reason_code=code)
            refresh_case_facts(case_id=case.pk)
    client.force_login(org.supervisor)
    url = reverse("assessment:unit", args=["village", org.village.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    table = page.split('data-testid="table-reasons"', 1)[1].split("</table>", 1)[0]
    assert "属于民事或经济纠纷，不适用吹哨。" in table
    assert "civil or economic dispute" not in table
    links = [
        (unescape(href), int(count))
        for href, count in re.findall(r'href="([^"]+)"[^>]*>\s*(\d+)\s*<', table)
    ]
    assert sorted(n for _url, n in links) == [1, 2]
    for link, number in links:
        listing = client.get(link, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert f'data-testid="result-count" data-count="{number}"' in listing
        assert "属于民事或经济纠纷" in listing or "该事项不在吹哨清单内" in listing
