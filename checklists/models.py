"""The checklist ("one list: 6 aspects, 16 items"): what may be whistled, by whom it is handled,
and how long each stage may take."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.reference import ReferenceQuerySet
from teams.levels import with_levels
from teams.localized import BilingualNameMixin, localized
from teams.models import DepartmentKind, Team


class Aspect(BilingualNameMixin):
    """One of the aspects of the list (ecological protection, dog management, ...)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    # Speciality: the units that take this aspect's items (teams.Team.aspects). A unit with no
    # aspect and no item takes every item.
    teams = models.ManyToManyField(
        Team,
        verbose_name=_("specialised units"),
        blank=True,
        related_name="aspects",
        help_text=_("Units that specialise in this aspect's items."),
    )

    class Meta:
        verbose_name = _("aspect")
        verbose_name_plural = _("aspects")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def description(self) -> str:
        return localized(self, "description")


def hotline_route_choices() -> list[tuple[str, str]]:
    """The routes of a hotline whistle, in the deployment's level names (a callable, so
    migrations keep the function and never the names)."""
    return list(Item.HotlineRoute.choices)


class Item(BilingualNameMixin):
    """A matter that may (or may not) be whistled, with its handlers and time limits."""

    class Urgency(models.TextChoices):
        ORDINARY = "ordinary", _("ordinary")
        URGENT = "urgent", _("urgent")

    class HotlineRoute(models.TextChoices):
        """Where a whistle from the 12345 hotline goes first (cases.services.filing)."""

        VILLAGE_SCREENING = "village_screening", with_levels(_("to the %(village)s for screening"))
        TOWN_DISPATCH = (
            "town_dispatch",
            with_levels(_("straight to the %(town)s's dispatch, the %(village)s informed")),
        )

    aspect = models.ForeignKey(
        Aspect, verbose_name=_("aspect"), on_delete=models.PROTECT, related_name="items"
    )
    code = models.CharField(_("code"), max_length=32, unique=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    legal_basis_zh = models.TextField(_("legal basis (Chinese)"), blank=True)
    legal_basis_en = models.TextField(_("legal basis (English)"), blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.ORDINARY
    )
    whistleable = models.BooleanField(
        _("may be whistled"),
        default=True,
        help_text=_("Untick for matters that screening must refuse."),
    )
    redirect_zh = models.TextField(
        _("where to go instead (Chinese)"),
        blank=True,
        help_text=_("Shown when a whistle of this item is refused."),
    )
    redirect_en = models.TextField(_("where to go instead (English)"), blank=True)
    default_team_kinds = models.JSONField(
        _("default team kinds"),
        default=list,
        blank=True,
        help_text=_('Kinds of town team dispatched by default: "comprehensive", "professional".'),
    )
    default_department_kinds = models.ManyToManyField(
        DepartmentKind,
        verbose_name=_("default departments"),
        blank=True,
        related_name="items",
    )
    hotline_route = models.CharField(
        _("route of a hotline whistle"),
        max_length=20,
        choices=hotline_route_choices,
        default=HotlineRoute.VILLAGE_SCREENING,
        help_text=_(
            "Where a whistle of this item from the 12345 hotline goes: to the village's "
            "screening, or straight to the town's dispatch with the village informed."
        ),
    )
    teams = models.ManyToManyField(
        Team,
        verbose_name=_("specialised units"),
        blank=True,
        related_name="items",
        help_text=_("Units that specialise in this item (besides those of its aspect)."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    # Filing keeps items in each process (checklists.selectors): every write must drop them.
    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["aspect__order", "order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        kinds = self.default_team_kinds or []
        if not isinstance(kinds, list) or any(k not in Team.Kind.values for k in kinds):
            raise ValidationError(
                {
                    "default_team_kinds": _("Use a list of: %(kinds)s.")
                    % {"kinds": ", ".join(Team.Kind.values)}
                }
            )

    @property
    def description(self) -> str:
        return localized(self, "description")

    @property
    def legal_basis(self) -> str:
        return localized(self, "legal_basis")

    @property
    def redirect(self) -> str:
        return localized(self, "redirect")


class Stage(models.TextChoices):
    SCREENING = "screening", _("screening")
    VILLAGE_HANDLING = "village_handling", _("village handling")
    REPORT_IN = "report_in", _("report-in")
    # The committee's time to dispatch again once a team or department returned a dispatch.
    REDISPATCH = "redispatch", _("re-dispatch")
    HANDLING = "handling", _("handling")
    TOWN_CONSULTATION = "town_consultation", _("town consultation")
    CITY_CONSULTATION = "city_consultation", _("city consultation")
    # Four levels, with the prefecture's committee on the escalation chain (teams.levels).
    PREFECTURE_CONSULTATION = "prefecture_consultation", _("prefecture consultation")
    VERIFICATION = "verification", _("verification")
    # A suspended (挂账) case's review by the committee: due at the end of its review date; the
    # item's limit is the review period the forms propose (docs/workflow.md, `suspend`).
    SUSPENSION_REVIEW = "suspension_review", _("suspension review")


# The stages of a level, in the deployment's names. Stage's own labels keep the engine's words
# (docs/workflow.md is generated from them); what a user reads takes these.
LEVEL_STAGE_LABELS = {
    Stage.VILLAGE_HANDLING: with_levels(_("%(village)s handling")),
    Stage.TOWN_CONSULTATION: with_levels(_("%(town)s consultation")),
    Stage.CITY_CONSULTATION: with_levels(_("%(city)s consultation")),
    Stage.PREFECTURE_CONSULTATION: with_levels(_("%(prefecture)s consultation")),
}


def stage_label(stage: str) -> str:
    """What a user reads for a stage: the deployment's level names where it has one."""
    label = LEVEL_STAGE_LABELS.get(stage)  # lazy: read when shown, never here
    return label if label is not None else Stage(stage).label


def stage_choices() -> list[tuple[str, str]]:
    """The stages, those of a level in the deployment's names: for a model field's choices (a
    callable, so migrations keep the function and never the names)."""
    return [(value, stage_label(value)) for value in Stage.values]


class TimeUnit(models.TextChoices):
    NATURAL_MINUTES = "natural_minutes", _("minutes (natural time)")
    NATURAL_HOURS = "natural_hours", _("hours (natural time)")
    NATURAL_DAYS = "natural_days", _("days (natural time)")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


class TimeLimit(models.Model):
    """How long one stage of a case of this item may take, in natural or working time."""

    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="time_limits"
    )
    stage = models.CharField(_("stage"), max_length=30, choices=stage_choices)
    amount = models.PositiveIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=20, choices=TimeUnit.choices)
    yellow_at_percent = models.PositiveSmallIntegerField(
        _("yellow light at (%)"),
        default=80,
        help_text=_("The light turns yellow at this share of the limit and red when overdue."),
    )

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        ordering = ["item", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["item", "stage"], name="time_limit_unique_stage"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="time_limit_positive"),
            models.CheckConstraint(
                condition=models.Q(yellow_at_percent__gt=0, yellow_at_percent__lt=100),
                name="time_limit_yellow_between_0_and_100",
            ),
        ]

    def __str__(self) -> str:
        unit = self.get_unit_display()
        return f"{self.item.code} · {self.get_stage_display()}: {self.amount} {unit}"

    @property
    def is_working_time(self) -> bool:
        return self.unit in (TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS)


class ScreeningRule(BilingualNameMixin):
    """A matter outside the list (a civil or economic dispute, ...) that screening refuses,
    found by keywords in the description, with where to go instead."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    keywords = models.TextField(
        _("keywords"), help_text=_("One keyword or phrase per line, in either language.")
    )
    reason_zh = models.TextField(_("reason (Chinese)"))
    reason_en = models.TextField(_("reason (English)"))
    redirect_zh = models.TextField(_("where to go instead (Chinese)"))
    redirect_en = models.TextField(_("where to go instead (English)"))
    active = models.BooleanField(_("active"), default=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("screening rule")
        verbose_name_plural = _("screening rules")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def reason(self) -> str:
        return localized(self, "reason")

    @property
    def redirect(self) -> str:
        return localized(self, "redirect")

    def keyword_list(self) -> list[str]:
        return [line.strip().lower() for line in self.keywords.splitlines() if line.strip()]


class ReplyTemplate(models.Model):
    """A ready-made reason or reply (话术模板) offered in an action's form, in both languages: a
    rejection with where to go instead, a return, a failed verification, an urge. For one item,
    or for every item when `item` is empty."""

    class Action(models.TextChoices):
        # The actions whose form takes a reason or a note (the names of cases.workflow).
        REJECT = "reject", _("reject a whistle")
        RETURN_DISPATCH = "return_dispatch", _("return a dispatch")
        VERIFY = "verify", _("verify on site (not fixed)")
        URGE = "urge", _("urge a unit")
        CANCEL = "cancel", _("withdraw a dispatch")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    item = models.ForeignKey(
        Item,
        verbose_name=_("item"),
        on_delete=models.CASCADE,
        related_name="reply_templates",
        null=True,
        blank=True,
        help_text=_("Leave empty to offer it for every item."),
    )
    text_zh = models.TextField(_("text (Chinese)"))
    text_en = models.TextField(_("text (English)"))
    redirect_zh = models.TextField(
        _("where to go instead (Chinese)"),
        blank=True,
        help_text=_("For a rejection: the office or channel that can help."),
    )
    redirect_en = models.TextField(_("where to go instead (English)"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["action", "order", "code"]
        indexes = [models.Index(fields=["action", "active"], name="reply_template_action")]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.text}"

    @property
    def text(self) -> str:
        return localized(self, "text")

    @property
    def redirect(self) -> str:
        return localized(self, "redirect")
