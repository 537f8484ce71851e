"""Stage deadlines as database rows: the sweep fires what is due, exactly once."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models.case import Case, CaseMonthQuerySet, Dispatch
from checklists.models import TimeUnit, stage_choices


class Deadline(models.Model):
    """When one stage of a case (or of one dispatch) is due, and whether its timer has acted.

    The database is the source of truth: a due row with `fired_at` empty is fired by the next
    sweep, whatever happened to the broker in between.
    """

    # (case, stage) in Meta.indexes serves it.
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="deadlines",
        db_index=False,
    )
    dispatch = models.ForeignKey(
        Dispatch,
        verbose_name=_("dispatch"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deadlines",
    )
    stage = models.CharField(_("stage"), max_length=30, choices=stage_choices)
    amount = models.PositiveIntegerField(_("limit"))
    unit = models.CharField(_("unit"), max_length=20, choices=TimeUnit.choices)
    yellow_at_percent = models.PositiveSmallIntegerField(_("yellow light at (%)"), default=80)
    started_at = models.DateTimeField(_("started at"))
    warn_at = models.DateTimeField(_("yellow from"))
    due_at = models.DateTimeField(_("due"))
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    fired_at = models.DateTimeField(_("fired at"), null=True, blank=True)
    met_at = models.DateTimeField(
        _("done at"),
        null=True,
        blank=True,
        help_text=_("When the stage was completed, so the timer has nothing left to do."),
    )
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    remaining_seconds = models.PositiveIntegerField(
        _("time left when paused (seconds)"), null=True, blank=True
    )
    postponed = models.BooleanField(_("postponed"), default=False)
    # The case's filing time, the partition key on PostgreSQL (cases.partitions): a case's
    # clocks lie in its filing month's partition with its events, and are archived with them.
    case_filed_at = models.DateTimeField(_("case filed at"), editable=False)
    claimed_until = models.DateTimeField(
        _("handed to a worker until"),
        null=True,
        blank=True,
        help_text=_(
            "A sweep handed this due deadline to a worker; another sweep hands it out again "
            "only after this time, if it has not fired by then."
        ),
    )

    objects = CaseMonthQuerySet.as_manager()

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        ordering = ["due_at", "id"]
        indexes = [
            # The sweep reads only pending rows by due time: its cost follows what is due.
            models.Index(
                fields=["due_at"],
                name="deadline_pending_due",
                condition=Q(fired_at__isnull=True, met_at__isnull=True, paused_at__isnull=True),
            ),
            models.Index(
                fields=["warn_at"],
                name="deadline_pending_warn",
                condition=Q(
                    warned_at__isnull=True,
                    fired_at__isnull=True,
                    met_at__isnull=True,
                    paused_at__isnull=True,
                ),
            ),
            models.Index(fields=["case", "stage"]),
            # Pages read running clocks only (bench.pages): the clock of a case or dispatch,
            # and the red list's overdue ones, without visiting every met deadline.
            models.Index(
                fields=["case", "-started_at"],
                name="deadline_running_case",
                condition=Q(met_at__isnull=True, dispatch__isnull=True),
                include=["due_at", "warn_at", "paused_at"],
            ),
            models.Index(
                fields=["dispatch", "-started_at"],
                name="deadline_running_dispatch",
                condition=Q(met_at__isnull=True, dispatch__isnull=False),
                include=["stage", "due_at", "warn_at", "paused_at"],
            ),
            models.Index(
                fields=["due_at"],
                name="deadline_running_overdue",
                condition=Q(met_at__isnull=True, paused_at__isnull=True),
                include=["case"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.stage} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_pending(self) -> bool:
        return self.fired_at is None and self.met_at is None


class Postponement(models.Model):
    """A one-time extension of a deadline, asked by the handler, decided by the level above."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="postponements"
    )
    # No database constraint: a key can point at the partitioned deadlines only with their
    # partition column (migration cases 0027); a deadline goes only with its case, and so do
    # the case's postponements.
    deadline = models.ForeignKey(
        Deadline,
        verbose_name=_("deadline"),
        on_delete=models.CASCADE,
        related_name="postponements",
        db_constraint=False,
    )
    reason = models.TextField(_("reason"))
    amount = models.PositiveIntegerField(_("extra time"))
    unit = models.CharField(_("unit"), max_length=20, choices=TimeUnit.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING
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
        verbose_name = _("postponement")
        verbose_name_plural = _("postponements")
        ordering = ["-requested_at"]
        constraints = [
            # Once per deadline: a second request for the same deadline is refused.
            models.UniqueConstraint(fields=["deadline"], name="postponement_once_per_deadline")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} +{self.amount} {self.unit} ({self.decision})"
