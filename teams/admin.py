"""Admin for the organisation: the region tree, grids, departments, teams, users and roles.

Administrators with no code edit everything here, so every list can be searched and filtered.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.tmp_storages import MediaStorage
from knox.admin import AuthTokenAdmin as KnoxTokenAdmin
from knox.models import AuthToken
from knox.settings import knox_settings

from teams.contacts import CONTACT_FORMATS, UserContactResource
from teams.levels import VILLAGE, level_label, with_levels
from teams.models import (
    AlertChannel,
    AlertPreference,
    Department,
    DepartmentKind,
    Grid,
    Membership,
    Region,
    Team,
    User,
)
from teams.tokens import token_prefix

admin.site.site_header = _("Whistle administration")
admin.site.site_title = _("Whistle administration")
admin.site.index_title = _("The organisation, the checklist and the time limits")

PLACE_AUTOCOMPLETE = ("region", "grid", "team", "department")


class LevelLabels:
    """Form labels and help texts that name a level, in the deployment's names (teams.levels):
    the model's verbose names stay generic, since migrations would keep the names.

    `level_labels` maps a field to its label (None: the model's) and help text (None: the
    model's)."""

    level_labels: dict = {}

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        label, help_text = self.level_labels.get(db_field.name, (None, None))
        if formfield is not None:
            if label is not None:
                formfield.label = label
            if help_text is not None:
                formfield.help_text = help_text
        return formfield


def titled(filter_class: type, title) -> type:
    """A list filter of `filter_class` whose title is `title` (the deployment's name of a level)."""

    class Titled(filter_class):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


STATIONED_IN = (
    None,
    with_levels(
        _(
            "For a team captain or member: the %(village)s they are stationed in "
            "(they see its cases as their team does)."
        )
    ),
)


class MembershipInline(LevelLabels, admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("role", "region", "grid", "team", "department", "force", "stationed_in")
    autocomplete_fields = (*PLACE_AUTOCOMPLETE, "stationed_in")
    verbose_name = _("role held")
    verbose_name_plural = _("roles held")
    level_labels = {"stationed_in": STATIONED_IN}


class AlertPreferenceAdminForm(forms.ModelForm):
    """The channels as checkboxes, and "the defaults" (a null list) as a box of its own."""

    use_defaults = forms.BooleanField(
        label=_("use the default channels (mail and push)"), required=False, initial=True
    )
    channels = forms.MultipleChoiceField(
        label=_("channels"),
        choices=AlertChannel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For normal alerts, when the defaults are not used; none: the inbox only."),
    )

    class Meta:
        model = AlertPreference
        fields = ("use_defaults", "channels", "urgent_sms", "quiet_start", "quiet_end")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["use_defaults"] = self.instance.channels is None
            self.initial["channels"] = list(self.instance.channels or [])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("use_defaults"):
            data["channels"] = None
        return data


class AlertPreferenceInline(admin.StackedInline):
    """How the user is alerted beyond the inbox; they set it themselves on "My alerts"."""

    model = AlertPreference
    form = AlertPreferenceAdminForm
    fk_name = "user"
    extra = 0
    max_num = 1
    readonly_fields = ("updated_at",)


@admin.register(User)
class UserAdmin(ImportExportMixin, DjangoUserAdmin):
    # Import and export of the alert addresses only (teams.contacts), by username.
    resource_classes = (UserContactResource,)
    formats = CONTACT_FORMATS
    # The upload waits for the confirm step in MEDIA_ROOT, which every machine shares: the
    # confirm may reach another web process or machine than the preview did.
    tmp_storage_class = MediaStorage
    list_display = ("username", "first_name", "last_name", "phone", "email", "is_active")
    list_filter = ("is_active", "is_staff", "is_superuser", "memberships__role")
    search_fields = ("username", "first_name", "last_name", "email", "phone")
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "phone")}),
        # The addresses of the DingTalk and WeCom notification channels.
        (_("Work messaging"), {"fields": ("dingtalk_userid", "wecom_userid")}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "first_name",
                    "last_name",
                    "phone",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    inlines = (MembershipInline, AlertPreferenceInline)

    def get_inline_instances(self, request: HttpRequest, obj: User | None = None) -> list:
        # Roles are added once the account exists, on its change page.
        if obj is None:
            return []
        return super().get_inline_instances(request, obj)

    def has_import_permission(self, request: HttpRequest) -> bool:
        """Importing changes users: only who may change users (import-export lets any staff)."""
        return self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    def import_action(self, request: HttpRequest, **kwargs):
        response = super().import_action(request, **kwargs)
        # A preview with errors offers no confirm step: its upload will never be read again.
        context = getattr(response, "context_data", None) or {}
        if context.get("result") is not None and "confirm_form" not in context:
            upload = context["form"].cleaned_data.get("import_file")
            name = getattr(upload, "tmp_storage_name", None)
            if name:
                self.get_tmp_storage_class()(name=name).remove()
        return response

    def process_result(self, result, request: HttpRequest):
        # The confirm step rolls everything back on a row that went bad since the dry run.
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                _("Nothing was imported: the file has errors; upload it again to see them."),
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:teams_user_import"))
        return super().process_result(result, request)


class GridInline(admin.TabularInline):
    """The grids of a village, listed for orientation; grids are edited on their own page."""

    model = Grid
    fk_name = "village"
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("code", "name_zh", "name_en")
    readonly_fields = fields
    show_change_link = True


class ChildRegionInline(admin.TabularInline):
    """The towns of a city or the villages of a town, listed for orientation."""

    model = Region
    fk_name = "parent"
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("code", "name_zh", "name_en", "level")
    readonly_fields = fields
    show_change_link = True
    verbose_name = _("subordinate region")
    verbose_name_plural = _("subordinate regions")


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "parent")
    list_filter = ("level", ("parent", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name_zh", "name_en")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    fields = ("code", "name_zh", "name_en", "level", "parent")

    def get_inline_instances(self, request: HttpRequest, obj: Region | None = None) -> list:
        if obj is None:
            return []
        inline = GridInline if obj.level == Region.Level.VILLAGE else ChildRegionInline
        return [inline(self.model, self.admin_site)]


@admin.register(Grid)
class GridAdmin(LevelLabels, admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "grid_village", "min_lng", "min_lat")
    list_filter = (
        ("village", titled(admin.RelatedOnlyFieldListFilter, level_label(VILLAGE, capital=True))),
    )
    search_fields = ("code", "name_zh", "name_en", "village__name_zh", "village__name_en")
    autocomplete_fields = ("village",)
    list_select_related = ("village",)
    fields = ("code", "name_zh", "name_en", "village", "polygon", "bbox")
    readonly_fields = ("bbox",)
    formfield_overrides = {
        models.JSONField: {"widget": forms.Textarea(attrs={"rows": 12, "cols": 80})},
    }
    level_labels = {"village": (level_label(VILLAGE, capital=True), None)}

    @admin.display(description=level_label(VILLAGE, capital=True), ordering="village")
    def grid_village(self, obj: Grid) -> str:
        return str(obj.village)

    @admin.display(description=_("bounding box (min lng, min lat, max lng, max lat)"))
    def bbox(self, obj: Grid) -> str:
        if obj.pk is None:
            return "-"
        return f"{obj.min_lng}, {obj.min_lat}, {obj.max_lng}, {obj.max_lat}"

    def save_model(self, request: HttpRequest, obj: Grid, form: forms.ModelForm, change: bool):
        # The bounding box is derived from the polygon; clean() has already validated it.
        obj.refresh_bbox()
        super().save_model(request, obj, form, change)


@admin.register(DepartmentKind)
class DepartmentKindAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(Department)
class DepartmentAdmin(LevelLabels, admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "kind", "region")
    list_filter = ("kind", ("region", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name_zh", "name_en")
    autocomplete_fields = ("region",)
    list_select_related = ("kind", "region")
    level_labels = {
        "region": (None, with_levels(_("The %(city)s, or the %(town)s for a %(town)s branch."))),
    }


@admin.register(Team)
class TeamAdmin(LevelLabels, admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "region", "parent", "kind")
    list_filter = (
        ("region", admin.RelatedOnlyFieldListFilter),
        ("parent", admin.RelatedOnlyFieldListFilter),
        "kind",
    )
    search_fields = ("code", "name_zh", "name_en", "region__name_zh", "region__name_en")
    autocomplete_fields = ("region", "parent")
    filter_horizontal = ("areas", "departments")
    list_select_related = ("region", "parent")
    level_labels = {
        "region": (None, with_levels(_("The %(town)s, or the %(city)s, the unit belongs to."))),
        "parent": (None, with_levels(_("For a brigade: the %(city)s team it belongs to."))),
        "areas": (
            None,
            with_levels(
                _("%(Towns)s (or whole %(cities)s) the unit serves. Empty: its home region.")
            ),
        ),
    }


@admin.register(Membership)
class MembershipAdmin(LevelLabels, admin.ModelAdmin):
    list_display = ("user", "role", "place", "force")
    list_filter = (
        "role",
        "force",
        ("region", admin.RelatedOnlyFieldListFilter),
        ("team", admin.RelatedOnlyFieldListFilter),
        ("department", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "region__name_zh",
        "region__name_en",
        "grid__code",
        "grid__name_zh",
        "grid__name_en",
        "team__name_zh",
        "team__name_en",
        "department__name_zh",
        "department__name_en",
    )
    autocomplete_fields = ("user", *PLACE_AUTOCOMPLETE, "stationed_in")
    list_select_related = ("user", "region", "grid", "team", "department")
    fields = ("user", "role", "region", "grid", "team", "department", "force", "stationed_in")
    level_labels = {"stationed_in": STATIONED_IN}

    @admin.display(description=_("place"))
    def place(self, obj: Membership) -> str:
        return str(obj.place or "-")


class ApiTokenAdmin(KnoxTokenAdmin):
    """API tokens by their first characters only: knox keeps a digest, never the token, and
    the digest is not shown either. A token added here is shown once, in the message."""

    list_display = ("prefix", "user", "created", "expiry")
    list_filter = ("expiry",)
    search_fields = ("token_key", "user__username")
    ordering = ("-created",)

    @admin.display(description=_("begins with"), ordering="token_key")
    def prefix(self, token: AuthToken) -> str:
        return f"{token_prefix(token)}…"

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        """A new token expires like one its owner creates (REST_KNOX's TOKEN_TTL)."""
        return {"expiry": timezone.now() + knox_settings.TOKEN_TTL}

    def get_fields(self, request: HttpRequest, obj: AuthToken | None = None) -> list[str]:
        return ["user", "expiry"]

    def get_readonly_fields(self, request: HttpRequest, obj: AuthToken | None = None):
        return ("user", "expiry") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        super(KnoxTokenAdmin, self).save_model(request, obj, form, change)
        if not change:
            self.message_user(
                request,
                _("The new token, shown only now: %(token)s") % {"token": form.token},
                messages.WARNING,
            )


if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)
admin.site.register(AuthToken, ApiTokenAdmin)
