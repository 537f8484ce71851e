"""Administration of scoring schemes and town evaluations; facts are shown read-only."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from assessment.indicators import LABELS, RATE_KEYS
from assessment.models import (
    CaseFact,
    ClosureCorrection,
    DispatchFact,
    SchemeDeduction,
    SchemeIndicator,
    ScoringScheme,
    TownEvaluation,
)
from assessment.scoring import check_scheme_change, is_locked
from teams.levels import level_label, with_levels


class SchemeIndicatorForm(forms.ModelForm):
    key = forms.ChoiceField(label=_("indicator"), choices=[(k, LABELS[k]) for k in RATE_KEYS])

    class Meta:
        model = SchemeIndicator
        fields = ["key", "weight", "floor", "ceiling"]

    def clean(self):
        data = super().clean()
        if data.get("floor") is not None and data.get("ceiling") is not None:
            raise ValidationError(_("Give a floor or a ceiling, not both."))
        return data


class LockedInlineMixin:
    """Inlines of a scheme that has been in force are shown, not changed."""

    def _editable(self, obj) -> bool:
        return obj is None or not is_locked(obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


class SchemeIndicatorInline(LockedInlineMixin, admin.TabularInline):
    model = SchemeIndicator
    form = SchemeIndicatorForm
    extra = 0


class SchemeDeductionInline(LockedInlineMixin, admin.TabularInline):
    model = SchemeDeduction
    extra = 0


EVALUATION_WEIGHT_LABEL = with_levels(_("weight of the %(towns)s' evaluation (departments)"))


@admin.display(description=level_label("town"), ordering="town")
def town_column(obj) -> str:
    """The town column, headed by the deployment's name of the middle level."""
    return str(obj.town)


class ScoringSchemeForm(forms.ModelForm):
    class Meta:
        model = ScoringScheme
        fields = ["name", "valid_from", "active", "town_evaluation_weight", "note"]
        # The model's words are the generic tier's; the form says the deployment's.
        labels = {"town_evaluation_weight": EVALUATION_WEIGHT_LABEL}
        help_texts = {
            "town_evaluation_weight": with_levels(
                _("Share of a department's score given by the %(towns)s' monthly evaluation.")
            )
        }

    def clean(self):
        data = super().clean()
        if data.get("valid_from"):
            candidate = ScoringScheme(pk=self.instance.pk, valid_from=data["valid_from"])
            check_scheme_change(scheme=candidate)
        return data


@admin.register(ScoringScheme)
class ScoringSchemeAdmin(admin.ModelAdmin):
    form = ScoringSchemeForm
    list_display = ["name", "valid_from", "active", "evaluation_weight"]
    list_filter = ["active"]
    inlines = [SchemeIndicatorInline, SchemeDeductionInline]

    @admin.display(description=EVALUATION_WEIGHT_LABEL, ordering="town_evaluation_weight")
    def evaluation_weight(self, obj: ScoringScheme):
        return obj.town_evaluation_weight

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and is_locked(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and is_locked(obj):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(TownEvaluation)
class TownEvaluationAdmin(admin.ModelAdmin):
    list_display = ["month", town_column, "department", "score", "evaluated_by"]
    list_filter = ["month"]
    fields = [town_column, "department", "month", "score", "evaluated_by", "note"]
    readonly_fields = [town_column, "department", "month", "score", "evaluated_by", "note"]

    def has_add_permission(self, request) -> bool:
        return False  # towns evaluate through their form, within their scope

    # Append-only (core.db_roles): a correction is a new evaluation given through the form.
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Facts are derived from the events: rebuilt, never edited."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CaseFact)
class CaseFactAdmin(ReadOnlyAdmin):
    list_display = ["case", town_column, "filed_at", "closed", "closed_level", "closed_on_time"]
    list_filter = ["closed", "closed_level", "overdue", "reworked", "postponed", "suspended"]
    raw_id_fields = ["case"]
    list_select_related = ["case", "town"]


@admin.register(DispatchFact)
class DispatchFactAdmin(ReadOnlyAdmin):
    list_display = ["dispatch", "team", "department", "dispatched_at", "reported_on_time", "late"]
    list_filter = ["reported_on_time", "late", "cancelled"]
    list_select_related = ["dispatch__case", "team", "department"]


@admin.register(ClosureCorrection)
class ClosureCorrectionAdmin(ReadOnlyAdmin):
    """Corrections are recorded by a supervisor through services.correct_closing (the
    `correct_closing` command) and never edited: a new one replaces the effect of an older."""

    list_display = ["case", "counts_from", "recorded_by", "recorded_at"]
    search_fields = ["case__number", "reason"]
    raw_id_fields = ["case"]
    list_select_related = ["case", "recorded_by"]
