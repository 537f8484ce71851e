"""Who holds a privileged role: committee staff, supervisors, administrators and auditors.

Their accounts reach a whole town, city or prefecture, so sign-in asks them for a second factor
and their sessions end sooner when idle (docs/security.md)."""

from teams.models import Role, User
from teams.selectors import user_roles

PRIVILEGED_ROLES = frozenset(
    {
        Role.TOWN_COMMITTEE,
        Role.CITY_COMMITTEE,
        # Four levels: its member sees every case of the cities below the prefecture.
        Role.PREFECTURE_COMMITTEE,
        Role.SUPERVISOR,
        Role.ADMIN,
        Role.AUDITOR,
    }
)


def is_privileged(*, user: User) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return bool(user_roles(user=user) & PRIVILEGED_ROLES)
