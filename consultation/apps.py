from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationConfig(AppConfig):
    name = "consultation"
    verbose_name = _("Consultation")

    def ready(self) -> None:
        # In ready(): the declarations import the models, which cannot be imported while apps load.
        from consultation import workflow

        workflow.register()
