from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RolloutConfig(AppConfig):
    """Loading a county's organisation (regions, grids, departments, teams, users,
    memberships) from its own files, and writing it back out (rollout.services); the import
    runs of the admin page (rollout.models.ImportRun, run by a Celery task)."""

    name = "rollout"
    verbose_name = _("Roll-out")
