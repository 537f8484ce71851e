"""The policy lab's replay pages: requesting a replay (place and period; a period with no
cases refused), the replay's page with its progress polled by htmx until it has finished,
the tally and the rules it ran under once done, cancel, rename and delete; who may open
them."""

import re

from django.test import Client
from django.urls import reverse

from policylab import services
from policylab.models import Replay
from policylab.rules import limits_in_force
from tests.policylab.conftest import Lab, change_limits, run
from tests.security.scenario import build_org


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def request_page(lab: Lab) -> str:
    return reverse("policylab:replay_new", args=[lab.scenario.pk])


def page_of(replay: Replay) -> str:
    return reverse("policylab:replay", args=[replay.pk])


def summer(lab: Lab, **extra) -> dict:
    return {
        "name": "Summer, doubled",
        "place": lab.org.city.pk,
        "kind": "custom",
        "start": "2025-06-01",
        "end": "2025-08-31",
        **extra,
    }


def test_requesting_a_replay_queues_it_and_opens_its_page(lab: Lab):
    client = signed_in(lab.org.supervisor)
    form = client.get(request_page(lab)).content.decode()
    assert 'data-testid="replay-form"' in form
    assert f'<option value="{lab.org.town.pk}"' in form  # the city or one of its towns
    response = client.post(request_page(lab), summer(lab))
    replay = Replay.objects.get()
    assert response.status_code == 302 and response["Location"] == page_of(replay)
    assert (replay.name, replay.region, replay.state) == (
        "Summer, doubled",
        lab.org.city,
        Replay.State.QUEUED,
    )
    assert (replay.period_start.isoformat(), replay.period_end.isoformat()) == (
        "2025-06-01",
        "2025-09-01",
    )


def test_a_period_with_no_cases_is_refused_with_its_reason(lab: Lab):
    client = signed_in(lab.org.supervisor)
    response = client.post(
        request_page(lab), summer(lab, start="2025-01-01", end="2025-01-31", name="Winter")
    )
    assert response.status_code == 400
    page = response.content.decode()
    errors = re.search(r'data-testid="period-errors">(.*?)</div>', page, re.S).group(1)
    assert "nothing to replay" in errors and lab.org.city.name in errors
    assert 'value="Winter"' in page  # what was typed is kept
    assert not Replay.objects.exists()

    bad = client.post(request_page(lab), summer(lab, kind="month", anchor="", start="", end=""))
    assert bad.status_code == 400 and "Give a day of the period" in bad.content.decode()
    assert not Replay.objects.exists()


