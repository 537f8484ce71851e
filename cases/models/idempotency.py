"""Idempotency keys: a retried request returns the first result and never files twice, and
the same key with a different body is refused (422) instead of silently answered as the first."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.case import Case


def request_fingerprint(fields: Mapping[str, Any]) -> str:
    """The hash a claim keeps of what was sent: the same for a retry, another for another
    body. The REST API, Open311 and the filing page all fingerprint this way."""
    text = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


class IdempotencyKey(models.Model):
    """The first outcome of a request sent with a client-chosen key, per user and endpoint."""

    key = models.CharField(_("key"), max_length=128)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    client = models.CharField(
        _("client"),
        max_length=64,
        blank=True,
        help_text=_("The API client system, for requests that have no user."),
    )
    endpoint = models.CharField(_("endpoint"), max_length=100)
    request_hash = models.CharField(_("request fingerprint"), max_length=64, blank=True)
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["key", "user", "endpoint"],
                condition=models.Q(user__isnull=False),
                name="idempotency_key_unique_per_user",
            ),
            models.UniqueConstraint(
                fields=["key", "client", "endpoint"],
                condition=models.Q(user__isnull=True),
                name="idempotency_key_unique_per_client",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def same_request(self, request_hash: str) -> bool:
        """Whether a request with this fingerprint is a retry of the one that claimed the key."""
        return not self.request_hash or self.request_hash == request_hash
