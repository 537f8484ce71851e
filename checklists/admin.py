"""Admin for the checklist: aspects, items with their time limits, and screening rules."""

from django import forms
from django.contrib import admin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from checklists.models import Aspect, Item, ReplyTemplate, ScreeningRule, Stage, TimeLimit
from teams.admin import TeamAdmin
from teams.levels import with_levels
from teams.models import Team


class ItemInline(admin.TabularInline):
    """The items of an aspect, compact. New items are added on the item page, where their time
    limits and handlers are set too."""

    model = Item
    extra = 0
    fields = ("order", "code", "name_zh", "name_en", "urgency", "whistleable", "active")
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Aspect | None = None) -> bool:
        return False


@admin.register(Aspect)
class AspectAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "order", "item_count")
    list_editable = ("order",)
    search_fields = ("code", "name_zh", "name_en")
    inlines = (ItemInline,)
    filter_horizontal = ("teams",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(item_total=Count("items"))

    @admin.display(description=_("items"), ordering="item_total")
    def item_count(self, obj: Aspect) -> int:
        return obj.item_total


class TimeLimitForm(forms.ModelForm):
    """Field-level messages for what the database constraints would refuse less clearly."""

    class Meta:
        model = TimeLimit
        fields = ("item", "stage", "amount", "unit", "yellow_at_percent")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, low, high in (("amount", 1, None), ("yellow_at_percent", 1, 99)):
            field = self.fields.get(name)
            if field is None:
                continue
            field.validators.append(MinValueValidator(low))
            field.widget.attrs["min"] = low
            if high is not None:
                field.validators.append(MaxValueValidator(high))
                field.widget.attrs["max"] = high


class TimeLimitInline(admin.TabularInline):
    """Exactly one row per stage: the timers need a limit for every stage of every item, so rows
    are edited, never left out or deleted."""

    model = TimeLimit
    form = TimeLimitForm
    fields = ("stage", "amount", "unit", "yellow_at_percent")
    min_num = len(Stage.choices)
    max_num = len(Stage.choices)
    extra = 0
    can_delete = False

    def get_formset(self, request: HttpRequest, obj: Item | None = None, **kwargs):
        kwargs.setdefault("validate_min", True)
        return super().get_formset(request, obj, **kwargs)


class ItemAdminForm(forms.ModelForm):
    # The model stores a JSON list; administrators tick the kinds instead of typing JSON.
    default_team_kinds = forms.MultipleChoiceField(
        label=_("default team kinds"),
        choices=Team.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=with_levels(_("Kinds of %(town)s team dispatched by default.")),
    )

    class Meta:
        model = Item
        fields = (
            "aspect",
            "code",
            "order",
            "name_zh",
            "name_en",
            "active",
            "description_zh",
            "description_en",
            "legal_basis_zh",
            "legal_basis_en",
            "urgency",
            "whistleable",
            "redirect_zh",
            "redirect_en",
            "default_team_kinds",
            "default_department_kinds",
            "hotline_route",
            "teams",
        )
        help_texts = {
            "hotline_route": with_levels(
                _(
                    "Where a whistle of this item from the 12345 hotline goes: to the "
                    "%(village)s's screening, or straight to the %(town)s's dispatch with the "
                    "%(village)s informed."
                )
            ),
        }


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    form = ItemAdminForm
    list_display = ("code", "name_zh", "name_en", "aspect", "urgency", "whistleable", "active")
    list_filter = (
        "aspect",
        "urgency",
        "whistleable",
        "hotline_route",
        "active",
        "default_department_kinds",
    )
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("aspect",)
    filter_horizontal = ("default_department_kinds", "teams")
    inlines = (TimeLimitInline,)
    fieldsets = (
        (None, {"fields": ("aspect", "code", "order", "name_zh", "name_en", "active")}),
        (
            _("Description and legal basis"),
            {"fields": ("description_zh", "description_en", "legal_basis_zh", "legal_basis_en")},
        ),
        (
            _("Whistling and handlers"),
            {
                "fields": (
                    "urgency",
                    "whistleable",
                    "redirect_zh",
                    "redirect_en",
                    "default_team_kinds",
                    "default_department_kinds",
                    "hotline_route",
                    "teams",
                )
            },
        ),
    )

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, TimeLimitInline):
            # Offer the stages that have no limit yet, in lifecycle order.
            present = set(obj.time_limits.values_list("stage", flat=True)) if obj.pk else set()
            kwargs["initial"] = [{"stage": s} for s in Stage.values if s not in present]
        return kwargs


@admin.register(TimeLimit)
class TimeLimitAdmin(admin.ModelAdmin):
    form = TimeLimitForm
    list_display = ("item", "stage", "amount", "unit", "yellow_at_percent")
    list_filter = ("stage", "unit", "item__aspect", "item__urgency")
    search_fields = ("item__code", "item__name_zh", "item__name_en")
    autocomplete_fields = ("item",)
    list_select_related = ("item",)


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "active")
    list_filter = ("active",)
    search_fields = ("code", "name_zh", "name_en", "keywords")
    fields = (
        "code",
        "name_zh",
        "name_en",
        "active",
        "keywords",
        "reason_zh",
        "reason_en",
        "redirect_zh",
        "redirect_en",
    )


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    """The reasons and replies offered in the actions' forms, edited in both languages."""

    list_display = ("code", "action", "item", "text_zh", "text_en", "order", "active")
    list_editable = ("order", "active")
    list_filter = ("action", "active", "item__aspect")
    search_fields = ("code", "text_zh", "text_en", "item__code", "item__name_zh", "item__name_en")
    autocomplete_fields = ("item",)
    list_select_related = ("item",)
    fields = (
        "code",
        "action",
        "item",
        "order",
        "active",
        "text_zh",
        "text_en",
        "redirect_zh",
        "redirect_en",
    )


# A unit's speciality is edited on the team's page too: the aspects and items it takes (the
# relation lives here, in the checklist, a layer above the teams).


class SpecialityAspectInline(admin.TabularInline):
    model = Aspect.teams.through
    extra = 0
    autocomplete_fields = ("aspect",)
    verbose_name = _("speciality: aspect")
    verbose_name_plural = _("speciality: aspects (none and no items: every item)")


class SpecialityItemInline(admin.TabularInline):
    model = Item.teams.through
    extra = 0
    autocomplete_fields = ("item",)
    verbose_name = _("speciality: item")
    verbose_name_plural = _("speciality: items")


class TeamWithSpecialityAdmin(TeamAdmin):
    inlines = (*TeamAdmin.inlines, SpecialityAspectInline, SpecialityItemInline)


if admin.site.is_registered(Team):
    admin.site.unregister(Team)
admin.site.register(Team, TeamWithSpecialityAdmin)
