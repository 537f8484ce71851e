from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self):
        # In ready(): the checks read the models, which cannot be imported while apps load.
        from cases import checks  # noqa: F401
