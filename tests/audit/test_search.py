"""The auditor's page: search the trail by user, kind, outcome, case, address and dates, page
through it and export a search (itself recorded); everyone else is refused (403)."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AccessKind, AccessRecord
from teams.navigation import links_for
from tests.audit.conftest import ADDRESS
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("audit:search")


def record(**fields) -> AccessRecord:
    defaults = {"kind": AccessKind.CASE_VIEWED, "outcome": "success"}
    return AccessRecord.objects.create(**{**defaults, **fields})


@pytest.fixture
def trail(org):
    now = timezone.now()
    return {
        "old": record(at=now - timedelta(days=40), username="gw", case_number="HN-1"),
        "viewed": record(username="vo", case_number="HN-2", address=ADDRESS),
        "failed": record(
            username="mallory",
            kind=AccessKind.SIGN_IN_FAILED,
            outcome="failure",
            address="198.51.100.4",
        ),
    }


def shown(response) -> set[int]:
    return {row.pk for row in response.context["page"].object_list}


def test_the_auditor_searches_by_each_filter(client, auditor, trail):
    client.force_login(auditor)
    day = timezone.localdate()

    def search(**query) -> set[int]:
        response = client.get(URL, query)
        assert response.status_code == 200
        return shown(response) - {r.pk for r in AccessRecord.objects.filter(username="aud")}

    assert search() == {r.pk for r in trail.values()}
    assert search(username="vo") == {trail["viewed"].pk}
    assert search(kind=AccessKind.SIGN_IN_FAILED) == {trail["failed"].pk}
    assert search(outcome="failure") == {trail["failed"].pk}
    assert search(case_number="HN-1") == {trail["old"].pk}
    assert search(address=ADDRESS) == {trail["viewed"].pk}
    assert search(date_from=day.isoformat()) == {trail["viewed"].pk, trail["failed"].pk}
    assert search(date_to=(day - timedelta(days=30)).isoformat()) == {trail["old"].pk}


def test_every_search_is_itself_recorded(client, auditor, trail):
    client.force_login(auditor)

    client.get(URL, {"username": "vo"}, REMOTE_ADDR=ADDRESS)

    mine = AccessRecord.objects.get(user=auditor, kind=AccessKind.AUDIT_SEARCHED)
    assert mine.target == URL + "?username=vo" and mine.address == ADDRESS


def test_the_search_pages_newest_first(client, auditor, org):
    for number in range(60):
        record(username="gw", case_number=f"HN-{number}")
    client.force_login(auditor)

    first = client.get(URL, {"username": "gw"}).context["page"]
    second = client.get(URL, {"username": "gw", "page": 2}).context["page"]

    assert first.paginator.count == 60 and len(first.object_list) == 50
    assert len(second.object_list) == 10
    assert first.object_list[0].case_number == "HN-59"


def test_a_reversed_date_range_is_refused_with_a_message(client, auditor, trail):
    client.force_login(auditor)

    with translation.override("en"):
        response = client.get(
            URL, {"date_from": "2026-03-02", "date_to": "2026-03-01"}, HTTP_ACCEPT_LANGUAGE="en"
        )

    assert response.status_code == 400
    assert "The start date must not be after the end date." in response.content.decode()
    assert not response.context["page"].object_list


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_page_renders_in_both_languages(client, auditor, trail, language):
    client.force_login(auditor)

    response = client.get(URL, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'lang="{language}"' in html
    assert 'data-testid="audit-table"' in html and "mallory" in html


def test_the_auditor_exports_a_search_and_the_export_is_recorded(client, auditor, trail):
    client.force_login(auditor)

    response = client.get(URL, {"username": "vo", "format": "csv"}, REMOTE_ADDR=ADDRESS)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][1] == "vo" and rows[1][2] == ADDRESS and rows[1][5] == "HN-2"
    export = AccessRecord.objects.get(user=auditor, kind=AccessKind.EXPORT)
    assert export.detail.startswith("access-audit-") and export.detail.endswith(".csv")
    assert export.address == ADDRESS

    xlsx = client.get(URL, {"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get(URL, {"format": "pdf"}).status_code == 400


def test_everyone_else_is_refused_and_the_refusal_recorded(client, org, trail):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    MembershipFactory(user=admin, role="admin", region=org.city)
    for user in (org.supervisor, org.city_committee, org.grid_worker, admin):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.get(URL, {"format": "csv"}).status_code == 403
        assert AccessRecord.objects.filter(user=user, kind=AccessKind.REFUSED).count() == 2
    assert not AccessRecord.objects.filter(kind__in=[AccessKind.EXPORT, AccessKind.AUDIT_SEARCHED])
    client.logout()
    assert client.get(URL).status_code == 302  # to the sign-in page


def test_only_the_auditor_has_the_page_in_the_navigation(org, auditor):
    assert "audit:search" in {link.url_name for link in links_for(user=auditor, roles={"auditor"})}
    assert "audit:search" not in {
        link.url_name for link in links_for(user=org.supervisor, roles={"supervisor"})
    }


def test_the_auditor_sees_nothing_of_the_cases(client, auditor, org):
    from tests.cases.engine_steps import in_progress

    case = in_progress(org)
    client.force_login(auditor)

    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    response = client.get(reverse("cases:list"))
    assert response.status_code == 200 and case.number not in response.content.decode()
