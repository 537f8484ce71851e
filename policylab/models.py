"""The policy lab (docs/architecture.md, The policy lab): scenarios of other rules, and their
replays over a real period's history.

A Scenario is a copy of the rules (time limits per item and stage, the working calendar's
exception days, the yellow light, a scoring scheme) that a committee edits without touching
the rules in force. A Replay recomputes, under one scenario, what the rules decide for the
cases of a period and a place (deadlines, lateness, timer escalations, facts, indicators,
scores); its facts live in its own tables (ReplayCaseFact, ReplayDispatchFact), never in the
live ones.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from assessment.models import CaseFactValues, DispatchFactValues
from assessment.periods import KINDS
from teams.models import Region


class Scenario(models.Model):
    """Other rules to try, for one city, starting from the rules in force."""

    city = models.ForeignKey(
        Region, verbose_name=_("city"), on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100)
    note = models.TextField(_("note"), blank=True)
    # [{"item": id, "stage": stage, "amount": n, "unit": unit}, ...]: every item's limits as
    # the scenario has them (copied from the rules in force when it was made).
    limits = models.JSONField(_("time limits"), default=list)
    yellow_at_percent = models.PositiveSmallIntegerField(
        _("yellow light at (%)"),
        null=True,
        blank=True,
        help_text=_("Empty: each limit keeps its own yellow light."),
    )
    # Days the scenario counts as holidays, and as make-up working days (调休), on top of the
    # calendar in force (ISO dates).
    holidays = models.JSONField(_("extra holidays"), default=list, blank=True)
    workdays = models.JSONField(_("extra working days"), default=list, blank=True)
    # {"town_evaluation_weight": "0.300", "indicators": [{"key", "weight", "floor", "ceiling"}],
    #  "deductions": [{"kind", "points"}]} (decimals as strings)
    scheme = models.JSONField(_("scoring scheme"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Replay(models.Model):
    """One run of a scenario over a period's cases in a place; kept, named, comparable."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    scenario = models.ForeignKey(
        Scenario, verbose_name=_("scenario"), on_delete=models.CASCADE, related_name="replays"
    )
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        Region, verbose_name=_("place"), on_delete=models.CASCADE, related_name="+"
    )
    period_kind = models.CharField(
        _("period"), max_length=10, choices=[(kind, kind) for kind in KINDS]
    )
    period_start = models.DateField(_("first day"))
    period_end = models.DateField(_("end (exclusive)"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="queued")
    cases_total = models.PositiveIntegerField(_("cases to replay"), default=0)
    cases_done = models.PositiveIntegerField(_("cases replayed"), default=0)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    # The scenario as it was replayed (a later edit of the scenario does not change a result).
    rules = models.JSONField(_("rules replayed"), default=dict)
    # What the comparison shows: counts per level, "would have escalated", changed verdicts.
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # The worker's last sign of life (after each chunk): a replay running without one for
    # policylab.services.STALLED is taken up again (a worker that died mid-run).
    progress_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("replay")
        verbose_name_plural = _("replays")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["region", "period_start"], name="replay_place_period")]

    def __str__(self) -> str:
        return self.name


class ReplayCaseFact(CaseFactValues):
    """A case's facts as the replay's rules would have made them."""

    # Indexed by the unique constraint (replay first), not by an index of its own.
    replay = models.ForeignKey(
        Replay, verbose_name=_("replay"), on_delete=models.CASCADE, related_name="case_facts"
    )
    # The live case (no foreign key: a replay's rows are its own, read in bulk).
    case_id = models.BigIntegerField(_("case"))
    # The verdict changed from the live facts (on time <-> late), and a timer the scenario
    # fires earlier would have sent the case up (the report's "would have escalated").
    verdict_changed = models.BooleanField(_("verdict changed"), default=False)
    would_escalate_at = models.DateTimeField(_("would have escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("replayed case fact")
        verbose_name_plural = _("replayed case facts")
        constraints = [
            models.UniqueConstraint(fields=["replay", "case_id"], name="replay_case_once")
        ]
        indexes = [
            models.Index(fields=["replay", "filed_at"], name="replaycase_filed"),
            models.Index(fields=["replay", "town", "filed_at"], name="replaycase_town"),
            models.Index(fields=["replay", "village", "filed_at"], name="replaycase_village"),
        ]

    def __str__(self) -> str:
        return f"replay {self.replay_id}: case {self.case_id}"


class ReplayDispatchFact(DispatchFactValues):
    """A dispatch's facts as the replay's rules would have made them."""

    # Indexed by the unique constraint (replay first), not by an index of its own.
    replay = models.ForeignKey(
        Replay, verbose_name=_("replay"), on_delete=models.CASCADE, related_name="dispatch_facts"
    )
    case_fact = models.ForeignKey(
        ReplayCaseFact,
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="dispatch_facts",
    )
    dispatch_id = models.BigIntegerField(_("dispatch"))
    verdict_changed = models.BooleanField(_("verdict changed"), default=False)

    class Meta:
        verbose_name = _("replayed dispatch fact")
        verbose_name_plural = _("replayed dispatch facts")
        constraints = [
            models.UniqueConstraint(fields=["replay", "dispatch_id"], name="replay_dispatch_once")
        ]
        indexes = [
            models.Index(fields=["replay", "dispatched_at"], name="replaydisp_disp"),
            models.Index(fields=["replay", "team", "case_fact"], name="replaydisp_team"),
            models.Index(fields=["replay", "department", "case_fact"], name="replaydisp_dept"),
        ]

    def __str__(self) -> str:
        return f"replay {self.replay_id}: dispatch {self.dispatch_id}"


def _copied_plain(model: type[models.Model]) -> None:
    """A replay's rows keep no foreign-key constraint, and the columns copied from the live
    facts (city, town, village, grid, item, reporter, team, department) no index of their
    own: they are copies of rows whose own constraints hold, a replay's rows are written only
    by its engine and removed with it through the ORM (which cascades by itself), every read
    goes through the replay's own indexes (Meta), and on PostgreSQL the deferred checks of
    every row at each chunk's commit, and a dozen indexes kept up to date on each insert,
    took most of a county's replay (docs/benchmarks.md)."""
    for field in model._meta.concrete_fields:
        if field.is_relation:
            field.db_constraint = False
            if field.name != "case_fact":
                field.db_index = False


_copied_plain(ReplayCaseFact)
_copied_plain(ReplayDispatchFact)
