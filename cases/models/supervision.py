"""A supervision order (督办): a committee's or supervisor's written order to a late unit, with
its own deadline, kept until the unit's dispatch (or the case) is resolved."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.case import Case, Dispatch


class SupervisionOrder(models.Model):
    """Issued on one dispatch; met when the dispatch or its case is resolved (met late after
    `due_at`). The assessment counts the orders met late per unit (assessment/facts.py)."""

    # (case, issued_at) in Meta.indexes serves it.
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="supervision_orders",
        db_index=False,
    )
    dispatch = models.ForeignKey(
        Dispatch,
        verbose_name=_("dispatch"),
        on_delete=models.CASCADE,
        related_name="supervision_orders",
    )
    note = models.TextField(_("note"))
    due_at = models.DateTimeField(_("deadline of the order"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"))
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["case", "issued_at"], name="supervision_case_issued"),
            # The supervision page: the open orders, soonest deadline first.
            models.Index(
                fields=["due_at", "id"],
                name="supervision_open_due",
                condition=Q(met_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} → {self.dispatch.handler} ({self.due_at:%Y-%m-%d %H:%M})"

    @property
    def met_late(self) -> bool:
        return self.met_at is not None and self.met_at > self.due_at
