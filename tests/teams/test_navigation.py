"""The navigation registry: entries by role, only URL names that resolve."""

import pytest

from teams import navigation
from teams.models import Role
from teams.navigation import NavEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(monkeypatch):
    """An isolated registry holding only the administration entry."""
    entries = [entry for entry in navigation.NAVIGATION if entry.url_name == "admin:index"]
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


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.GRID_WORKER, ["cases:file", "cases:mine", "cases:list", "cases:notifications"]),
        (Role.VILLAGE_OFFICER, ["cases:village_inbox", "cases:list", "cases:notifications"]),
        (
            Role.TEAM_CAPTAIN,
            ["cases:board", "consultation:investigations", "cases:list", "cases:notifications"],
        ),
        (
            Role.DEPARTMENT_LIAISON,
            ["cases:board", "consultation:mine", "cases:list", "cases:notifications"],
        ),
        (
            Role.TOWN_COMMITTEE,
            [
                "cases:command",
                "cases:supervision",
                "cases:suspended",
                "consultation:queue",
                "consultation:hotspots",
                "consultation:investigations",
                "assessment:overview",
                "cases:list",
                "cases:notifications",
            ],
        ),
        (
            Role.SUPERVISOR,
            [
                "cases:supervision",
                "cases:suspended",
                "consultation:hotspots",
                "assessment:overview",
                "spotchecks:list",
                "policylab:index",
                "cases:list",
                "cases:notifications",
            ],
        ),
    ],
)
def test_each_role_gets_the_pages_it_can_open(role, expected):
    user = UserFactory()
    links = [link.url_name for link in navigation.links_for(user=user, roles={role})]
    # every role has its alerts and API token pages
    assert links == [*expected, "my_alerts", "tokens"]
