"""A request to suspend a long-term case (挂账): asked by the case's handler with a reason and a
proposed review date, decided once by the committee at the case's level (docs/workflow.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.case import Case


class SuspensionRequest(models.Model):
    """One request; at most one per case waits for a decision at a time."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    # (case, requested_at) in Meta.indexes serves it.
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="suspension_requests",
        db_index=False,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    reason = models.TextField(_("reason"))
    review_on = models.DateField(_("proposed review date"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("suspension request")
        verbose_name_plural = _("suspension requests")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["case", "requested_at"], name="suspension_request_case"),
        ]
        constraints = [
            # A second request while one waits is refused (the service says so first).
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state="pending"),
                name="suspension_request_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.review_on:%Y-%m-%d} ({self.state})"
