"""The spot-check pages: the list with the draw form (supervisors; the city committee reads),
one draw with a revisit form per case, the case page's button, and their refusals."""

import pytest
from django.urls import reverse

from cases.models import Event, Status
from spotchecks.models import SpotCheck, SpotCheckCase
from tests.cases.engine_steps import T0, fresh, png
from tests.spotchecks.steps import DAY, closed_cases, draw, not_an_image

LIST = "spotchecks:list"
Outcome = SpotCheckCase.Outcome


@pytest.fixture(autouse=True)
def _clock_and_media(time_machine, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(T0, tick=False)


def get(client, user, url: str):
    client.force_login(user)
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def post(client, user, url: str, data: dict):
    client.force_login(user)
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")


def draw_data(org, **change) -> dict:
    data = {
        "city": org.city.pk,
        "team": org.team.pk,
        "department": "",
        "closed_from": DAY.isoformat(),
        "closed_to": DAY.isoformat(),
        "size": 2,
        "seed": "",
    }
    data.update(change)
    return data


def test_the_supervisor_draws_a_sample_from_the_page(client, org, settings):
    settings.WHISTLE_SPOT_CHECK_SAMPLE_SIZE = 3
    closed_cases(org, 3)
    page = get(client, org.supervisor, reverse(LIST))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="form-draw"' in html
    assert 'name="size" value="3"' in html
    assert reverse(LIST) in get(client, org.supervisor, reverse("home")).content.decode()
    response = post(client, org.supervisor, reverse(LIST), draw_data(org))
    spot_check = SpotCheck.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("spotchecks:detail", args=[spot_check.pk])
    assert spot_check.cases.count() == 2 and spot_check.drawn_by == org.supervisor
    listed = get(client, org.supervisor, reverse(LIST)).content.decode()
    assert f'data-testid="spot-check-{spot_check.pk}"' in listed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"size": 4}, "larger than the unit"),
        ({"size": 0}, "at least one case"),
        ({"team": ""}, "one team or one department"),
        ({"size": "many"}, "whole number"),
    ],
)
def test_a_bad_draw_is_refused_with_its_reason_and_nothing_drawn(client, org, change, message):
    closed_cases(org, 3)
    response = post(client, org.supervisor, reverse(LIST), draw_data(org, **change))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SpotCheck.objects.exists() and not SpotCheckCase.objects.exists()


def test_the_city_committee_reads_and_others_are_refused(client, org):
    closed_cases(org, 1)
    spot_check = draw(org, size=1)
    detail = reverse("spotchecks:detail", args=[spot_check.pk])
    page = get(client, org.city_committee, reverse(LIST)).content.decode()
    assert 'data-testid="form-draw"' not in page and f"spot-check-{spot_check.pk}" in page
    html = get(client, org.city_committee, detail).content.decode()
    assert "form-revisit" not in html
    assert post(client, org.city_committee, reverse(LIST), draw_data(org)).status_code == 403
    for role in ("captain", "town_committee", "grid_worker"):
        assert get(client, getattr(org, role), reverse(LIST)).status_code == 403, role
        # They see the drawn case, so the spot check is in their scope: 403, not 404.
        assert get(client, getattr(org, role), detail).status_code == 403, role
    assert get(client, org.other_captain, detail).status_code == 404


def test_the_revisit_is_recorded_from_the_draw_page(client, org):
    case, other = closed_cases(org, 2)
    spot_check = draw(org, size=2)
    detail = reverse("spotchecks:detail", args=[spot_check.pk])
    html = get(client, org.supervisor, detail).content.decode()
    assert f'data-testid="form-revisit-{case.pk}"' in html
    assert reverse("cases:act", args=[case.pk, "record_spot_check"]) in html
    # A photo that is not an image: refused, nothing changed.
    response = post(
        client,
        org.supervisor,
        reverse("cases:act", args=[case.pk, "record_spot_check"]),
        {
            "version": fresh(case).version,
            "next": detail,
            "outcome": Outcome.FALSE_REPLY,
            "note": "Back",
            "photos": [not_an_image()],
        },
    )
    assert response.status_code == 400
    assert fresh(case).status == Status.CLOSED
    response = post(
        client,
        org.supervisor,
        reverse("cases:act", args=[case.pk, "record_spot_check"]),
        {
            "version": fresh(case).version,
            "next": detail,
            "outcome": Outcome.FALSE_REPLY,
            "note": "The pile is back",
            "photos": [png()],
        },
    )
    assert response.status_code == 302 and response["Location"] == detail
    assert fresh(case).status == Status.DISPATCHED
    html = get(client, org.supervisor, detail).content.decode()
    assert f'data-testid="form-revisit-{case.pk}"' not in html
    assert f'data-testid="form-revisit-{other.pk}"' in html
    assert "not actually resolved" in html and 'data-testid="revisit-photo"' in html
    # The case page tells what happened; the button is gone.
    page = get(client, org.supervisor, reverse("cases:detail", args=[case.pk])).content.decode()
    assert "revisited in a spot check: not actually resolved" in page
    assert reverse("cases:act", args=[case.pk, "record_spot_check"]) not in page


def test_the_case_page_offers_the_revisit_to_the_supervisor_only(client, org):
    (case,) = closed_cases(org, 1)
    url = reverse("cases:act", args=[case.pk, "record_spot_check"])
    assert (
        url
        not in get(client, org.supervisor, reverse("cases:detail", args=[case.pk])).content.decode()
    )
    draw(org, size=1)
    page = get(client, org.supervisor, reverse("cases:detail", args=[case.pk])).content.decode()
    assert url in page and "drew the case for a spot check" in page
    assert get(client, org.supervisor, url).status_code == 200
    assert get(client, org.town_committee, url).status_code == 403
    response = post(
        client, org.supervisor, url, {"version": fresh(case).version, "outcome": Outcome.CONFIRMED}
    )
    assert response.status_code == 302
    assert Event.objects.filter(case=case, action="spot_check_confirmed").exists()
    assert fresh(case).status == Status.CLOSED


def test_the_pages_read_in_chinese(client, org):
    closed_cases(org, 1)
    spot_check = draw(org, size=1)
    client.force_login(org.supervisor)
    for url in (reverse(LIST), reverse("spotchecks:detail", args=[spot_check.pk])):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200
        assert 'lang="zh-hans"' in response.content.decode()
