"""Adding, changing and offboarding employees (one by one and the CSV import), and teams."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .. import gate
from ..employee_rules import CleanEmployee, check_employee, clean_team_name
from ..errors import ConsentError
from ..models import (
    ConsentInvitation,
    Employee,
    NumberAssignment,
    NumberClaim,
    Team,
)
from ..selectors import (
    number_digest,
    numbers_in_use,
    phone_ids_in_use,
)
from .numbers import NUMBER_IN_USE, _assign_phone_id, _claim_numbers, _release_numbers


@dataclass
class EmployeeData:
    full_name: str
    email: str
    employee_id: str
    phone_number: str
    team: Team | None = None
    region: str = ""
    whatsapp_phone_number_id: str = ""
    language: str = ""


def _check_rules(data: EmployeeData) -> tuple[CleanEmployee, dict[str, str]]:
    return check_employee(
        {
            "full_name": data.full_name,
            "email": data.email,
            "employee_id": data.employee_id,
            "phone_number": data.phone_number,
            "region": data.region,
            "whatsapp_phone_number_id": data.whatsapp_phone_number_id,
            "language": data.language,
        }
    )


def _clean_employee(tenant: Tenant, data: EmployeeData, *, current: Employee | None) -> dict:
    clean, errors = _check_rules(data)
    if data.team is not None and data.team.tenant_id != tenant.pk:
        errors["team"] = "Unknown team."
    for conflict in _conflicts(tenant, [clean], refused=[errors], current=current):
        errors.setdefault(conflict.field, conflict.message)
    if errors:
        raise ValidationError(errors)
    return {
        "full_name": clean.full_name,
        "email": clean.email,
        "employee_id": clean.employee_id,
        "team": data.team,
        "region": clean.region,
        "language": clean.language,
        "phone_number": clean.phone_number,
        "whatsapp_phone_number_id": clean.whatsapp_phone_number_id,
    }


ID_TAKEN = "An employee with this id already exists."


def _conflicts(
    tenant: Tenant,
    rows: list[CleanEmployee],
    *,
    refused: list[dict[str, str]],
    current: Employee | None = None,
) -> list[RowConflict]:
    """What the current state refuses in these rows: an id (of the tenant), a number
    or a WhatsApp phone number id already taken. The one uniqueness check of the one-by-one and
    the bulk paths, in three queries whatever the number of rows; a value the rules refused
    (``refused[i]`` names those fields of row i) is not looked up. ``current`` is the employee
    being changed, whose own values are not a conflict."""

    def valid(field: str) -> list[tuple[int, str]]:
        return [
            (index, getattr(row, field))
            for index, row in enumerate(rows)
            if getattr(row, field) and field not in refused[index]
        ]

    ids, numbers, phone_ids = (
        valid("employee_id"),
        valid("phone_number"),
        valid("whatsapp_phone_number_id"),
    )
    taken_ids: set[str] = set()
    if ids:
        same_ids = Employee.objects.filter(
            tenant=tenant, employee_id__in=[value for _, value in ids]
        )
        if current is not None:
            same_ids = same_ids.exclude(pk=current.pk)
        taken_ids = set(same_ids.values_list("employee_id", flat=True))
    taken_numbers = set()
    if numbers:
        taken_numbers = numbers_in_use([value for _, value in numbers], exclude_employee=current)
    taken_phone_ids = set()
    if phone_ids:
        taken_phone_ids = phone_ids_in_use(
            [value for _, value in phone_ids], exclude_employee=current
        )
    conflicts = [RowConflict(index, "employee_id", ID_TAKEN) for index, v in ids if v in taken_ids]
    conflicts += [
        RowConflict(index, "phone_number", NUMBER_IN_USE)
        for index, value in numbers
        if value in taken_numbers
    ]
    conflicts += [
        RowConflict(index, "whatsapp_phone_number_id", NUMBER_IN_USE)
        for index, value in phone_ids
        if value in taken_phone_ids
    ]
    return sorted(conflicts, key=lambda conflict: conflict.index)


CONSTRAINT_ERRORS = {
    "employee_id_unique_per_tenant": ("employee_id", ID_TAKEN),
    "employee_active_number_unique": ("phone_number", NUMBER_IN_USE),
    "employee_active_phone_id_unique": ("whatsapp_phone_number_id", NUMBER_IN_USE),
}


def _save_employee(employee: Employee) -> None:
    """Save, turning a uniqueness race lost to a concurrent request into a clear field error."""
    try:
        with transaction.atomic():
            employee.save()
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "")
        field, message = CONSTRAINT_ERRORS.get(constraint, ("__all__", "Conflicting data."))
        raise ValidationError({field: message}) from None


def create_employee(
    *, tenant: Tenant, data: EmployeeData, actor: Actor, audit: bool = True
) -> Employee:
    with tenant_scope(tenant):
        fields = _clean_employee(tenant, data, current=None)
        now = timezone.now()
        employee = Employee(tenant=tenant, created_at=now, **fields)
        # Uniqueness is the database's job (constraints + the claim register), not extra queries.
        employee.full_clean(exclude=["team"], validate_unique=False, validate_constraints=False)
        _save_employee(employee)
        _claim_numbers(employee)
        _assign_phone_id(employee, at=now)
        if audit:
            record_event(
                "employee.created",
                tenant=tenant,
                actor=actor,
                target=employee,
                details={"employee_id": employee.employee_id},
            )
        gate.invalidate(tenant.pk)
    return employee


@dataclass(frozen=True)
class RowConflict:
    index: int  # position in the list given to create_employees
    field: str
    message: str


def create_employees(*, tenant: Tenant, rows: list[EmployeeData]) -> list[Employee]:
    """Create many already-validated employees at once (the CSV import), in the caller's
    transaction. The same rules as :func:`create_employee` (consent/employee_rules.py, then
    :func:`_conflicts`), in a handful of queries instead of dozens per row: rows the rules refuse
    raise :class:`EmployeeRowsRefused`, and conflicts with the current state (an id, a number or
    a phone number id taken since the rows were checked) :class:`BulkConflict`, each naming the
    row and field; then nothing is written."""
    now = timezone.now()
    with tenant_scope(tenant):
        checked = [_check_rules(row) for row in rows]
        cleaned = [clean for clean, _ in checked]
        refused = [errors for _, errors in checked]
        problems = [
            RowConflict(index, field, message)
            for index, errors in enumerate(refused)
            for field, message in errors.items()
        ]
        problems += [
            RowConflict(index, "team", "Unknown team.")
            for index, row in enumerate(rows)
            if row.team is not None and row.team.tenant_id != tenant.pk
        ]
        conflicts = _conflicts(tenant, cleaned, refused=refused)
        if problems:
            everything = sorted(problems + conflicts, key=lambda problem: problem.index)
            raise EmployeeRowsRefused(everything)
        if conflicts:
            raise BulkConflict(conflicts)
        employees = [
            Employee(
                tenant=tenant,
                created_at=now,
                full_name=clean.full_name,
                email=clean.email,
                employee_id=clean.employee_id,
                team=row.team,
                region=clean.region,
                language=clean.language,
                phone_number=clean.phone_number,
                whatsapp_phone_number_id=clean.whatsapp_phone_number_id,
            )
            for row, clean in zip(rows, cleaned, strict=True)
        ]
        try:
            with transaction.atomic():
                Employee.objects.bulk_create(employees, batch_size=1000)
                claims = [
                    NumberClaim(
                        kind=kind,
                        digest=number_digest(kind, value),
                        tenant_id=tenant.pk,
                        employee_pk=employee.pk,
                        claimed_at=now,
                    )
                    for employee in employees
                    for kind, value in (
                        (NumberClaim.Kind.E164, employee.phone_number),
                        (NumberClaim.Kind.PHONE_NUMBER_ID, employee.whatsapp_phone_number_id),
                    )
                    if value
                ]
                NumberClaim.objects.bulk_create(claims, batch_size=1000)
                NumberAssignment.objects.bulk_create(
                    [
                        NumberAssignment(
                            tenant_id=tenant.pk,
                            employee=employee,
                            whatsapp_phone_number_id=employee.whatsapp_phone_number_id,
                            phone_number=employee.phone_number,
                            assigned_at=now,
                        )
                        for employee in employees
                        if employee.whatsapp_phone_number_id
                    ],
                    batch_size=1000,
                )
        except IntegrityError:
            # A concurrent request took an id or a number between our check and our insert.
            raise BulkConflict(
                [RowConflict(-1, "", "Changed by someone else at the same moment; try again.")]
            ) from None
        gate.invalidate(tenant.pk)
    return employees


class BulkConflict(ValidationError):
    def __init__(self, conflicts: list[RowConflict]) -> None:
        super().__init__([conflict.message for conflict in conflicts])
        self.conflicts = conflicts


class EmployeeRowsRefused(BulkConflict):
    """Rows the employee rules refuse (a caller that skipped the checks): a programming error of
    the caller rather than a change of state, named per row and field all the same."""


def update_employee(*, employee: Employee, data: EmployeeData, actor: Actor) -> Employee:
    if not employee.active:
        raise ConsentError("A deactivated employee cannot be changed; add a new employee instead.")
    with tenant_scope(employee.tenant_id):
        fields = _clean_employee(employee.tenant, data, current=employee)
        changed = {
            name: (str(getattr(employee, name)), str(value))
            for name, value in fields.items()
            if getattr(employee, name) != value
        }
        if not changed:
            return employee
        for name, value in fields.items():
            setattr(employee, name, value)
        employee.full_clean(exclude=["team"], validate_unique=False, validate_constraints=False)
        _save_employee(employee)
        if {"phone_number", "whatsapp_phone_number_id"} & set(changed):
            _claim_numbers(employee)
            _assign_phone_id(employee, at=timezone.now())
        record_event(
            "employee.updated",
            tenant=employee.tenant,
            actor=actor,
            target=employee,
            details={"changed": sorted(changed)},
        )
        gate.invalidate(employee.tenant_id)
    return employee


def deactivate_employee(*, employee: Employee, actor: Actor, reason: str = "") -> Employee:
    """Offboarding: capture stops, the number is released, the archive stays under retention."""
    if not employee.active:
        raise ConsentError("This employee is already deactivated.")
    with tenant_scope(employee.tenant_id):
        now = timezone.now()
        employee.active = False
        employee.deactivated_at = now
        employee.deactivation_reason = reason[:500]
        employee.save(
            update_fields=["active", "deactivated_at", "deactivation_reason", "updated_at"]
        )
        _release_numbers(employee, at=now)
        ConsentInvitation.objects.filter(
            employee=employee, responded_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        record_event(
            "employee.deactivated",
            tenant=employee.tenant,
            actor=actor,
            target=employee,
            details={"reason": reason[:500]},
        )
        gate.invalidate(employee.tenant_id)
    return employee


TEAM_NAME_TAKEN = "A team with this name exists."


class TeamInUse(ConsentError):
    """The team still has employees (deactivated ones too): it cannot be deleted."""


def _check_team_name(tenant: Tenant, name: str, *, current: Team | None = None) -> str:
    """The one team-name rule (consent/employee_rules.py), then uniqueness in the tenant, case
    folded as the database's constraint folds it (``current``, when renamed, is not a clash)."""
    name, problem = clean_team_name(name)
    if problem is not None:
        raise ValidationError({"name": problem})
    clash = Team.objects.filter(tenant=tenant, name__iexact=name)
    if current is not None:
        clash = clash.exclude(pk=current.pk)
    if clash.exists():
        raise ValidationError({"name": TEAM_NAME_TAKEN})
    return name


