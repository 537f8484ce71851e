"""The one model of core: a named lease that at most one process holds at a time
(core.leases). It belongs to no app in particular, so it sits in the lowest layer."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Lease(models.Model):
    """Who holds the lease `name` and until when, by the database's clock."""

    name = models.CharField(_("name"), max_length=100, primary_key=True)
    holder = models.CharField(_("holder"), max_length=200)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("lease")
        verbose_name_plural = _("leases")

    def __str__(self) -> str:
        return f"{self.name}: {self.holder}"
