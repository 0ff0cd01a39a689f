"""Django admin for the platform operator: tenants, people, memberships, API keys. Tenant
content (tenant-owned models) is deliberately not registered: the operator does not read it."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .accounts.models import User
from .api.models import ApiKey
from .tenancy.models import Membership, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["slug", "name"]
    readonly_fields = ["slug", "created_at"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "is_active"]
    list_filter = ["role", "is_active", "tenant"]
    search_fields = ["user__email", "tenant__slug"]
    raw_id_fields = ["user"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name", "tenant", "role", "user", "prefix", "created_at", "last_used_at", "revoked_at"
    ]  # fmt: skip
    list_filter = ["role", "tenant"]
    # The member a key acts for is chosen when it is issued (compliance_hub/api/keys.py checks
    # the role ceiling there), never changed afterwards.
    readonly_fields = ["prefix", "key_hash", "user", "created_at", "last_used_at"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name"]}),
        ("Platform", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal = []
    list_filter = ["is_active", "is_staff"]
