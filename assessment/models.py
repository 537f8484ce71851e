"""Assessment: facts kept per case and per dispatch, scoring schemes, the towns' evaluations.

Facts are derived data: assessment.facts computes them from the event log and the case's rows,
assessment.services writes them. Indicators read only these tables, which carry the unit and
date columns they filter and group on, so a dashboard's cost does not grow with the event log.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Dispatch, Satisfaction
from checklists.models import Item
from teams.levels import PREFECTURE, level_choices, on_chain, with_levels
from teams.models import Department, Grid, Region, Team


class SolvedBy(models.TextChoices):
    """Who solved a case (the practice's 70/20/10), not the level it closed at."""

    VILLAGE = "village", with_levels(_("the %(village)s itself"))
    TEAM = "team", with_levels(_("the %(town)s's teams and departments"))
    CONSULTATION = (
        "consultation",
        with_levels(_("a consultation of the %(town)s or %(city)s committee")),
    )


# Four levels, the prefecture's committee on the chain: its consultations solve cases too.
UP_TO_PREFECTURE = with_levels(
    _("a consultation of the %(town)s, %(city)s or %(prefecture)s committee")
)


def solved_by_choices() -> list[tuple[str, str]]:
    """Choices of `solved_by`, in the deployment's names of its levels (teams.levels; a
    callable, so migrations keep the function and never the names)."""
    if not on_chain(PREFECTURE):
        return list(SolvedBy.choices)
    return [
        (value, UP_TO_PREFECTURE if value == SolvedBy.CONSULTATION else label)
        for value, label in SolvedBy.choices
    ]


class CaseFactValues(models.Model):
    """The columns of a case's facts, shared by the live facts (CaseFact) and the facts a
    policy-lab replay computes under other rules, so one set of indicator conditions counts
    both (assessment.indicators, Facts)."""

    city = models.ForeignKey(
        Region, verbose_name=_("city"), on_delete=models.PROTECT, related_name="+"
    )
    town = models.ForeignKey(
        Region, verbose_name=_("town"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    grid = models.ForeignKey(
        Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("filed at"))
    accepted = models.BooleanField(_("accepted for handling"), default=False)
    rejected = models.BooleanField(_("rejected"), default=False)
    closed = models.BooleanField(_("closed"), default=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_level = models.CharField(
        _("level at which it was solved"), max_length=10, choices=level_choices, blank=True
    )
    solved_by = models.CharField(
        _("solved by"), max_length=12, choices=solved_by_choices, blank=True
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    overdue = models.BooleanField(_("overdue"), default=False)
    # When its first own limit passed: a period counts it overdue only if that was before the
    # period ended (assessment.indicators), so a closed period does not change afterwards.
    overdue_at = models.DateTimeField(_("first limit passed at"), null=True, blank=True)
    # closed_at comes from a ClosureCorrection (with its reason) rather than the closing step.
    closing_corrected = models.BooleanField(_("closing date corrected"), default=False)
    # Its first closing and when that was undone: a period whose end it stood at keeps it
    # closed when the case is reopened later (assessment.facts).
    first_closed_at = models.DateTimeField(_("first closed at"), null=True, blank=True)
    reopened_at = models.DateTimeField(_("first closing undone at"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("closed on time"), default=False)
    # How many of its own limits passed (each firing counts; assessment.facts, overdue).
    late_count = models.PositiveIntegerField(_("limits passed"), default=0)
    reworked = models.BooleanField(_("reworked"), default=False)
    # When the first verification failed, the first postponement was approved and the rating
    # was given: a period counts each only if it came before its end.
    reworked_at = models.DateTimeField(_("first reworked at"), null=True, blank=True)
    rework_count = models.PositiveIntegerField(_("failed verifications"), default=0)
    postponed = models.BooleanField(_("postponed"), default=False)
    postponed_at = models.DateTimeField(_("first postponed at"), null=True, blank=True)
    # Parked (挂账) at the end of its filing month, within its limits: out of the closure rates
    # for good (assessment.facts), so a closed month's figures do not move.
    suspended = models.BooleanField(_("suspended (left out of the closure rates)"), default=False)
    was_suspended = models.BooleanField(_("ever suspended"), default=False)
    whistled = models.BooleanField(_("whistled to the town"), default=False)
    escalated = models.BooleanField(_("escalated to the city"), default=False)
    max_level = models.CharField(_("highest level"), max_length=10, choices=level_choices)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=20, choices=Satisfaction.choices, blank=True
    )
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    handling_seconds = models.PositiveBigIntegerField(
        _("handling time (working seconds)"), null=True, blank=True
    )
    # Whistle quality: merged into the case it repeats (a rejection too), and how many said
    # "me too" (附议) on it (assessment.indicators, QUALITY_KEYS).
    merged = models.BooleanField(_("merged as a duplicate"), default=False)
    supporters = models.PositiveIntegerField(_("“me too” supporters"), default=0)
    last_event_id = models.BigIntegerField(_("last event"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        abstract = True


class CaseFact(CaseFactValues):
    """What one case amounts to for the assessment (docs/architecture.md, Facts and indicators)."""

    case = models.OneToOneField(
        Case,
        verbose_name=_("case"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="fact",
    )

    class Meta:
        verbose_name = _("case fact")
        verbose_name_plural = _("case facts")
        ordering = ["-filed_at"]
        # On PostgreSQL the primary key itself is (case, filed_at), the table being partitioned
        # by month (migration assessment 0017); SQLite needs the pair for the refresh's upsert.
        constraints = [
            models.UniqueConstraint(fields=["case", "filed_at"], name="casefact_case_month")
        ]
        indexes = [
            models.Index(fields=["city", "filed_at"], name="casefact_city_filed"),
            models.Index(fields=["town", "filed_at"], name="casefact_town_filed"),
            models.Index(fields=["village", "filed_at"], name="casefact_village_filed"),
            models.Index(fields=["grid", "filed_at"], name="casefact_grid_filed"),
            models.Index(fields=["reporter", "filed_at"], name="casefact_reporter_filed"),
            models.Index(fields=["item", "filed_at"], name="casefact_item_filed"),
            models.Index(fields=["filed_at"], name="casefact_filed"),
            models.Index(fields=["computed_at"], name="casefact_computed"),
        ]

    def __str__(self) -> str:
        return f"facts of case {self.case_id}"


class ClosureCorrection(models.Model):
    """A supervisor's correction of the moment a closed case counts as closed, with the reason
    (e.g. verified on site on the 30th, recorded on the 2nd). A closed period's figures change
    only through such a record: the facts take it into account (assessment.facts) and the
    period's page lists it. Rows are only added; the latest one after the case's current
    closing applies."""

    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="closure_corrections",
    )
    counts_from = models.DateTimeField(_("counts as closed from"))
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("closure correction")
        verbose_name_plural = _("closure corrections")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["counts_from"], name="closurecorrection_from")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.counts_from:%Y-%m-%d %H:%M}"


class DispatchFactValues(models.Model):
    """The columns of a dispatch's facts, shared by the live facts and a replay's."""

    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    city = models.ForeignKey(
        Region, verbose_name=_("city"), on_delete=models.PROTECT, related_name="+"
    )
    town = models.ForeignKey(
        Region, verbose_name=_("town"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        Region, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    grid = models.ForeignKey(
        Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    origin = models.CharField(_("origin"), max_length=10, choices=Dispatch.Origin.choices)
    dispatched_at = models.DateTimeField(_("dispatched at"))
    report_in_due = models.DateTimeField(_("report-in due"))
    reported_in_at = models.DateTimeField(_("reported in at"), null=True, blank=True)
    reported_on_time = models.BooleanField(_("reported in on time"), default=False)
    late = models.BooleanField(_("reported in late"), default=False)
    cancelled = models.BooleanField(_("cancelled"), default=False)
    # A return (退回) and the committee's ruling: an upheld return is not held against the
    # unit; an overruled one is (assessment.indicators, overruled_return_rate).
    returned = models.BooleanField(_("returned"), default=False)
    return_upheld = models.BooleanField(_("return upheld"), default=False)
    return_overruled = models.BooleanField(_("return overruled"), default=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # Failed verifications of what this dispatch took part in resolving: a unit is charged
    # only for what its own dispatch did (assessment.facts).
    reworked = models.BooleanField(_("reworked"), default=False)
    reworked_at = models.DateTimeField(_("first reworked at"), null=True, blank=True)
    rework_count = models.PositiveIntegerField(_("failed verifications"), default=0)
    task_due_at = models.DateTimeField(_("task deadline"), null=True, blank=True)
    task_overdue = models.BooleanField(_("task overdue"), default=False)
    consultation_invited = models.BooleanField(_("invited to a consultation"), default=False)
    consultation_attended = models.BooleanField(_("attended the consultation"), default=False)
    consultation_late = models.BooleanField(_("arrived late at the consultation"), default=False)
    urged = models.BooleanField(_("urged"), default=False)
    urge_count = models.PositiveIntegerField(_("times urged"), default=0)
    supervised = models.BooleanField(_("under a supervision order"), default=False)
    supervision_late = models.BooleanField(_("a supervision order met late"), default=False)
    # A spot check's revisit (抽查) of the case this dispatch reported resolved, and whether it
    # found the reply false (虚假回复): assessment.indicators, false_reply_rate.
    spot_checked = models.BooleanField(_("revisited in a spot check"), default=False)
    false_reply = models.BooleanField(_("false reply"), default=False)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        abstract = True


class DispatchFact(DispatchFactValues):
    """What one dispatch amounts to: reported in on time, resolved on time, attendance.

    On PostgreSQL partitioned by the month it was sent (`dispatched_at`, migration assessment
    0017): the dispatch counts of a period read its months alone; the primary key is the pair,
    and so is SQLite's unique constraint for the refresh's upsert."""

    dispatch = models.OneToOneField(
        Dispatch,
        verbose_name=_("dispatch"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="fact",
    )
    # No database constraint: a foreign key can point at a partitioned table only through a
    # key holding its month (docs/architecture.md, "Partitioned history").
    case_fact = models.ForeignKey(
        CaseFact,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="dispatch_facts",
        db_column="case_id",
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("dispatch fact")
        verbose_name_plural = _("dispatch facts")
        ordering = ["-dispatched_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dispatch", "dispatched_at"], name="dispfact_dispatch_month"
            )
        ]
        indexes = [
            models.Index(fields=["team", "dispatched_at"], name="dispfact_team_disp"),
            models.Index(fields=["department", "dispatched_at"], name="dispfact_dept_disp"),
            models.Index(fields=["city", "dispatched_at"], name="dispfact_city_disp"),
            models.Index(fields=["town", "dispatched_at"], name="dispfact_town_disp"),
            models.Index(fields=["village", "dispatched_at"], name="dispfact_village_disp"),
            models.Index(fields=["grid", "dispatched_at"], name="dispfact_grid_disp"),
            models.Index(fields=["reporter", "dispatched_at"], name="dispfact_reporter_disp"),
            # Case-based indicators of a team or department find its cases through these.
            models.Index(fields=["team", "case_fact"], name="dispfact_team_case"),
            models.Index(fields=["department", "case_fact"], name="dispfact_dept_case"),
        ]

    def __str__(self) -> str:
        return f"facts of dispatch {self.dispatch_id}"


class ScoringScheme(models.Model):
    """Which indicators make a score, with which weights, from which date.

    The scheme used for a period is the active one with the latest `valid_from` on or before
    the period's first day. A scheme whose date has passed is locked (see assessment.scoring),
    so a change applies from a date and never rewrites a closed period.
    """

    name = models.CharField(_("name"), max_length=100)
    valid_from = models.DateField(_("valid from"))
    active = models.BooleanField(_("active"), default=True)
    town_evaluation_weight = models.DecimalField(
        _("weight of the towns' evaluation (departments)"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.300"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("Share of a department's score given by the towns' monthly evaluation."),
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("scoring scheme")
        verbose_name_plural = _("scoring schemes")
        ordering = ["-valid_from", "-id"]
        indexes = [models.Index(fields=["active", "valid_from"], name="scheme_active_from")]

    def __str__(self) -> str:
        return f"{self.name} ({self.valid_from:%Y-%m-%d})"


class SchemeIndicator(models.Model):
    """One indicator of a scheme with its weight and where full marks start."""

    scheme = models.ForeignKey(
        ScoringScheme,
        verbose_name=_("scheme"),
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    key = models.CharField(_("indicator"), max_length=40)
    weight = models.DecimalField(
        _("weight"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    floor = models.DecimalField(
        _("full marks from"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("For rates where more is better: full marks at or above this rate."),
    )
    ceiling = models.DecimalField(
        _("full marks up to"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("For rates where less is better: full marks at or below this rate."),
    )

    class Meta:
        verbose_name = _("scheme indicator")
        verbose_name_plural = _("scheme indicators")
        ordering = ["scheme_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "key"], name="scheme_indicator_once"),
            models.CheckConstraint(
                condition=Q(floor__isnull=True) | Q(ceiling__isnull=True),
                name="scheme_indicator_floor_or_ceiling",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} × {self.weight}"


class SchemeDeduction(models.Model):
    """Points taken off the score per counted event (a failed verification, a late report-in)."""

    class Kind(models.TextChoices):
        PER_FAILED_VERIFICATION = "per_failed_verification", _("per failed verification")
        PER_LATE_REPORT_IN = "per_late_report_in", _("per late report-in")
        PER_OVERDUE_CASE = "per_overdue_case", _("per overdue case")
        # Each passed limit of a case's own stages (a screening timer whistle, a verification
        # overrun...): each firing counts (assessment.facts, late_count).
        PER_PASSED_LIMIT = "per_passed_limit", _("per passed limit (each firing)")
        PER_MISSED_CONSULTATION = "per_missed_consultation", _("per missed consultation")
        PER_LATE_CONSULTATION = "per_late_consultation", _("per late arrival at a consultation")

    scheme = models.ForeignKey(
        ScoringScheme,
        verbose_name=_("scheme"),
        on_delete=models.CASCADE,
        related_name="deductions",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    points = models.DecimalField(
        _("points"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        verbose_name = _("scheme deduction")
        verbose_name_plural = _("scheme deductions")
        ordering = ["scheme_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "kind"], name="scheme_deduction_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: −{self.points}"


class TownEvaluation(models.Model):
    """A town committee's monthly evaluation of one department's work in its town.

    Append-only (core.db_roles): giving the month's evaluation again adds a row that replaces
    the previous one; the current evaluation is the row nothing replaces (`current()`)."""

    town = models.ForeignKey(
        Region, verbose_name=_("town"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="town_evaluations",
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month evaluated."))
    score = models.DecimalField(
        _("score"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluated by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("replaces"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="replaced_by",
    )

    class Meta:
        verbose_name = _("town evaluation")
        verbose_name_plural = _("town evaluations")
        ordering = ["-month", "town_id", "department_id"]
        constraints = [
            # One first evaluation a month; each later one replaces exactly one row.
            models.UniqueConstraint(
                fields=["town", "department", "month"],
                condition=Q(replaces__isnull=True),
                name="town_evaluation_first_once",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="town_evaluation_score_range"
            ),
        ]
        indexes = [models.Index(fields=["department", "month"], name="townevel_dept_month")]

    def __str__(self) -> str:
        return f"{self.town} → {self.department} {self.month:%Y-%m}: {self.score}"

    @classmethod
    def current(cls) -> models.QuerySet["TownEvaluation"]:
        """The evaluations in force: those no later evaluation replaces."""
        return cls.objects.filter(replaced_by__isnull=True)


class FactMonth(models.Model):
    """A token per calendar month (local time) that changes whenever a fact of that month is
    written (a case filed or a dispatch sent in it), so that numbers counted from the month's
    facts can be kept in the cache until then (assessment.selectors)."""

    month = models.DateField(_("month"), primary_key=True)
    token = models.UUIDField(_("version"))
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("fact month")
        verbose_name_plural = _("fact months")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.token}"


class PeriodCounts(models.Model):
    """A unit's counts for one period, stored by the worker (services.keep_overview_counts) so
    that the overview of a busy city or town reads them instead of counting millions of facts
    while people work. `state` names the facts they were counted from (the tokens of the
    period's months, FactMonth): stored counts whose state is no longer current are served only
    while younger than WHISTLE_COUNTS_STALE_SECONDS."""

    unit_type = models.CharField(_("unit type"), max_length=20)
    unit_id = models.BigIntegerField(_("unit"))
    start = models.DateField(_("first day"))
    end = models.DateField(_("day after the last"))
    counts = models.JSONField(_("counts"))
    state = models.CharField(_("state of the facts"), max_length=40, blank=True)
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        verbose_name = _("stored period counts")
        verbose_name_plural = _("stored period counts")
        constraints = [
            models.UniqueConstraint(
                fields=["unit_type", "unit_id", "start", "end"], name="period_counts_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit_type} {self.unit_id} {self.start}–{self.end}"