def test_the_page_polls_the_progress_until_done_then_shows_the_tally(lab: Lab):
    scenario = change_limits(lab, factor=0.5)
    client = signed_in(lab.org.supervisor)
    client.post(request_page(lab), summer(lab, name="Halved"))
    replay = Replay.objects.get()

    page = client.get(page_of(replay)).content.decode()
    progress = reverse("policylab:replay_progress", args=[replay.pk])
    assert f'hx-get="{progress}" hx-trigger="every 2s"' in page
    assert 'data-testid="cancel-replay"' in page and 'data-testid="tally"' not in page
    fragment = client.get(progress, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in fragment.content.decode()
    assert "HX-Refresh" not in fragment

    services.run_replay(replay_id=replay.pk)
    replay.refresh_from_db()
    assert replay.state == Replay.State.DONE
    tally = replay.summary["tally"]
    assert tally["clocks_replayed"] > 0

    # The poll that finds it finished reloads the page once; the new fragment does not poll.
    fragment = client.get(progress, HTTP_HX_REQUEST="true")
    assert fragment["HX-Refresh"] == "true"
    assert "hx-trigger" not in fragment.content.decode()
    page = client.get(page_of(replay)).content.decode()
    assert "hx-trigger" not in page.split('id="replay-progress"')[1].split(">")[0]
    assert f"{replay.cases_total} of {replay.cases_total} cases replayed (100%)" in page
    assert 'data-testid="cancel-replay"' not in page
    for key, testid in [
        ("cases", "tally-cases"),
        ("late_clocks_live", "tally-late-live"),
        ("late_clocks", "tally-late"),
        ("warnings_live", "tally-warnings-live"),
        ("warnings", "tally-warnings"),
        ("cases_changed", "tally-cases-changed"),
        ("dispatches_changed", "tally-dispatches-changed"),
    ]:
        shown = re.search(rf'data-testid="{testid}">(\d+)', page).group(1)
        assert int(shown) == tally[key], key
    assert re.search(r'data-testid="tally-escalate">(\d+)', page).group(1) == str(
        tally["would_escalate"]
    )
    assert f"{tally['clocks_replayed']} of {tally['clocks']}" in page
    # The rules it ran under: the halved limits, each beside the one in force.
    limits = re.search(r'data-testid="rules-limits">(.*?)</table>', page, re.S).group(1)
    in_force = {(row["item"], row["stage"]): row["amount"] for row in limits_in_force()}
    halved = [
        row for row in scenario.limits if row["amount"] != in_force[row["item"], row["stage"]]
    ]
    assert halved and limits.count("<tr><td>") == len(halved)
    assert f'href="/lab/compare/?replay={replay.pk}"' in page


def test_cancelling_a_queued_replay(lab: Lab):
    client = signed_in(lab.org.supervisor)
    client.post(request_page(lab), summer(lab))
    replay = Replay.objects.get()
    response = client.post(reverse("policylab:replay_cancel", args=[replay.pk]), follow=True)
    replay.refresh_from_db()
    assert replay.state == Replay.State.CANCELLED and replay.cancel_requested
    page = response.content.decode()
    assert "The replay is cancelled." in page
    assert (
        'data-state="cancelled"' in page
        and "hx-trigger" not in page.split("replay-progress")[1][:400]
    )
    # The task finds it cancelled and does nothing.
    assert services.run_replay(replay_id=replay.pk) == "skipped"
    again = client.post(reverse("policylab:replay_cancel", args=[replay.pk]), follow=True)
    assert "Only a queued or running replay can be cancelled." in again.content.decode()


def test_renaming_and_deleting_a_replay(lab: Lab):
    replay = run(lab, name="First try")
    client = signed_in(lab.org.supervisor)
    rename = reverse("policylab:replay_rename", args=[replay.pk])
    page = client.get(page_of(replay)).content.decode()
    assert "Every limit as in force." in page and "As the scheme in force now." in page
    response = client.post(rename, {"name": "Summer as in force"})
    assert response.status_code == 302
    replay.refresh_from_db()
    assert replay.name == "Summer as in force"
    refused = client.post(rename, {"name": " "})
    assert refused.status_code == 400 and "Give it a name." in refused.content.decode()
    replay.refresh_from_db()
    assert replay.name == "Summer as in force"

    listed = client.get(reverse("policylab:index")).content.decode()
    assert f'data-testid="replay-{replay.pk}"' in listed
    assert f'data-testid="compare-pick-{replay.pk}"' in listed  # finished: comparable

    response = client.post(reverse("policylab:replay_delete", args=[replay.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("policylab:index")
    assert not Replay.objects.exists()


def test_a_running_replay_is_not_deleted(lab: Lab):
    client = signed_in(lab.org.supervisor)
    client.post(request_page(lab), summer(lab))
    replay = Replay.objects.get()
    response = client.post(reverse("policylab:replay_delete", args=[replay.pk]), follow=True)
    assert "The replay is still running: cancel it first." in response.content.decode()
    assert Replay.objects.filter(pk=replay.pk).exists()


def test_replay_pages_are_for_the_lab_roles_of_the_city(lab: Lab):
    replay = run(lab)
    other = build_org(prefix="x", city_code="SZ", lng=121.50)
    urls = [
        ("get", page_of(replay)),
        ("get", reverse("policylab:replay_progress", args=[replay.pk])),
        ("post", reverse("policylab:replay_cancel", args=[replay.pk])),
        ("post", reverse("policylab:replay_rename", args=[replay.pk])),
        ("post", reverse("policylab:replay_delete", args=[replay.pk])),
    ]
    for method, url in urls:
        assert getattr(signed_in(other.supervisor), method)(url).status_code == 404, url
        for user in (lab.org.town_committee, lab.org.captain):
            assert getattr(signed_in(user), method)(url).status_code == 403, url
        anonymous = getattr(Client(), method)(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert signed_in(lab.org.city_committee).get(page_of(replay)).status_code == 200
    assert Replay.objects.filter(pk=replay.pk, name="replay").exists()
