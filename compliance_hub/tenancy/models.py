"""Tenant, membership and the abstract base of every tenant-owned model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from .context import TenantNotSet, current_tenant_id, is_unscoped


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    OFFICER = "officer", "Compliance officer"
    # Everything an officer does, plus the second level of review (escalated alerts).
    SENIOR_OFFICER = "senior_officer", "Senior compliance officer"
    AUDITOR = "auditor", "Auditor"


class Tenant(models.Model):
    """A firm. A platform table (no RLS): it is what RLS is keyed on."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    slug = models.SlugField(
        max_length=50,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
                "Lower-case letters, digits and inner hyphens only.",
            )
        ],
    )
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    settings = models.JSONField(default=dict, blank=True)
    # Where the firm is established (ISO 3166-1 alpha-2, "" when not given): defaults that the
    # law decides, such as pseudonymised review in the EU/EEA (alerts/masking.py), follow it.
    country = models.CharField(max_length=2, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class MembershipQuerySet(models.QuerySet):
    def active(self) -> MembershipQuerySet:
        return self.filter(is_active=True, tenant__status=Tenant.Status.ACTIVE)


class Membership(models.Model):
    """A user's role in one tenant. Platform table: the tenant is resolved *from* it, so it is read
    before any tenant is known; every read outside that resolution filters by tenant explicitly."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_per_tenant")
        ]
        ordering = ["tenant_id", "user_id"]

    def __str__(self) -> str:
        return f"{self.user} · {self.tenant} · {self.role}"


_Model = TypeVar("_Model", bound=models.Model, covariant=True)
_Row = TypeVar("_Row", covariant=True)


class TenantQuerySet(models.QuerySet[_Model, _Row]):
    """A queryset that refuses to run when it was built with no tenant in context.

    Building one is harmless (libraries such as django-filter inspect ``Model.objects.all()`` at
    import time); evaluating it raises :class:`TenantNotSet`. The database wall would return no
    rows anyway; raising makes the missing scope a loud bug instead of an empty page.
    """

    _missing_tenant_model: str | None = None

    def _clone(self):
        clone = super()._clone()
        clone._missing_tenant_model = self._missing_tenant_model
        return clone

    def _refuse_without_tenant(self) -> None:
        if self._missing_tenant_model is not None:
            raise TenantNotSet(
                f"{self._missing_tenant_model} queried with no tenant in context; "
                "enter tenant_scope(tenant) at the boundary"
            )

    def _fetch_all(self) -> None:
        self._refuse_without_tenant()
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Iterator[_Row]:
        self._refuse_without_tenant()
        return super().iterator(chunk_size=chunk_size)

    def count(self) -> int:
        self._refuse_without_tenant()
        return super().count()

    def exists(self) -> bool:
        self._refuse_without_tenant()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._refuse_without_tenant()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs) -> int:
        self._refuse_without_tenant()
        return super().update(**kwargs)

    def delete(self):
        self._refuse_without_tenant()
        return super().delete()


# At module level, as django-stubs documents `from_queryset`: its plugin types the generated class
# only when it is bound to a name, not when it is built inside a class line.
TenantManagerBase = models.Manager.from_queryset(TenantQuerySet)


class TenantScopedManager(TenantManagerBase):
    """Filters by the tenant in context; with none, its querysets refuse to run (fail closed)."""

    def get_queryset(self) -> TenantQuerySet:
        queryset = super().get_queryset()
        # The stubs type the generated base's get_queryset as a plain QuerySet; at run time it is
        # built from the class given to from_queryset, always.
        assert isinstance(queryset, TenantQuerySet), "from_queryset(TenantQuerySet) builds these"
        if is_unscoped():
            return queryset
        tenant_id = current_tenant_id()
        if tenant_id is None:
            queryset._missing_tenant_model = self.model.__name__
            return queryset.none()
        return queryset.filter(tenant_id=tenant_id)


class TenantOwnedModel(models.Model):
    """Base of every tenant-owned model. Its table must get RLS in its migration:

        operations = [..., EnableTenantRLS("modelname")]

    (tests/test_rls.py fails for any subclass whose table lacks it).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=True)

    objects = TenantScopedManager()
    # The plain manager for Django internals (related lookups, cascades); RLS still applies.
    all_tenants = models.Manager()  # noqa: DJ012 - must follow `objects`: first is default

    class Meta:
        abstract = True
        base_manager_name = "all_tenants"

    def save(self, *args, **kwargs) -> None:
        if self.tenant_id is None:
            tenant_id = current_tenant_id()
            # A nullable tenant (platform rows of the audit trail) may stay empty, and only in
            # platform code that declared itself unscoped.
            platform_row = is_unscoped() and self._meta.get_field("tenant").null
            if tenant_id is None and not platform_row:
                raise TenantNotSet(f"{type(self).__name__} saved with no tenant")
            self.tenant_id = tenant_id
        super().save(*args, **kwargs)
