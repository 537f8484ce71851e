from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import reference


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = _("The organisation")

    def ready(self) -> None:
        # In ready(): the models cannot be imported while the apps load.
        from teams import sessions  # noqa: F401  (the session clocks start at sign-in)
        from teams.models import Grid, LevelName, Region
        from teams.two_factor import checks, signals  # noqa: F401  (the deploy check, sign-ins)

        # Filing keeps these rows in each process; every save and delete drops the copies.
        reference.track(Grid, LevelName, Region)
