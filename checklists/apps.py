from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import reference


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = _("Checklist")

    def ready(self) -> None:
        # In ready(): the models cannot be imported while the apps load.
        from django.db.models.signals import m2m_changed

        from checklists.models import Aspect, Item, ScreeningRule, TimeLimit

        # Filing keeps these rows in each process, and the timer the units and departments an
        # item goes to (cases.selectors.default_handlers: the specialities of items and aspects,
        # the department kinds of items); every save and delete drops the copies, and so does a
        # change of those lists.
        lists = (Item.teams.through, Aspect.teams.through, Item.default_department_kinds.through)
        reference.track(Item, ScreeningRule, TimeLimit, *lists)
        for through in lists:
            m2m_changed.connect(
                reference.on_change, sender=through, dispatch_uid=f"reference-{through}"
            )
