from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpotChecksConfig(AppConfig):
    name = "spotchecks"
    verbose_name = _("Spot checks")

    def ready(self) -> None:
        # In ready(): the declarations import the models, which cannot be imported while apps load.
        from spotchecks import workflow

        workflow.register()
