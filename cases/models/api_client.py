"""Client systems of the Open311 endpoint (the 12345 hotline and others), and what they sent
with each request that the case itself has no field for."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models.case import Case
from teams.models import Region


def default_jurisdiction() -> str:
    """The code of the first city: most installations serve one."""
    return (
        Region.objects.filter(level=Region.Level.CITY)
        .order_by("code")
        .values_list("code", flat=True)
        .first()
        or ""
    )


class ApiClient(models.Model):
    """A system allowed to file requests; only a SHA-256 hash of its key is kept."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    jurisdiction_id = models.CharField(
        _("jurisdiction"),
        max_length=32,
        default=default_jurisdiction,
        help_text=_("The code of the city this client files requests in."),
    )
    key_hash = models.CharField(_("key (SHA-256)"), max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(
        _("key begins with"),
        max_length=8,
        blank=True,
        editable=False,
        help_text=_("The first characters of the key, to tell keys apart."),
    )
    active = models.BooleanField(_("active"), default=True)
    rate_limit_per_minute = models.PositiveIntegerField(_("requests per minute"), default=120)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiSubmission(models.Model):
    """The Open311 fields of a filed request that the case has no column for: which client
    filed it, the media URL (never fetched) and the attribute answers."""

    case = models.OneToOneField(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="api_submission"
    )
    client = models.ForeignKey(
        ApiClient, verbose_name=_("client"), on_delete=models.PROTECT, related_name="submissions"
    )
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    account_id = models.CharField(_("account id"), max_length=64, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("API submission")
        verbose_name_plural = _("API submissions")

    def __str__(self) -> str:
        return f"{self.client} → {self.case_id}"
