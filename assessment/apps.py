from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from cases.signals import case_changed


class AssessmentConfig(AppConfig):
    name = "assessment"
    verbose_name = _("Assessment")

    def ready(self) -> None:
        # In ready(): the hooks import the models, which cannot be imported while apps load.
        from assessment import hooks

        # The facts follow the trace: every committed change of a case refreshes its facts.
        case_changed.connect(hooks.on_case_changed, dispatch_uid="assessment.facts")
