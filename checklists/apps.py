from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = _("Checklist")

    def ready(self) -> None:
        from checklists.models import Item, ScreeningRule, TimeLimit
        from whistle import reference

        # Filing keeps these rows in each process; every save and delete drops the copies.
        reference.track(Item, ScreeningRule, TimeLimit)
