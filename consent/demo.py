"""Demo employees for the demo tenant: every consent state is represented, so the pages and the
register show what they are for from the first login."""

from __future__ import annotations

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from . import services
from .models import Employee, Team

# name, email, id, team, region, number, phone number id, what happens
DEMO_EMPLOYEES = [
    ("Ana Souza", "ana.souza", "BR-001", "Private Banking", "BR", "+55 11 98765-4321",
     "105550000001", "consented"),
    ("Bruno Lima", "bruno.lima", "BR-002", "Private Banking", "BR", "+55 21 99876-5432",
     "105550000002", "invited"),
    ("Priya Sharma", "priya.sharma", "IN-001", "Wealth Management", "IN", "+91 98765 43210",
     "105550000003", "consented"),
    ("Rahul Mehta", "rahul.mehta", "IN-002", "Wealth Management", "IN", "+91 91234 56789",
     "105550000004", "withdrawn"),
    ("Lucía García", "lucia.garcia", "ES-001", "Brokerage", "ES", "+34 612 34 56 78",
     "105550000005", "declined"),
    ("Javier Ruiz", "javier.ruiz", "ES-002", "Brokerage", "ES", "+34 622 98 76 54",
     "", "none"),
]  # fmt: skip


def seed_demo_employees(*, tenant: Tenant, actor: Actor) -> int:
    """Create the demo employees once; returns how many were created."""
    created = 0
    with tenant_scope(tenant):
        teams = {team.name: team for team in Team.objects.all()}
    for name, mail, employee_id, team_name, region, number, phone_id, story in DEMO_EMPLOYEES:
        with tenant_scope(tenant):
            if Employee.objects.filter(employee_id=employee_id).exists():
                continue
        if team_name not in teams:
            teams[team_name] = services.create_team(tenant=tenant, name=team_name, actor=actor)
        employee = services.create_employee(
            tenant=tenant,
            actor=actor,
            data=services.EmployeeData(
                full_name=name,
                email=f"{mail}@demo.example",
                employee_id=employee_id,
                phone_number=number,
                team=teams[team_name],
                region=region,
                whatsapp_phone_number_id=phone_id,
            ),
        )
        created += 1
        if story in ("consented", "withdrawn"):
            services.record_consent(
                employee=employee,
                actor=actor,
                evidence_reference="Signed form in the HR file (demo)",
                signature_name=name,
            )
        if story == "withdrawn":
            services.withdraw_consent(employee=employee, actor=actor, reason="Demo: changed role")
        if story in ("invited", "declined"):
            invitation, _link = services.invite_employee(employee=employee, actor=actor)
            if story == "declined":
                services.decline_consent(
                    invitation=invitation,
                    actor=Actor.link_visitor(None, label=employee.audit_label),
                    reason="Demo: prefers a work phone",
                )
    return created
