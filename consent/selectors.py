"""Reads of the consent app: consent states, the register, an employee's history."""

from __future__ import annotations

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from compliance_hub.tenancy.models import Tenant

from .models import ConsentEvent, ConsentInvitation, ConsentNotice, ConsentState, Employee


def _highest_version(notices: QuerySet[ConsentNotice]) -> Coalesce:
    """The highest version among ``notices`` as an SQL expression (0 when there is none), so
    list queries carry it instead of paying a query of their own."""
    highest = notices.order_by().values("tenant").annotate(highest=Max("version")).values("highest")
    return Coalesce(Subquery(highest[:1]), Value(0))


def overdue_version_floor(*, tenant: Tenant) -> Coalesce:
    """Consents to versions below this no longer cover capture now (0: every version does)."""
    return _highest_version(
        ConsentNotice.objects.filter(
            tenant=tenant,
            status=ConsentNotice.Status.PUBLISHED,
            reconsent_deadline__lte=timezone.now(),
        )
    )


def current_version(*, tenant: Tenant) -> Coalesce:
    """The current (highest published) notice version, as an SQL expression."""
    return _highest_version(
        ConsentNotice.objects.filter(tenant=tenant, status=ConsentNotice.Status.PUBLISHED)
    )


def with_consent_state(employees: QuerySet[Employee], *, tenant: Tenant) -> QuerySet[Employee]:
    """Annotate ``consent_state`` (a ConsentState value) and the facts behind it, in SQL, so
    lists can filter and page on it without a query per row."""
    last_event = ConsentEvent.objects.filter(employee=OuterRef("pk")).order_by(
        "-occurred_at", "-id"
    )
    open_invitation = ConsentInvitation.objects.filter(
        employee=OuterRef("pk"),
        responded_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).order_by("-expires_at")
    floor = overdue_version_floor(tenant=tenant)
    return employees.annotate(
        last_consent_kind=Subquery(last_event.values("kind")[:1]),
        last_consent_at=Subquery(last_event.values("occurred_at")[:1]),
        last_consent_version=Subquery(last_event.values("notice_version")[:1]),
        last_consent_method=Subquery(last_event.values("method")[:1]),
        has_open_invitation=Exists(open_invitation),
        open_invitation_expires=Subquery(open_invitation.values("expires_at")[:1]),
    ).annotate(
        consent_state=Case(
            When(
                last_consent_kind=ConsentEvent.Kind.GRANTED,
                last_consent_version__gte=floor,
                then=Value(ConsentState.COVERED),
            ),
            When(has_open_invitation=True, then=Value(ConsentState.PENDING)),
            When(last_consent_kind=ConsentEvent.Kind.DECLINED, then=Value(ConsentState.DECLINED)),
            When(last_consent_kind=ConsentEvent.Kind.WITHDRAWN, then=Value(ConsentState.WITHDRAWN)),
            default=Value(ConsentState.NONE),
            output_field=CharField(),
        )
    )


def employee_list(
    *,
    tenant: Tenant,
    team: str = "",
    region: str = "",
    consent_state: str = "",
    active: bool | None = None,
    search: str = "",
) -> QuerySet[Employee]:
    employees = with_consent_state(
        Employee.objects.filter(tenant=tenant).select_related("team"), tenant=tenant
    )
    if team:
        employees = employees.filter(team__name__iexact=team)
    if region:
        employees = employees.filter(region=region.upper())
    if consent_state:
        employees = employees.filter(consent_state=consent_state)
    if active is not None:
        employees = employees.filter(active=active)
    if search:
        employees = employees.filter(
            Q(full_name__icontains=search)
            | Q(email__icontains=search)
            | Q(employee_id__icontains=search)
            | Q(phone_number__icontains=search)
        )
    return employees.order_by("full_name", "id")


def consent_history(*, employee: Employee) -> QuerySet[ConsentEvent]:
    return (
        ConsentEvent.objects.filter(tenant_id=employee.tenant_id, employee=employee)
        .select_related("recorded_by", "notice")
        .order_by("occurred_at", "id")
    )


def consent_state_of(*, employee: Employee) -> str:
    return (
        with_consent_state(Employee.objects.filter(pk=employee.pk), tenant=employee.tenant)
        .values_list("consent_state", flat=True)
        .get()
    )


def consent_state_counts(*, tenant: Tenant) -> dict[str, int]:
    """How many active employees are in each consent state (every state present, maybe 0)."""
    counts = dict(
        with_consent_state(Employee.objects.filter(tenant=tenant, active=True), tenant=tenant)
        .order_by()
        .values_list("consent_state")
        .annotate(n=Count("pk"))
    )
    return {state: counts.get(state, 0) for state in ConsentState.values}


def employees_to_invite(
    *, tenant: Tenant, notice_version: int | Coalesce | None = None
) -> QuerySet[Employee]:
    """Active employees who should be asked to consent to ``notice_version``: never asked or
    covered only by an older version, with no invitation open. People who declined or withdrew
    made a choice and are not asked again in bulk (an admin can still invite one of them).
    Without ``notice_version``, the current version."""
    if notice_version is None:
        notice_version = current_version(tenant=tenant)
    return (
        with_consent_state(Employee.objects.filter(tenant=tenant, active=True), tenant=tenant)
        .filter(has_open_invitation=False)
        .filter(
            Q(last_consent_kind__isnull=True)
            | Q(last_consent_kind=ConsentEvent.Kind.EXPIRED)
            | Q(
                last_consent_kind=ConsentEvent.Kind.GRANTED,
                last_consent_version__lt=notice_version,
            )
        )
        .order_by("full_name", "id")
    )
