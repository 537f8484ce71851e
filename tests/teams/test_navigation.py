"""The navigation registry: entries by role, only URL names that resolve."""

import pytest

from teams import navigation
from teams.models import Role
from teams.navigation import NavEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(monkeypatch):
    entries = list(navigation.NAVIGATION)
    monkeypatch.setattr(navigation, "NAVIGATION", entries)
    return entries


def test_entries_whose_url_does_not_resolve_are_left_out(registry):
    navigation.register(
        NavEntry(roles=frozenset({Role.GRID_WORKER}), url_name="no-such-page", label="Nope")
    )
    navigation.register(
        NavEntry(roles=frozenset({Role.GRID_WORKER}), url_name="home", label="Start")
    )
    user = UserFactory()
    links = navigation.links_for(user=user, roles={Role.GRID_WORKER})
    assert [(link.url_name, link.url, link.label) for link in links] == [("home", "/", "Start")]


def test_entries_follow_roles_and_staff(registry):
    navigation.register(NavEntry(roles=frozenset({Role.SUPERVISOR}), url_name="home", label="X"))
    user = UserFactory()
    assert navigation.links_for(user=user, roles={Role.GRID_WORKER}) == []
    assert [link.url_name for link in navigation.links_for(user=user, roles={Role.ADMIN})] == [
        "admin:index"
    ]
    assert [link.url_name for link in navigation.links_for(user=user, roles={Role.SUPERVISOR})] == [
        "home"
    ]
    staff = UserFactory(is_staff=True)
    assert [link.url_name for link in navigation.links_for(user=staff, roles=set())] == [
        "admin:index"
    ]


def test_registering_a_url_name_twice_keeps_the_first(registry):
    before = len(registry)
    navigation.register(NavEntry(roles=frozenset({Role.ADMIN}), url_name="admin:index", label="A"))
    assert len(registry) == before
    assert str(registry[0].label) != "A"
