"""One notification's journey on one channel beyond the inbox (mail, SMS, DingTalk, WeCom...)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.notification import Notification


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    RETRYING = "retrying", _("failed, will retry")
    GIVEN_UP = "given_up", _("given up")
    SKIPPED = "skipped", _("skipped")


class SkipReason(models.TextChoices):
    NO_ADDRESS = "no_address", _("no address")
    READ = "read", _("read already")
    INACTIVE = "inactive", _("recipient inactive")
    CHANNEL_OFF = "channel_off", _("channel not configured")


# The statuses a sweep may claim once `not_before` has passed (for SENDING: the lease ran out,
# the worker that held it died).
DUE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.SENDING)


class Delivery(models.Model):
    """The state of one notification on one channel: claimed by one worker at a time, retried
    with backoff, its outcome shown in the inbox and the admin. `not_before` is the moment the
    row is next due: the planned send time, the next retry, or the end of a worker's lease."""

    notification = models.ForeignKey(
        Notification,
        verbose_name=_("notification"),
        on_delete=models.CASCADE,
        related_name="deliveries",
        # The unique (notification, channel) constraint serves it.
        db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=32)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    skip_reason = models.CharField(
        _("skip reason"), max_length=16, choices=SkipReason.choices, blank=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    not_before = models.DateTimeField(_("not before"))
    only_if_unread = models.BooleanField(_("only if unread"), default=False)
    # A fresh token per claim: a worker whose lease ran out and was taken over cannot record
    # its late outcome over the new holder's.
    claim = models.CharField(_("claim"), max_length=32, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    provider_id = models.CharField(_("provider message id"), max_length=128, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["notification", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_one_per_channel"
            )
        ]
        indexes = [
            # The sweep's read: what is due, oldest first; sent and skipped rows stay out.
            models.Index(
                fields=["not_before"],
                name="delivery_due",
                condition=Q(status__in=["pending", "retrying", "sending"]),
            ),
            models.Index(fields=["status", "channel"], name="delivery_status_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.channel} {self.status}"