def _save_team(team: Team) -> None:
    """Save, turning a name taken by a concurrent request into the same field error."""
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise ValidationError({"name": TEAM_NAME_TAKEN}) from None


def create_team(*, tenant: Tenant, name: str, actor: Actor) -> Team:
    with tenant_scope(tenant):
        team = Team(tenant=tenant, name=_check_team_name(tenant, name))
        _save_team(team)
        record_event(
            "team.created",
            tenant=tenant,
            actor=actor,
            target=team,
            details={"name": team.name},
        )
    return team


def rename_team(*, team: Team, name: str, actor: Actor) -> Team:
    """A new name under the same rule; employees keep their team (it is the same row), and a
    change of case only ("sales" to "Sales") is allowed."""
    with tenant_scope(team.tenant_id):
        new_name = _check_team_name(team.tenant, name, current=team)
        if new_name == team.name:
            return team
        old_name = team.name
        team.name = new_name
        _save_team(team)
        record_event(
            "team.renamed",
            tenant=team.tenant,
            actor=actor,
            target=team,
            details={"from": old_name, "to": new_name},
        )
    return team


def delete_team(*, team: Team, actor: Actor) -> None:
    """Delete a team nobody belongs to. Refused (:class:`TeamInUse`) while any employee does,
    deactivated ones included: an offboarded employee's archive stays filterable by the team
    they were in, and a deactivated employee cannot be moved to another team."""
    with tenant_scope(team.tenant_id):
        locked = Team.objects.select_for_update().filter(pk=team.pk).first()
        if locked is None:  # deleted by a concurrent request: the outcome asked for
            return
        members = Employee.objects.filter(team=locked).count()
        if members:
            raise TeamInUse(
                f"Team {locked.name} has {members} employee{'s' if members != 1 else ''} "
                "(deactivated ones count: their archive stays filed under the team), so it "
                "cannot be deleted. Move the active ones to another team, or rename this one."
            )
        record_event(
            "team.deleted",
            tenant=locked.tenant,
            actor=actor,
            target=locked,
            details={"name": locked.name},
        )
        # The row lock makes an employee joining at this moment wait: its foreign key is checked
        # against the deleted team and refused, instead of pointing at nothing.
        locked.delete()
