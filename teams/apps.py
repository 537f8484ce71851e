from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import reference


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = _("The organisation")

    def ready(self) -> None:
        # In ready(): the models cannot be imported while the apps load.
        from teams.models import Grid, Region

        # Filing keeps these rows in each process; every save and delete drops the copies.
        reference.track(Grid, Region)
