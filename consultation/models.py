"""Consultations of the town and city committees, and comprehensive investigations.

A consultation decides escalated cases: its agenda lists the cases, its invitations record who
was asked to come and when they arrived. An investigation ("comprehensive check once") is one
joint visit to a place covering several aspects of the checklist; its findings become cases.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from checklists.models import Aspect, Item
from teams.levels import committee_choices, with_levels
from teams.models import Department, Grid, Region, Team


class Consultation(models.Model):
    """A meeting of the town or city committee on cases waiting for its decision."""

    class Level(models.TextChoices):
        TOWN = "town", with_levels(_("%(town)s committee"))
        CITY = "city", with_levels(_("%(city)s committee"))
        PREFECTURE = "prefecture", with_levels(_("%(prefecture)s committee"))

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        HELD = "held", _("held")
        ARCHIVED = "archived", _("archived")

    level = models.CharField(_("level"), max_length=10, choices=committee_choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="consultations",
    )
    scheduled_at = models.DateTimeField(_("date and time"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    online_link = models.URLField(_("online meeting link"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED, editable=False
    )
    minutes = models.TextField(_("minutes"), blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("called by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("called at"), auto_now_add=True)
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    # The clerk enters the arrivals (also after the meeting), then confirms the list once;
    # from then on the arrival times are final.
    attendance_confirmed_at = models.DateTimeField(
        _("attendance confirmed at"), null=True, blank=True, editable=False
    )
    attendance_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("attendance confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-scheduled_at", "-id"]
        indexes = [models.Index(fields=["region", "status", "-scheduled_at"])]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.scheduled_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.ARCHIVED


ESCALATED_TO_PREFECTURE = with_levels(_("escalated to the %(prefecture)s committee"))


def decision_choices() -> list[tuple[str, str]]:
    """The decisions on an agenda item, escalation naming the deployment's top level (a
    callable, so migrations keep the function and never the names)."""
    return list(AgendaItem.Decision.choices)


class AgendaItem(models.Model):
    """One case on a consultation's agenda, and what was decided about it."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("not decided yet")
        TASKS = "tasks", _("tasks for departments or teams")
        ESCALATE = "escalate", with_levels(_("escalated to the %(city)s committee"))
        SUSPEND = "suspend", _("suspended (挂账)")
        CLOSE = "close", _("closed")

    consultation = models.ForeignKey(
        Consultation,
        verbose_name=_("consultation"),
        on_delete=models.CASCADE,
        related_name="agenda_items",
    )
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="agenda_items"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    decision = models.CharField(
        _("decision"), max_length=10, choices=decision_choices, default=Decision.PENDING
    )
    decision_text = models.TextField(_("decision text"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["consultation_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "case"], name="agenda_case_once")
        ]

    def __str__(self) -> str:
        return f"{self.consultation_id} #{self.order} {self.case_id}"

    def get_decision_display(self) -> str:
        """The decision's label; a city consultation's escalation goes to the prefecture's
        committee (four levels), not to the city's own."""
        if (
            self.decision == self.Decision.ESCALATE
            and self.consultation.level == Consultation.Level.CITY
        ):
            return str(ESCALATED_TO_PREFECTURE)
        return str(self.Decision(self.decision).label)

    @property
    def is_decided(self) -> bool:
        return self.decision != self.Decision.PENDING


class Invitation(models.Model):
    """A department, a team or one person (a lawyer, a village officer) asked to attend; they
    confirm, then check in on the day, and their arrival time and lateness are kept."""

    consultation = models.ForeignKey(
        Consultation,
        verbose_name=_("consultation"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultation_invitations",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultation_invitations",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultation_invitations",
    )
    invited_at = models.DateTimeField(_("invited at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_in_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked in by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    late = models.BooleanField(_("arrived late"), default=False)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["consultation_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(department__isnull=False, team__isnull=True, user__isnull=True)
                    | Q(department__isnull=True, team__isnull=False, user__isnull=True)
                    | Q(department__isnull=True, team__isnull=True, user__isnull=False)
                ),
                name="invitation_one_invitee",
            ),
            *[
                models.UniqueConstraint(
                    fields=["consultation", field],
                    condition=Q(**{f"{field}__isnull": False}),
                    name=f"invitation_unique_{field}",
                )
                for field in ("department", "team", "user")
            ],
        ]

    def __str__(self) -> str:
        return f"{self.consultation_id} → {self.invitee}"

    @property
    def invitee(self) -> object:
        return self.department or self.team or self.user

    @property
    def invitee_name(self) -> str:
        invitee = self.invitee
        if invitee is None:
            return ""
        return getattr(invitee, "name", None) or str(invitee)


class Investigation(models.Model):
    """One joint visit of several departments to a place, one team in charge, covering several
    aspects of the checklist ("comprehensive check once")."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        DONE = "done", _("done")

    town = models.ForeignKey(
        Region, verbose_name=_("town"), on_delete=models.PROTECT, related_name="investigations"
    )
    place_name = models.CharField(_("place"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="investigations",
        help_text=_("The grid the place lies in; findings are filed there."),
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    planned_for = models.DateTimeField(_("planned for"))
    team = models.ForeignKey(
        Team, verbose_name=_("team in charge"), on_delete=models.PROTECT, related_name="+"
    )
    aspects = models.ManyToManyField(Aspect, verbose_name=_("aspects"), related_name="+")
    departments = models.ManyToManyField(
        Department, verbose_name=_("departments"), blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED, editable=False
    )
    hotspot_item = models.ForeignKey(
        Item,
        verbose_name=_("hot spot item"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    hotspot_grid = models.ForeignKey(
        Grid,
        verbose_name=_("hot spot grid"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.TextField(_("notes"), blank=True)
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("planned by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("planned at"), auto_now_add=True)
    done_at = models.DateTimeField(_("carried out at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("comprehensive investigation")
        verbose_name_plural = _("comprehensive investigations")
        ordering = ["-planned_for", "-id"]
        indexes = [models.Index(fields=["town", "status", "-planned_for"])]

    def __str__(self) -> str:
        return f"{self.place_name} {self.planned_for:%Y-%m-%d}"


class InvestigationAttendance(models.Model):
    """Whether a department or the team in charge came to the visit, and who they sent."""

    investigation = models.ForeignKey(
        Investigation,
        verbose_name=_("investigation"),
        on_delete=models.CASCADE,
        related_name="attendance",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    present = models.BooleanField(_("came"), default=False)
    people = models.CharField(_("who came"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["investigation_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False, team__isnull=True)
                | Q(department__isnull=True, team__isnull=False),
                name="attendance_one_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.investigation_id} {self.unit}"

    @property
    def unit(self) -> Department | Team | None:
        return self.department or self.team


class InvestigationCheck(models.Model):
    """One aspect of the checklist, checked or not during the visit, with what was found."""

    investigation = models.ForeignKey(
        Investigation,
        verbose_name=_("investigation"),
        on_delete=models.CASCADE,
        related_name="checks",
    )
    aspect = models.ForeignKey(
        Aspect, verbose_name=_("aspect"), on_delete=models.PROTECT, related_name="+"
    )
    checked = models.BooleanField(_("checked"), default=False)
    finding = models.TextField(_("what was found"), blank=True)

    class Meta:
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        ordering = ["investigation_id", "aspect__order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["investigation", "aspect"], name="check_aspect_once")
        ]

    def __str__(self) -> str:
        return f"{self.investigation_id} {self.aspect_id}"


class Finding(models.Model):
    """A problem found during an investigation, filed as a case and routed like any whistle."""

    investigation = models.ForeignKey(
        Investigation,
        verbose_name=_("investigation"),
        on_delete=models.CASCADE,
        related_name="findings",
    )
    case = models.OneToOneField(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="finding"
    )
    aspect = models.ForeignKey(
        Aspect, verbose_name=_("aspect"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("filed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["investigation_id", "id"]

    def __str__(self) -> str:
        return f"{self.investigation_id} → {self.case_id}"


class HotSpotSettings(models.Model):
    """How often the same item must be filed in the same grid, within how many days, to be
    listed as a hot spot. One row, edited in the admin."""

    threshold = models.PositiveSmallIntegerField(
        _("cases at least"),
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(1000)],
        help_text=_("The same item filed this many times in one grid makes a hot spot."),
    )
    window_days = models.PositiveSmallIntegerField(
        _("within days"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3660)],
        help_text=_("Only cases filed within this many days count."),
    )

    class Meta:
        verbose_name = _("hot spot settings")
        verbose_name_plural = _("hot spot settings")

    def __str__(self) -> str:
        return str(_("%(threshold)d cases within %(days)d days")) % {
            "threshold": self.threshold,
            "days": self.window_days,
        }

    def save(self, *args, **kwargs) -> None:
        self.pk = 1  # a singleton: there is one setting for the whole system
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "HotSpotSettings":
        return cls.objects.filter(pk=1).first() or cls()
