from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PolicylabConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "policylab"
    verbose_name = _("Policy lab")
