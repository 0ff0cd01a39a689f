"""Reads of the consent app: consent states, the register, an employee's history, the current
notice, the numbers in use and the lookups of the employee's links. Reads never write and never
import the services (import-linter keeps it so)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
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
from django.utils.translation import gettext_noop

from compliance_hub.accounts.models import hash_token
from compliance_hub.digits import split_token
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .errors import ConsentError
from .models import (
    ConsentEvent,
    ConsentInvitation,
    ConsentNotice,
    ConsentState,
    Employee,
    NumberClaim,
    Team,
)
from .timeline import ConsentChange, Deadline, Holding, NumberHistory
from .timeline import decide as decide_from_history


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


class ConsentStateFields(TypedDict):
    """What :func:`with_consent_state` annotates on each employee."""

    last_consent_kind: str | None
    last_consent_at: datetime | None
    last_consent_version: int | None
    last_consent_method: str | None
    has_open_invitation: bool
    open_invitation_expires: datetime | None
    consent_state: str


if TYPE_CHECKING:
    # For the type checker only: the alias does not subscript at run time on Python 3.11, and
    # django-stubs-ext is a development dependency.
    from django_stubs_ext import WithAnnotations

    EmployeeWithConsent = WithAnnotations[Employee, ConsentStateFields]


def with_consent_state(
    employees: QuerySet[Employee], *, tenant: Tenant
) -> QuerySet[EmployeeWithConsent]:
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


def team_list(*, tenant: Tenant) -> QuerySet[Team]:
    """The tenant's teams by name, each with how many employees it has (deactivated included:
    those keep a team from being deleted) and how many of them are active."""
    return (
        Team.objects.filter(tenant=tenant)
        .annotate(
            employee_count=Count("employees"),
            active_employee_count=Count("employees", filter=Q(employees__active=True)),
        )
        .order_by("name", "id")
    )


def employee_list(
    *,
    tenant: Tenant,
    team: str = "",
    region: str = "",
    consent_state: str = "",
    active: bool | None = None,
    search: str = "",
) -> QuerySet[EmployeeWithConsent]:
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


# --- numbers, notices, the consent history, the employee's links ---------------------------


def number_digest(kind: str, value: str) -> str:
    """Keyed digest of a number for the platform-wide claim register (no plain numbers there)."""
    key = hashlib.sha256(("number-claim:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def numbers_in_use(numbers: list[str], *, exclude_employee: Employee | None = None) -> set[str]:
    """Which of these E.164 numbers an active employee (of any tenant) already holds."""
    digests = {number_digest(NumberClaim.Kind.E164, n): n for n in numbers}
    claims = NumberClaim.objects.filter(kind=NumberClaim.Kind.E164, digest__in=list(digests))
    if exclude_employee is not None:
        claims = claims.exclude(
            tenant_id=exclude_employee.tenant_id, employee_pk=exclude_employee.pk
        )
    return {digests[digest] for digest in claims.values_list("digest", flat=True)}


def phone_ids_in_use(phone_ids: list[str], *, exclude_employee: Employee | None = None) -> set[str]:
    """Which of these WhatsApp phone number ids an active employee (of any tenant) holds."""
    digests = {number_digest(NumberClaim.Kind.PHONE_NUMBER_ID, p): p for p in phone_ids}
    claims = NumberClaim.objects.filter(
        kind=NumberClaim.Kind.PHONE_NUMBER_ID, digest__in=list(digests)
    )
    if exclude_employee is not None:
        claims = claims.exclude(
            tenant_id=exclude_employee.tenant_id, employee_pk=exclude_employee.pk
        )
    return {digests[digest] for digest in claims.values_list("digest", flat=True)}


def current_notice(*, tenant: Tenant) -> ConsentNotice | None:
    with tenant_scope(tenant):
        return (
            ConsentNotice.objects.filter(status=ConsentNotice.Status.PUBLISHED)
            .order_by("-version")
            .first()
        )


def last_consent_event(employee: Employee) -> ConsentEvent | None:
    """The employee's latest consent event (their standing answer); None when there is none."""
    return ConsentEvent.objects.filter(employee=employee).order_by("-occurred_at", "-id").first()


def consented_version(employee: Employee) -> int | None:
    """The notice version the employee's standing consent is to; None when there is none."""
    last = last_consent_event(employee)
    if last is None or last.kind != ConsentEvent.Kind.GRANTED:
        return None
    return last.notice_version or 0


def reconsent_deadlines() -> list[Deadline]:
    """The re-consent deadlines of the published notices of the tenant in context, oldest first."""
    rows = (
        ConsentNotice.objects.filter(
            status=ConsentNotice.Status.PUBLISHED, reconsent_deadline__isnull=False
        )
        .order_by("reconsent_deadline")
        .values_list("reconsent_deadline", "version")
    )
    deadlines = []
    for at, version in rows:
        # Filtered on the deadline; the notice_published_has_version_and_hash constraint gives
        # every published notice a version.
        assert at is not None and version is not None, "published notices have a version"
        deadlines.append(Deadline(at, version))
    return deadlines


def is_covered_now(employee: Employee) -> bool:
    """Whether the employee's standing grant still covers capture now (no re-consent deadline
    has ended it), decided by the same timeline rules as the gate."""
    last = last_consent_event(employee)
    if last is None or last.kind != ConsentEvent.Kind.GRANTED:
        return False
    deadlines = reconsent_deadlines()
    history = NumberHistory(
        holdings=[Holding(employee.pk, last.occurred_at, None, None)],
        changes={employee.pk: [ConsentChange(last.occurred_at, last.kind, last.notice_version)]},
        deadlines=deadlines,
    )
    return decide_from_history(history, timezone.now()).capture


# Refusals of the employee's links stay English here (the API and the logs read them) and are
# marked for the catalogues with gettext_noop; the employee's pages translate them when shown.


def find_consent_invitation(token: str) -> ConsentInvitation:
    invalid = ConsentError(
        gettext_noop("This link is not valid. Ask your administrator for a new one.")
    )
    parts = split_token(token)
    if parts is None:
        raise invalid
    tenant_id, secret = parts
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        raise invalid
    with tenant_scope(tenant):
        invitation = (
            ConsentInvitation.objects.select_related("employee", "notice")
            .filter(token_hash=hash_token(secret))
            .first()
        )
    if invitation is None:
        raise invalid
    if invitation.responded_at is not None:
        raise ConsentError(gettext_noop("You have already answered this invitation. Thank you."))
    if invitation.revoked_at is not None or not invitation.employee.active:
        raise ConsentError(
            gettext_noop("This invitation was replaced or withdrawn. Use the newest link you got.")
        )
    if invitation.expires_at <= timezone.now():
        raise ConsentError(
            gettext_noop("This link has expired. Ask your administrator for a new one.")
        )
    invitation.tenant = tenant
    return invitation


def find_grant_by_withdrawal_token(token: str) -> ConsentEvent:
    invalid = ConsentError(gettext_noop("This link is not valid."))
    parts = split_token(token)
    if parts is None:
        raise invalid
    tenant_id, secret = parts
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        raise invalid
    with tenant_scope(tenant):
        grant = (
            ConsentEvent.objects.select_related("employee")
            .filter(kind=ConsentEvent.Kind.GRANTED, withdrawal_token_hash=hash_token(secret))
            .first()
        )
    if grant is None:
        raise invalid
    grant.tenant = tenant
    return grant
