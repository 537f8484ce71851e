"""The links each role can open, as a registry that features append to.

A feature that adds a page registers one `NavEntry` here (or calls `register` from its app's
`ready()`), naming the roles that may open it and the URL name. An entry whose URL name does
not resolve is left out, so an entry may be registered before its page exists.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from teams.levels import with_levels
from teams.models import Role, User


@dataclass(frozen=True)
class NavEntry:
    """A page that the holders of `roles` (and staff, when `staff` is set) can open."""

    roles: frozenset[str]
    url_name: str
    label: str | Promise
    staff: bool = False


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str
    url_name: str


ALL_ROLES = frozenset(Role.values)
# The committees' staff: the town's, the city's, and the prefecture's (four levels, with its
# committee on the escalation chain), who hold their consultations and follow their cases.
COMMITTEES = frozenset({Role.TOWN_COMMITTEE, Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE})

NAVIGATION: list[NavEntry] = [
    NavEntry(roles=frozenset({Role.GRID_WORKER}), url_name="cases:file", label=_("Blow a whistle")),
    NavEntry(roles=frozenset({Role.GRID_WORKER}), url_name="cases:mine", label=_("My cases")),
    NavEntry(
        roles=frozenset({Role.VILLAGE_OFFICER}),
        url_name="cases:village_inbox",
        label=with_levels(_("%(Village)s inbox")),
    ),
    NavEntry(
        roles=frozenset({Role.TEAM_CAPTAIN, Role.TEAM_MEMBER, Role.DEPARTMENT_LIAISON}),
        url_name="cases:board",
        label=_("Dispatch board"),
    ),
    NavEntry(
        roles=frozenset({Role.TOWN_COMMITTEE}),
        url_name="cases:command",
        label=with_levels(_("%(Town)s command")),
    ),
    NavEntry(
        roles=COMMITTEES | {Role.SUPERVISOR},
        url_name="cases:supervision",
        label=_("Supervision orders"),
    ),
    NavEntry(
        roles=COMMITTEES | {Role.SUPERVISOR},
        url_name="cases:suspended",
        label=_("Suspended cases"),
    ),
    NavEntry(
        roles=COMMITTEES,
        url_name="consultation:queue",
        label=_("Consultations"),
    ),
    NavEntry(
        roles=frozenset({Role.DEPARTMENT_LIAISON}),
        url_name="consultation:mine",
        label=_("My consultations"),
    ),
    NavEntry(
        roles=COMMITTEES | {Role.SUPERVISOR},
        url_name="consultation:hotspots",
        label=_("Hot spots"),
    ),
    NavEntry(
        roles=frozenset({Role.TOWN_COMMITTEE, Role.TEAM_CAPTAIN}),
        url_name="consultation:investigations",
        label=_("Investigations"),
    ),
    NavEntry(
        roles=COMMITTEES | {Role.SUPERVISOR},
        url_name="assessment:overview",
        label=_("Assessment"),
    ),
    NavEntry(
        roles=frozenset({Role.SUPERVISOR, Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE}),
        url_name="spotchecks:list",
        label=_("Spot checks"),
    ),
    # The policy lab (policylab.access.LAB_ROLES, each held at a city, or at a prefecture for
    # the cities below it).
    NavEntry(
        roles=frozenset(
            {Role.CITY_COMMITTEE, Role.PREFECTURE_COMMITTEE, Role.SUPERVISOR, Role.ADMIN}
        ),
        url_name="policylab:index",
        label=_("Policy lab"),
    ),
    NavEntry(roles=frozenset({Role.AUDITOR}), url_name="audit:search", label=_("Access audit")),
    NavEntry(roles=ALL_ROLES, url_name="cases:list", label=_("Cases")),
    NavEntry(roles=ALL_ROLES, url_name="cases:notifications", label=_("Notifications")),
    NavEntry(roles=ALL_ROLES, url_name="my_alerts", label=_("My alerts")),
    NavEntry(roles=ALL_ROLES, url_name="tokens", label=_("API token")),
    NavEntry(
        roles=frozenset({Role.ADMIN}),
        url_name="admin:index",
        label=_("Administration"),
        staff=True,
    ),
]


def register(entry: NavEntry) -> None:
    """Add a page to the navigation; registering the same URL name twice keeps the first."""
    if all(existing.url_name != entry.url_name for existing in NAVIGATION):
        NAVIGATION.append(entry)


def _resolve(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def links_for(*, user: User, roles: Iterable[str]) -> list[NavLink]:
    """The links `user`, holding `roles`, can open now, in registry order."""
    if not user.is_authenticated:
        return []
    held = frozenset(roles)
    links = []
    for entry in NAVIGATION:
        if not (entry.roles & held or (entry.staff and user.is_staff)):
            continue
        url = _resolve(entry.url_name)
        if url is not None:
            links.append(NavLink(url=url, label=str(entry.label), url_name=entry.url_name))
    return links
