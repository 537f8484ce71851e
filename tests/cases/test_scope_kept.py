"""Each process keeps the users' scopes with the reference data (cases.access.scope_of,
core.reference): a request after the first reads no membership, and every change of what a
scope is made of (a membership, a team's home or its areas) is seen by the very next request;
an edit in another process once the version token moves.

The rows must be committed for the copy to be used at all (the thread that changed reference
rows reads the database until its transaction ends), so these tests commit."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.access import scope_of
from core import reference
from teams.models import Membership, Role, Team, User
from tests.api.conftest import client_for
from tests.api.steps import post
from tests.cases.conftest import org
from tests.factories import TownFactory

__all__ = ["org"]

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LAT, LNG = 30.50, 120.70


@pytest.fixture(autouse=True)
def _prompt_checks(settings):
    """Compare tokens on every read, as a process does once its check interval has passed."""
    settings.WHISTLE_REFERENCE_CHECK_SECONDS = 0


def _file(org):
    return post(
        client_for(org.grid_worker),
        "/api/cases/",
        {
            "item": org.item.pk,
            "grid": org.grid.pk,
            "description": "Garbage",
            "latitude": LAT,
            "longitude": LNG,
        },
    )


def _fresh(user: User) -> User:
    """The user as the next request loads it (nothing cached on the object)."""
    return User.objects.get(pk=user.pk)


def test_a_second_request_reads_no_scope(org):
    assert _file(org).status_code == 201
    with CaptureQueriesContext(connection) as queries:
        assert _file(org).status_code == 201
    # The scope's read names every place column of the memberships (the village officers to
    # notify are another read, of the users).
    read = [
        q["sql"] for q in queries.captured_queries if '"teams_membership"."grid_id"' in q["sql"]
    ]
    assert not read, read
    forgotten = _fresh(org.grid_worker)
    with CaptureQueriesContext(connection) as queries:
        assert scope_of(forgotten).grid_villages == {org.village.pk}
    assert len(queries) == 0


def test_a_role_taken_away_is_refused_at_the_next_request(org):
    assert _file(org).status_code == 201
    Membership.objects.get(user=org.grid_worker, role=Role.GRID_WORKER).delete()
    response = _file(org)
    assert response.status_code == 403, response.content


def test_a_queryset_update_of_a_membership_is_seen_at_the_next_request(org):
    assert _file(org).status_code == 201
    moved = Membership.objects.filter(user=org.grid_worker, role=Role.GRID_WORKER).update(
        grid=org.other_grid
    )
    assert moved == 1
    response = _file(org)  # the old grid's village is no longer the grid worker's
    assert response.status_code == 403, response.content
    assert scope_of(_fresh(org.grid_worker)).grid_villages == {org.other_village.pk}


def test_a_team_given_areas_or_a_new_home_changes_its_captains_scope_at_once(org):
    assert scope_of(_fresh(org.captain)).served(Role.TEAM_CAPTAIN).towns == {org.town.pk}
    org.team.areas.add(org.other_town)
    assert scope_of(_fresh(org.captain)).served(Role.TEAM_CAPTAIN).towns == {org.other_town.pk}
    org.team.areas.clear()
    assert scope_of(_fresh(org.captain)).served(Role.TEAM_CAPTAIN).towns == {org.town.pk}
    third = TownFactory(parent=org.city)
    Team.objects.filter(pk=org.team.pk).update(region=third)
    assert scope_of(_fresh(org.captain)).served(Role.TEAM_CAPTAIN).towns == {third.pk}


def test_an_edit_in_another_process_is_seen_once_the_token_moves(org, settings):
    settings.WHISTLE_REFERENCE_CHECK_SECONDS = 3600
    assert scope_of(_fresh(org.grid_worker)).grid_villages == {org.village.pk}
    # Another process: its edit reaches this one only through the token it publishes.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE teams_membership SET grid_id = %s WHERE user_id = %s AND role = %s",
            [org.other_grid.pk, org.grid_worker.pk, Role.GRID_WORKER],
        )
    assert scope_of(_fresh(org.grid_worker)).grid_villages == {org.village.pk}
    settings.WHISTLE_REFERENCE_CHECK_SECONDS = 0
    assert scope_of(_fresh(org.grid_worker)).grid_villages == {org.village.pk}
    cache.set(reference.VERSION_CACHE_KEY, "published-by-another-process", timeout=None)
    assert scope_of(_fresh(org.grid_worker)).grid_villages == {org.other_village.pk}


def test_an_account_switched_off_has_no_scope_though_its_scope_is_kept(org):
    assert scope_of(_fresh(org.supervisor)).regions_of(Role.SUPERVISOR) == {org.city.pk}
    User.objects.filter(pk=org.supervisor.pk).update(is_active=False)
    assert scope_of(_fresh(org.supervisor)).roles() == set()
