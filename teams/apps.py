from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import reference


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = _("The organisation")

    def ready(self) -> None:
        # In ready(): the models cannot be imported while the apps load.
        from teams import sessions  # noqa: F401  (the session clocks start at sign-in)
        from teams.models import Department, Grid, LevelName, Membership, Region, Team
        from teams.two_factor import checks, signals  # noqa: F401  (the deploy check, sign-ins)

        # Filing keeps these rows in each process, and every request the user's scope, read
        # from the memberships, the teams and their areas (cases.access.scope_of), and the
        # departments an item goes to (cases.selectors.default_handlers); every save and delete
        # drops the copies, and so does a change of a team's areas.
        reference.track(Grid, LevelName, Region, Membership, Team, Team.areas.through, Department)
