from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Access audit")

    def ready(self):
        # In ready(): the receivers and checks need the models, which cannot load with the apps.
        from audit import checks, receivers  # noqa: F401
