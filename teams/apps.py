from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = _("The organisation")

    def ready(self) -> None:
        from teams.models import Grid, Region
        from whistle import reference

        # Filing keeps these rows in each process; every save and delete drops the copies.
        reference.track(Grid, Region)
