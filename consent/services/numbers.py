"""The platform-wide register of numbers: who holds a number and a WhatsApp phone number id."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from ..errors import NumberInUse
from ..models import (
    Employee,
    NumberAssignment,
    NumberClaim,
)
from ..selectors import (
    number_digest,
)

NUMBER_IN_USE = "This number is already in use."


def _claim_numbers(employee: Employee) -> None:
    """Register the employee's numbers; raise NumberInUse (never saying whose) on a clash."""
    NumberClaim.objects.filter(tenant_id=employee.tenant_id, employee_pk=employee.pk).delete()
    wanted = [(NumberClaim.Kind.E164, employee.phone_number, "phone_number")]
    if employee.whatsapp_phone_number_id:
        wanted.append(
            (
                NumberClaim.Kind.PHONE_NUMBER_ID,
                employee.whatsapp_phone_number_id,
                "whatsapp_phone_number_id",
            )
        )
    for kind, value, field in wanted:
        try:
            with transaction.atomic():
                NumberClaim.objects.create(
                    kind=kind,
                    digest=number_digest(kind, value),
                    tenant_id=employee.tenant_id,
                    employee_pk=employee.pk,
                )
        except IntegrityError:
            raise NumberInUse({field: NUMBER_IN_USE}) from None


def _release_numbers(employee: Employee, *, at: datetime) -> None:
    NumberClaim.objects.filter(tenant_id=employee.tenant_id, employee_pk=employee.pk).delete()
    NumberAssignment.objects.filter(employee=employee, released_at__isnull=True).update(
        released_at=at
    )


def _assign_phone_id(employee: Employee, *, at: datetime) -> None:
    current = NumberAssignment.objects.filter(employee=employee, released_at__isnull=True).first()
    if current is not None and (
        current.whatsapp_phone_number_id == employee.whatsapp_phone_number_id
        and current.phone_number == employee.phone_number
    ):
        return
    if current is not None:
        current.released_at = at
        current.save(update_fields=["released_at"])
    if employee.whatsapp_phone_number_id and employee.active:
        NumberAssignment.objects.create(
            tenant_id=employee.tenant_id,
            employee=employee,
            whatsapp_phone_number_id=employee.whatsapp_phone_number_id,
            phone_number=employee.phone_number,
            assigned_at=at,
        )
