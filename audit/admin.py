"""The access records in the admin: read-only (the database refuses changes anyway)."""

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AccessRecord


@admin.register(AccessRecord)
class AccessRecordAdmin(admin.ModelAdmin):
    list_display = ("at", "username", "address", "kind", "outcome", "case_number", "target")
    list_filter = ("kind", "outcome")
    search_fields = ("=username", "=case_number", "=address")
    date_hierarchy = "at"
    list_select_related = False
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field.name for field in self.model._meta.fields]
