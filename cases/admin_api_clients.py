"""Admin of the Open311 client systems: a key is shown once when issued and only its hash is
kept; a client is revoked rather than deleted, so what it filed keeps its origin."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from cases.models import ApiClient
from cases.open311.services import issue_api_key, revoke_api_client
from teams.levels import level_words, with_levels
from teams.models import Region


class ApiClientForm(forms.ModelForm):
    class Meta:
        model = ApiClient
        fields = ["name", "jurisdiction_id", "rate_limit_per_minute"]
        help_texts = {
            "jurisdiction_id": with_levels(
                _("The code of the %(city)s this client files requests in.")
            ),
        }

    def clean_jurisdiction_id(self) -> str:
        code = self.cleaned_data["jurisdiction_id"].strip()
        if not Region.objects.filter(level=Region.Level.CITY, code=code).exists():
            raise forms.ValidationError(_("Enter the code of a %(city)s.") % level_words())
        return code

    def clean_rate_limit_per_minute(self) -> int:
        value = self.cleaned_data["rate_limit_per_minute"]
        if value < 1:
            raise forms.ValidationError(_("Allow at least one request per minute."))
        return value


def _show_key(request, client: ApiClient, key: str) -> None:
    messages.warning(
        request,
        _("The new key of %(client)s is %(key)s. Copy it now: it is not shown again.")
        % {"client": client.name, "key": key},
    )


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    form = ApiClientForm
    list_display = [
        "name",
        "jurisdiction_id",
        "key_prefix",
        "active",
        "rate_limit_per_minute",
        "created_at",
        "revoked_at",
    ]
    list_filter = ["active"]
    search_fields = ["name"]
    readonly_fields = ["key_prefix", "active", "created_at", "revoked_at"]
    actions = ["issue_new_key", "revoke"]

    def get_fields(self, request, obj=None):
        fields = ["name", "jurisdiction_id", "rate_limit_per_minute"]
        return fields if obj is None else [*fields, *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        _show_key(request, obj, issue_api_key(client=obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Issue a new key (the old one stops working)"))
    def issue_new_key(self, request, queryset):
        for client in queryset:
            _show_key(request, client, issue_api_key(client=client))

    @admin.action(description=_("Revoke"))
    def revoke(self, request, queryset):
        for client in queryset:
            revoke_api_client(client=client)
        messages.success(request, _("Revoked: the keys of these clients no longer work."))
