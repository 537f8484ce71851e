"""Whistle quality per village and per grid worker: whistles rejected, merged as duplicates and
backed by a "me too" (附议), as facts projected from the events, as indicators (whose
drill-down lists exactly their cases), on the unit's dashboard, and weighable in a scheme; the
rebuild from the events gives exactly the incremental facts."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from assessment import scoring, selectors
from assessment.admin import SchemeIndicatorForm
from assessment.indicators import Indicator
from assessment.models import CaseFact
from assessment.periods import custom
from assessment.services import rebuild_all_facts, stale_case_ids
from cases.services import (
    accept_case,
    file_whistle,
    merge_case,
    reject_case,
    support_case,
    support_case_for_caller,
)
from teams.models import Role
from tests.assessment.dashboards_steps import count_links
from tests.assessment.facts_steps import Driver, eager_celery, snapshot  # noqa: F401
from tests.cases.conftest import org  # noqa: F401
from tests.cases.engine_steps import LAT, LNG, T0
from tests.factories import MembershipFactory, UserFactory

SUMMER = custom(date(2025, 6, 1), date(2025, 8, 31))
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def drive(django_capture_on_commit_callbacks, time_machine, eager_celery):  # noqa: F811
    return Driver(django_capture_on_commit_callbacks, time_machine)


@pytest.fixture
def whistles(org, drive) -> dict:  # noqa: F811
    """The grid worker files four whistles: one accepted, one rejected, one merged into the
    first, one accepted and backed by a colleague and a hotline caller; the colleague files one
    that is rejected."""
    colleague = UserFactory(username="gw-colleague")
    MembershipFactory(user=colleague, role=Role.GRID_WORKER, grid=org.grid)

    def filed(user, latitude=LAT):
        return drive.filed(
            file_whistle,
            user=user,
            item=org.item,
            description="Garbage piled beside the bridge",
            latitude=latitude,
            longitude=LNG,
        )

    cases = {}
    cases["accepted"] = filed(org.grid_worker)
    drive(accept_case, user=org.village_officer, case_id=cases["accepted"].pk)
    cases["rejected"] = filed(org.grid_worker, latitude=LAT + 0.003)
    drive(reject_case, user=org.village_officer, case_id=cases["rejected"].pk, reason="Not ours")
    cases["merged"] = filed(org.grid_worker)
    assert cases["merged"].possible_duplicate_of_id == cases["accepted"].pk
    drive(
        merge_case,
        user=org.village_officer,
        case_id=cases["merged"].pk,
        into_case_id=cases["accepted"].pk,
    )
    cases["supported"] = filed(org.grid_worker, latitude=LAT - 0.003)
    drive(accept_case, user=org.village_officer, case_id=cases["supported"].pk)
    drive(support_case, user=colleague, case_id=cases["supported"].pk)
    drive(support_case_for_caller, case_id=cases["supported"].pk, caller_reference="13800000000")
    cases["colleague_rejected"] = filed(colleague, latitude=LAT + 0.004)
    drive(
        reject_case,
        user=org.village_officer,
        case_id=cases["colleague_rejected"].pk,
        reason="A civil dispute",
    )
    cases["colleague"] = colleague
    return cases


def test_the_facts_of_whistle_quality(org, whistles):  # noqa: F811
    def fact(name):
        return CaseFact.objects.get(pk=whistles[name].pk)

    assert (fact("rejected").rejected, fact("rejected").merged) == (True, False)
    assert (fact("merged").rejected, fact("merged").merged) == (True, True)
    assert (fact("accepted").merged, fact("accepted").supporters) == (False, 0)
    assert fact("supported").supporters == 2


def numbers(values, key):
    return values[key].numerator, values[key].denominator


def behind(org, key, part, unit_type, unit_id):  # noqa: F811
    return set(
        selectors.cases_behind(
            user=org.supervisor,
            indicator_key=key,
            part=part,
            unit_type=unit_type,
            unit_id=unit_id,
            period=SUMMER,
        ).values_list("pk", flat=True)
    )


def test_per_village_and_per_grid_worker_with_the_cases_behind(org, whistles):  # noqa: F811
    village = selectors.indicators(
        user=org.supervisor, unit_type="village", unit_id=org.village.pk, period=SUMMER
    )
    assert numbers(village, "rejected_share") == (2, 5)
    assert village["rejected_share"].value == pytest.approx(0.4)
    assert numbers(village, "merged_share") == (1, 5)
    assert numbers(village, "supported_share") == (1, 5)
    worker = selectors.indicators(
        user=org.supervisor, unit_type="grid_worker", unit_id=org.grid_worker.pk, period=SUMMER
    )
    assert numbers(worker, "rejected_share") == (1, 4)
    assert numbers(worker, "merged_share") == (1, 4)
    assert numbers(worker, "supported_share") == (1, 4)
    colleague = selectors.indicators(
        user=org.supervisor,
        unit_type="grid_worker",
        unit_id=whistles["colleague"].pk,
        period=SUMMER,
    )
    assert numbers(colleague, "rejected_share") == (1, 1)
    # The rates of the handling still leave the rejected and merged whistles out.
    assert village["rework_rate"].denominator == 2

    pk = {name: case.pk for name, case in whistles.items() if name != "colleague"}
    village_id, worker_id = org.village.pk, org.grid_worker.pk
    assert behind(org, "rejected_share", "numerator", "village", village_id) == {
        pk["rejected"],
        pk["colleague_rejected"],
    }
    assert behind(org, "rejected_share", "denominator", "village", village_id) == set(pk.values())
    assert behind(org, "merged_share", "numerator", "grid_worker", worker_id) == {pk["merged"]}
    assert behind(org, "supported_share", "numerator", "grid_worker", worker_id) == {
        pk["supported"]
    }
    for key in ("rejected_share", "merged_share", "supported_share"):
        for part in ("numerator", "denominator"):
            for unit_type, unit_id in (("village", village_id), ("grid_worker", worker_id)):
                count = getattr(
                    selectors.indicators(
                        user=org.supervisor, unit_type=unit_type, unit_id=unit_id, period=SUMMER
                    )[key],
                    part,
                )
                assert len(behind(org, key, part, unit_type, unit_id)) == count


def test_the_village_dashboard_shows_whistle_quality(client, org, whistles):  # noqa: F811
    client.force_login(org.village_officer)
    url = reverse("assessment:unit", args=["village", org.village.pk])
    page = client.get(url, {"kind": "custom", "start": "2025-06-01", "end": "2025-08-31"}, **EN)
    assert page.status_code == 200
    body = page.content.decode()
    for label in ("Rejected whistles", "Whistles merged as duplicates", "“me too”"):
        assert label in body
    assert "indicator=rejected_share" in body


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_rejection_reasons_each_list_exactly_their_whistles(
    client,
    org,  # noqa: F811
    whistles,
    drive,
    language,
):
    """The village's rejected share broken down by reason: each reason's count opens the list
    of exactly those whistles; merged duplicates are not among them."""
    third = drive.filed(
        file_whistle,
        user=org.grid_worker,
        item=org.item,
        description="A quarrel between neighbours",
        latitude=LAT - 0.002,
        longitude=LNG,
    )
    drive(reject_case, user=org.village_officer, case_id=third.pk, reason="A civil dispute")
    assert selectors.rejection_reasons(
        user=org.supervisor, unit_type="village", unit_id=org.village.pk, period=SUMMER
    ) == [("A civil dispute", 2), ("Not ours", 1)]
    client.force_login(org.village_officer)
    url = reverse("assessment:unit", args=["village", org.village.pk])
    period = {"kind": "custom", "start": "2025-06-01", "end": "2025-08-31"}
    body = client.get(url, period, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert 'data-testid="table-reasons"' in body
    links = {
        link: count
        for link, count in count_links(body)
        if "reason=" in link and "indicator=rejected_share" in link
    }
    assert sorted(links.values()) == [1, 2]
    for link, count in links.items():
        listed = client.get(link, HTTP_ACCEPT_LANGUAGE=language)
        assert listed.context["listing"].paginator.count == count
    # The grid worker's own page breaks down only their own rejected whistles.
    assert selectors.rejection_reasons(
        user=org.supervisor,
        unit_type="grid_worker",
        unit_id=whistles["colleague"].pk,
        period=SUMMER,
    ) == [("A civil dispute", 1)]


def test_rebuild_gives_exactly_the_incremental_facts(org, whistles):  # noqa: F811
    incremental = snapshot()
    assert stale_case_ids() == []
    assert rebuild_all_facts(batch_size=2) == 5
    assert snapshot() == incremental


def test_whistle_quality_can_be_weighed(db):
    today = date(2025, 6, 1)
    scheme = scoring.create_scheme(
        name="Good whistles",
        valid_from=today,
        indicators=[
            ("rejected_share", Decimal("1"), None, Decimal("0.1")),
            ("supported_share", Decimal("1"), Decimal("0.2"), None),
        ],
        today=today,
    )

    def rate(key, value):
        return Indicator(key=key, label=key, numerator=0, denominator=1, value=value)

    indicators = {
        "rejected_share": rate("rejected_share", 0.55),  # 50 points: less is better
        "supported_share": rate("supported_share", 0.2),  # 100 points
    }
    result = scoring.score(scheme=scheme, indicators=indicators, counts={})
    assert result.indicator_score == pytest.approx(75)
    choices = dict(SchemeIndicatorForm.base_fields["key"].choices)
    assert {"rejected_share", "merged_share", "supported_share"} <= set(choices)
