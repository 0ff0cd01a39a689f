"""Browser pages of the consent app, one module per audience or page family."""

from .employee_import import (
    employee_import,
    employee_import_confirm,
    employee_import_discard,
    employee_import_preview,
)
from .employees import (
    employee_deactivate,
    employee_detail,
    employee_invite,
    employee_record_consent,
    employee_withdraw,
    employees,
    employees_invite_all,
    evidence_download,
    team_create,
)
from .notices import notice_detail, notice_publish, notices
from .public import respond, withdraw
from .register import register, register_csv

__all__ = [
    "employee_deactivate",
    "employee_detail",
    "employee_import",
    "employee_import_confirm",
    "employee_import_discard",
    "employee_import_preview",
    "employee_invite",
    "employee_record_consent",
    "employee_withdraw",
    "employees",
    "employees_invite_all",
    "evidence_download",
    "notice_detail",
    "notice_publish",
    "notices",
    "register",
    "register_csv",
    "respond",
    "team_create",
    "withdraw",
]
