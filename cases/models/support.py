"""A "me too" (附议): someone who meets a problem already whistled backs the open case instead
of filing a duplicate; the case shows how many, and who."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.case import Case, Source


class Supporter(models.Model):
    """One person's support of an open case: a signed-in grid worker (once per case), or a
    caller of the 12345 hotline (once per case and caller reference)."""

    # (case, supported_at) in Meta.indexes serves it: the case page lists them in order.
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="supporters",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    # The hotline's caller: its own reference (account or work order) or the phone number.
    caller_reference = models.CharField(_("caller reference"), max_length=64, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    note = models.TextField(_("note"), blank=True)
    supported_at = models.DateTimeField(_("supported at"))

    class Meta:
        verbose_name = _("supporter")
        verbose_name_plural = _("supporters")
        ordering = ["supported_at", "id"]
        indexes = [models.Index(fields=["case", "supported_at"], name="supporter_case_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=Q(user__isnull=False),
                name="supporter_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["case", "source", "caller_reference"],
                condition=Q(user__isnull=True) & ~Q(caller_reference=""),
                name="supporter_once_per_caller",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(caller_reference=""),
                name="supporter_is_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.user_id or self.caller_reference}"
