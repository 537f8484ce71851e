"""Spot checks (抽查): a supervisor draws a random sample of one unit's closed cases and
revisits them; a case found not actually resolved is a false reply (虚假回复) of the unit.

The unit is a team or a department: the handlers that reported the cases resolved (a case
handled on the spot by its village had no unit to answer for it and is not drawn). The draw
is reproducible: the population (the unit's closed cases of the period, by id) and the seed
are recorded, and random.Random(seed).sample over that list gives the same sample again
(spotchecks.services.sample).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Dispatch, Event
from teams.models import Department, Region, Team


class SpotCheck(models.Model):
    """One draw: who drew, for which unit and closing period, how many, with which seed."""

    city = models.ForeignKey(
        Region, verbose_name=_("city"), on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="spot_checks",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="spot_checks",
    )
    closed_from = models.DateField(_("closed from"))
    closed_to = models.DateField(_("closed until"))
    size = models.PositiveIntegerField(_("sample size"))
    seed = models.BigIntegerField(_("seed"))
    # The closed cases the sample was drawn from, by id in ascending order.
    population = models.JSONField(_("cases drawn from"), default=list)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drawn by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    drawn_at = models.DateTimeField(_("drawn at"))

    class Meta:
        verbose_name = _("spot check")
        verbose_name_plural = _("spot checks")
        ordering = ["-drawn_at", "-id"]
        indexes = [models.Index(fields=["city", "-drawn_at"], name="spotcheck_city_drawn")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(team__isnull=False) & Q(department__isnull=True))
                | (Q(team__isnull=True) & Q(department__isnull=False)),
                name="spotcheck_one_unit",
            ),
            models.CheckConstraint(condition=Q(size__gte=1), name="spotcheck_size_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.closed_from:%Y-%m-%d}–{self.closed_to:%Y-%m-%d} ×{self.size}"

    @property
    def unit(self) -> Team | Department:
        return self.team or self.department


class SpotCheckCase(models.Model):
    """A case drawn in a spot check, and the outcome of its revisit."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("waiting for the revisit")
        CONFIRMED = "confirmed", _("confirmed resolved")
        FALSE_REPLY = "false_reply", _("not actually resolved")

    spot_check = models.ForeignKey(
        SpotCheck, verbose_name=_("spot check"), on_delete=models.CASCADE, related_name="cases"
    )
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="spot_checks"
    )
    # The unit's dispatch that reported the case resolved: the reply that is checked.
    dispatch = models.ForeignKey(
        Dispatch, verbose_name=_("dispatch"), on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveIntegerField(_("order drawn"))
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING
    )
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    # The outcome's step in the case's trace, with the revisit's photos. No database
    # constraint: the log is partitioned on PostgreSQL (cases.partitions).
    event = models.ForeignKey(
        Event,
        verbose_name=_("event"),
        on_delete=models.PROTECT,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("drawn case")
        verbose_name_plural = _("drawn cases")
        ordering = ["spot_check_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["spot_check", "case"], name="spotcheckcase_once"),
            # A case waits for one revisit at a time.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(outcome="pending"),
                name="spotcheckcase_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} ({self.get_outcome_display()})"
