from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import reference


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = _("Checklist")

    def ready(self) -> None:
        # In ready(): the models cannot be imported while the apps load.
        from checklists.models import Aspect, Item, ScreeningRule, TimeLimit

        # Filing keeps these rows in each process, and the timer the units and departments an
        # item goes to (cases.selectors.default_handlers: the specialities of items and aspects,
        # the department kinds of items); every save and delete drops the copies, and so does a
        # change of those lists.
        reference.track(
            Item,
            ScreeningRule,
            TimeLimit,
            Item.teams.through,
            Aspect.teams.through,
            Item.default_department_kinds.through,
        )
