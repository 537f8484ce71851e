from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RolloutConfig(AppConfig):
    """No models: loading a county's organisation (regions, grids, departments, teams, users,
    memberships) from its own files, and writing it back out (rollout.services)."""

    name = "rollout"
    verbose_name = _("Roll-out")
