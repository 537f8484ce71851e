"""A deployment of two levels (teams.levels.levels_in_use): a district straight over its
communities, or a street over its communities. The top tier goes out of use: the root of the
tree stands for the whole area (its supervisors and administrators sit there), it has no
committee, and no page offers it as a level, a committee or a consultation."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from assessment.dashboard import closing_levels, shown_keys
from assessment.definitions import help_text
from cases.forms_lists import CaseFilterForm
from teams.levels import case_levels, flag_problems, levels_in_use, on_chain
from teams.models import Grid, LevelName, Membership, Role
from tests.rollout.helpers import csv_bytes, load
from tests.rollout.test_levels import HEADERS
from tests.teams.test_level_names import longgang_world, page_texts

pytestmark = pytest.mark.django_db
__all__ = ["longgang_world"]


@pytest.fixture
def org(db):
    from tests.cases.conftest import build_org

    return build_org()


TWO_LEVELS = [
    HEADERS,
    ["city", "whole area", "whole areas", "全辖区", "false", "", "false"],
    ["town", "district", "districts", "区", "false", "true", "true"],
    ["village", "community", "communities", "社区", "false", "true", "true"],
]


def refused(rows: list[list[str]]) -> list[tuple[int | None, str, str]]:
    from rollout.services import import_org

    with translation.override("en"):
        report = import_org(
            kind="levels", filename="levels.csv", data=csv_bytes(rows), dry_run=False
        )
        found = [(e.line, e.column, e.message) for e in report.errors]
    assert not report.ok and report.created == report.changed == []
    return found


def test_three_levels_until_the_top_goes_out_of_use():
    assert levels_in_use() == ("city", "town", "village")
    report = load("levels", "levels.csv", csv_bytes(TWO_LEVELS))
    assert report.created == ["city", "town", "village"]
    top = LevelName.objects.get(level="city")
    # An empty committee column of a level out of use means no committee.
    assert (top.in_use, top.committee) == (False, False)
    assert levels_in_use() == ("town", "village")
    assert not on_chain("city") and on_chain("town")
    assert [value for value, _label in case_levels()] == ["town", "village"]
    assert closing_levels() == ["village", "town"]
    assert "level_city_share" not in shown_keys()
    filters = CaseFilterForm(data={}, grids=Grid.objects.none())
    assert [value for value, _label in filters.fields["level"].choices] == ["", "town", "village"]
    with translation.override("en"):
        assert str(help_text("solved_by_consultation_share")[0]) == (
            "Closed cases settled by a consultation of the district committee (target 10%)."
        )
    # The same file again changes nothing.
    again = load("levels", "levels.csv", csv_bytes(TWO_LEVELS))
    assert again.unchanged == ["city", "town", "village"] and not again.changed


def test_only_the_top_level_goes_out_of_use_and_then_without_committee():
    assert flag_problems(level="city", whistles_here=False, committee=False, in_use=False) == {}
    assert set(flag_problems(level="town", whistles_here=False, committee=True, in_use=False)) == {
        "in_use"
    }
    assert set(flag_problems(level="city", whistles_here=False, committee=True, in_use=False)) == {
        "committee"
    }
    rows = [
        HEADERS,
        ["city", "whole area", "", "全辖区", "false", "true", "false"],
        ["village", "community", "", "社区", "false", "true", "no"],
    ]
    assert refused(rows) == [
        (
            2,
            "committee",
            "A level out of use has no committee: the middle level's committee decides last.",
        ),
        (
            3,
            "in_use",
            "Only the top level can be out of use: a deployment has two or three levels.",
        ),
    ]
    assert not LevelName.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        LevelName.objects.create(
            level="town", name_en="street", name_zh="街道", in_use=False, committee=True
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        LevelName.objects.create(
            level="city", name_en="area", name_zh="全辖区", in_use=False, committee=True
        )


def test_the_top_stays_in_use_while_its_committee_has_staff(org):
    assert Membership.objects.filter(role=Role.CITY_COMMITTEE).count() == 1
    assert refused(TWO_LEVELS) == [
        (
            2,
            "in_use",
            "1 person is still the top committee's staff: take the membership away before the "
            "top level goes out of use.",
        )
    ]
    row = LevelName(level="city", name_en="whole area", name_zh="全辖区", in_use=False)
    row.committee = False
    with translation.override("en"), pytest.raises(ValidationError) as error:
        row.full_clean()
    assert "in_use" in error.value.message_dict
    Membership.objects.filter(role=Role.CITY_COMMITTEE).delete()
    load("levels", "levels.csv", csv_bytes(TWO_LEVELS))
    assert levels_in_use() == ("town", "village")


def test_no_one_becomes_the_missing_committee_s_staff(org):
    Membership.objects.filter(role=Role.CITY_COMMITTEE).delete()
    load("levels", "levels.csv", csv_bytes(TWO_LEVELS))
    membership = Membership(user=org.supervisor, role=Role.CITY_COMMITTEE, region=org.city)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        membership.full_clean()
    with translation.override("en"):
        assert error.value.message_dict["role"][0].startswith("This deployment has two levels")
    from rollout.services import import_org

    rows = [["username", "role", "place", "force", "stationed_in"]]
    rows.append([org.supervisor.username, "city_committee", org.city.code, "", ""])
    with translation.override("en"):
        report = import_org(
            kind="memberships", filename="m.csv", data=csv_bytes(rows), dry_run=False
        )
        errors = [(e.line, e.column, e.message) for e in report.errors]
    assert errors == [
        (
            2,
            "role",
            "This deployment has two levels: its top tier, the whole area, has no committee, so "
            "no one is its committee staff.",
        )
    ]
    assert not Membership.objects.filter(role=Role.CITY_COMMITTEE).exists()


# --- no page offers the top as a level, a committee or a consultation ----------------------------

SUMMIT = {"en": re.compile(r"summit", re.IGNORECASE), "zh-hans": re.compile("顶层")}
AS_A_LEVEL = re.compile(r"committee|consultation|level|escalat|委员会|会商|层级|级|上报", re.I)


def two_levels(*, en: str = "summit", zh: str = "顶层") -> None:
    Membership.objects.filter(role=Role.CITY_COMMITTEE).delete()
    LevelName.objects.update_or_create(
        level="city",
        defaults={
            "name_en": en,
            "plural_en": f"{en}s",
            "name_zh": zh,
            "in_use": False,
            "committee": False,
        },
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_page_offers_the_top_tier_as_a_level(longgang_world, language):
    """The top tier's word is read only where the whole area is the reader's own place (the
    supervisor's place picker, report heading, home), once a page, and never with a committee,
    a consultation or a level: a level's row, filter or label would be a second one."""
    org, objects = longgang_world
    two_levels()
    named: dict[str, list[str]] = {}
    for name, role, text in page_texts(org, objects, language, leave_out=("city_committee",)):
        if name is None:
            assert int(text) > 40
        elif SUMMIT[language].search(text):
            named.setdefault(f"{name} ({role})", []).append(text[:160])
    assert named, "the supervisor's place picker names the whole area"
    wrong = {
        page: texts
        for page, texts in named.items()
        if not page.endswith("(supervisor)")
        or len(texts) > 1
        or any(AS_A_LEVEL.search(text) for text in texts)
    }
    assert not wrong, "\n".join(f"{page}: {texts}" for page, texts in sorted(wrong.items()))


# --- the demo on two levels ---------------------------------------------------------------------


def test_the_pinghu_demo_is_built_on_two_levels_and_rebuilt_unchanged(client):
    from tests.teams.test_seed_demo import seed, snapshot

    first = seed("--shape", "pinghu")
    assert (
        "Two levels (top, bottom): street / 街道; community / 社区; the root is the whole area / "
        "全辖区." in first
    )
    assert "ph-street1" in first and "city_committee" not in first
    before = snapshot()
    assert seed("--shape", "pinghu") == first
    assert snapshot() == before
    assert levels_in_use() == ("town", "village")
    client.post(
        reverse("login"),
        {"username": "ph-grid1", "password": "whistle-demo"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    filing = client.get(reverse("cases:file"), HTTP_ACCEPT_LANGUAGE="en")
    assert filing.status_code == 200
    assert "Pinghu Community Grid 1" in filing.content.decode()


def test_the_top_stays_in_use_while_a_case_is_open_there(org, client):
    """Its committee leaves with it: a case escalated there must be settled first, whether the
    county goes to two levels through the levels file or the admin."""
    from cases.services import escalate_case, request_consultation
    from tests.cases.engine_steps import in_progress

    case = in_progress(org)
    request_consultation(user=org.captain, case_id=case.pk, reason="Needs the committee")
    escalate_case(user=org.town_committee, case_id=case.pk, reason="Too big")
    Membership.objects.filter(role=Role.CITY_COMMITTEE).delete()
    assert refused(TWO_LEVELS) == [
        (
            2,
            "in_use",
            "1 open case is handled at the top level: its committee must settle it before the "
            "top level goes out of use.",
        )
    ]
    admin = type(org.supervisor).objects.create_superuser("root-2l", password="x-Secret-2026!")
    client.force_login(admin)
    row = LevelName.objects.create(level="city", name_en="whole area", name_zh="全辖区")
    change = reverse("admin:teams_levelname_change", args=[row.pk])
    posted = {"level": "city", "name_en": "whole area", "name_zh": "全辖区"}  # in_use unticked
    response = client.post(change, posted, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "1 open case is handled at the top level" in response.content.decode()
    row.refresh_from_db()
    assert row.in_use and levels_in_use() == ("city", "town", "village")
