from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import reference


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = _("Checklist")

    def ready(self) -> None:
        # In ready(): the models cannot be imported while the apps load.
        from checklists.models import Item, ScreeningRule, TimeLimit

        # Filing keeps these rows in each process; every save and delete drops the copies.
        reference.track(Item, ScreeningRule, TimeLimit)
