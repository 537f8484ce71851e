"""The "me too" (附议) on the pages: the filing page's warning of a similar case nearby offers
"Me too on case N" (a button posting the support instead of filing); the case page shows how
many back it and who; the citizen's tracking page shows the count alone."""

import uuid

import pytest
from django.urls import reverse

from cases.models import Case, Supporter
from cases.services import support_case, support_case_for_caller
from teams.models import Role
from tests.cases.engine_steps import T0, accepted, file_case
from tests.factories import MembershipFactory, UserFactory

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LAT, LNG = 30.50, 120.70


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


@pytest.fixture
def neighbour(org):
    user = UserFactory(username="gw-next", first_name="Na", last_name="Li")
    MembershipFactory(user=user, role=Role.GRID_WORKER, grid=org.grid)
    return user


def nearby(client, org) -> str:
    query = {"item": org.item.pk, "lat": LAT, "lng": LNG + 0.0004}
    response = client.get(reverse("cases:nearby"), query, HTTP_HX_REQUEST="true", **EN)
    assert response.status_code == 200
    return response.content.decode()


def test_the_duplicate_warning_offers_me_too_instead_of_filing(client, org, neighbour):
    case = accepted(org)
    client.force_login(neighbour)
    body = nearby(client, org)
    assert f"Me too on case {case.number}" in body
    assert f'formaction="{reverse("cases:act", args=[case.pk, "support"])}"' in body
    assert f'name="version" value="{case.version}"' in body

    # The whistler is warned of the case but cannot back the own whistle.
    client.force_login(org.grid_worker)
    own = nearby(client, org)
    assert case.number in own
    assert "Me too on case" not in own


def test_the_button_posts_the_support_from_the_filing_form(client, org, neighbour):
    case = accepted(org)
    client.force_login(neighbour)
    # The filing form's own fields go along with the button's version; a case is not filed.
    form = {
        "item": org.item.pk,
        "description": "Garbage piled beside the bridge",
        "latitude": LAT,
        "longitude": LNG,
        "idempotency_key": uuid.uuid4().hex,
        "version": case.version,
    }
    response = client.post(reverse("cases:act", args=[case.pk, "support"]), form, **EN)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    assert Supporter.objects.filter(case=case, user=neighbour).count() == 1
    assert Case.objects.count() == 1

    detail = client.get(reverse("cases:detail", args=[case.pk]), **EN).content.decode()
    assert "1 supporter" in detail
    assert 'data-testid="supporter"' in detail
    assert "Na Li" in detail
    assert "added a “me too”" in detail  # the timeline

    # A second "me too" by the same person is refused with a clear message; still one.
    again = client.post(
        reverse("cases:act", args=[case.pk, "support"]),
        {"version": Case.objects.get(pk=case.pk).version},
        **EN,
    )
    assert again.status_code == 400
    assert "You already support case" in again.content.decode()
    assert Supporter.objects.filter(case=case).count() == 1


def test_the_case_page_names_the_supporters_the_tracking_page_counts_them(client, org, neighbour):
    case = file_case(org)
    support_case(user=neighbour, case_id=case.pk)
    support_case_for_caller(case_id=case.pk, caller_reference="13800000000", contact_name="Wang")

    client.force_login(org.village_officer)
    detail = client.get(reverse("cases:detail", args=[case.pk]), **EN).content.decode()
    assert "2 supporters" in detail
    assert "Na Li" in detail and "Wang" in detail

    client.logout()
    tracking = client.post("/track/", {"code": case.tracking_code}, **EN).content.decode()
    assert "2 other people reported the same problem." in tracking
    assert "Na Li" not in tracking and "Wang" not in tracking


def test_other_roles_get_no_me_too_page(client, org):
    case = accepted(org)
    client.force_login(org.village_officer)
    response = client.post(
        reverse("cases:act", args=[case.pk, "support"]), {"version": case.version}, **EN
    )
    assert response.status_code == 403
    assert not Supporter.objects.exists()
