"""Employees as the consent, ingestion, API and page tests create them, and the link of an
employee's consent invitation as the employee opens it."""

from __future__ import annotations

from datetime import timedelta

from compliance_hub.audit.actors import Actor
from consent import gate, services
from consent.models import Employee


def make_employee(tenant, **overrides) -> Employee:
    values = {
        "full_name": "Maria Souza",
        "email": "maria@firm-a.example",
        "employee_id": "E-100",
        "phone_number": "+5511987654321",
        "region": "BR",
        "whatsapp_phone_number_id": "110000001",
    }
    values.update(overrides)
    return services.create_employee(
        tenant=tenant, data=services.EmployeeData(**values), actor=Actor.system()
    )


def add_employee(tenant, name: str, number: str, phone_id: str, *, consented: bool = False):
    employee = services.create_employee(
        tenant=tenant,
        data=services.EmployeeData(
            full_name=name,
            email=f"{name.split()[0].lower()}@firm-a.example",
            employee_id=f"E-{phone_id or number[-4:]}",
            phone_number=number,
            whatsapp_phone_number_id=phone_id,
        ),
        actor=Actor.system(),
    )
    if consented:
        services.record_consent(
            employee=employee,
            actor=Actor.system(),
            evidence_reference="signed form",
            occurred_at=employee.created_at + timedelta(milliseconds=1),
        )
    gate.clear_cache()
    return employee


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def invitation_path(employee: Employee) -> str:
    _invitation, link = services.invite_employee(employee=employee, actor=Actor.system())
    return path_of(link)
