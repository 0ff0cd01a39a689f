"""The verbs of the consent app, one module per topic. Each verb audits itself and tells the gate
what changed; reads live in consent/selectors.py.

- numbers: the platform-wide register of numbers (who holds a number, a phone number id)
- employees: adding (one by one, the CSV import), changing and offboarding employees; teams
- notices: drafts, and publishing one as the next frozen version
- invitations: asking employees to read the current notice and answer it
- consent_events: grants, refusals, recorded consents, withdrawals, expiries

``from consent import services; services.create_employee(...)`` keeps working: the public names
are re-exported here.
"""

from __future__ import annotations

from ..errors import AlreadyConsented, ConsentError, NumberInUse, SignatureMismatch

# Reads moved to consent/selectors.py; re-exported for now because the tests and the benchmarks
# call them as ``services.current_notice`` and so on. New code imports them from selectors.
from ..selectors import (
    consented_version,
    current_notice,
    find_consent_invitation,
    find_grant_by_withdrawal_token,
    number_digest,
    numbers_in_use,
    phone_ids_in_use,
)
from .consent_events import (
    CLOCK_SKEW,
    EVIDENCE_MAX_BYTES,
    EVIDENCE_SIGNATURES,
    accept_consent,
    check_consent_date,
    check_signature,
    decline_consent,
    expire_overdue_consents,
    folded_name,
    read_evidence,
    record_consent,
    withdraw_consent,
)
from .employees import (
    ID_TAKEN,
    TEAM_NAME_TAKEN,
    BulkConflict,
    EmployeeData,
    EmployeeRowsRefused,
    RowConflict,
    TeamInUse,
    create_employee,
    create_employees,
    create_team,
    deactivate_employee,
    delete_team,
    rename_team,
    update_employee,
)
from .invitations import CONSENT_INVITATION_TTL, invite_employee, invite_employees_in_bulk
from .notices import (
    check_publishable,
    create_notice_draft,
    notice_hash,
    publish_default_notice,
    publish_notice,
    update_notice_draft,
)
from .numbers import NUMBER_IN_USE

__all__ = [
    "CLOCK_SKEW",
    "CONSENT_INVITATION_TTL",
    "EVIDENCE_MAX_BYTES",
    "EVIDENCE_SIGNATURES",
    "ID_TAKEN",
    "NUMBER_IN_USE",
    "TEAM_NAME_TAKEN",
    "AlreadyConsented",
    "BulkConflict",
    "ConsentError",
    "EmployeeData",
    "EmployeeRowsRefused",
    "NumberInUse",
    "RowConflict",
    "SignatureMismatch",
    "TeamInUse",
    "accept_consent",
    "check_consent_date",
    "check_publishable",
    "check_signature",
    "consented_version",
    "create_employee",
    "create_employees",
    "create_notice_draft",
    "create_team",
    "current_notice",
    "deactivate_employee",
    "decline_consent",
    "delete_team",
    "expire_overdue_consents",
    "find_consent_invitation",
    "find_grant_by_withdrawal_token",
    "folded_name",
    "invite_employee",
    "invite_employees_in_bulk",
    "notice_hash",
    "number_digest",
    "numbers_in_use",
    "phone_ids_in_use",
    "publish_default_notice",
    "publish_notice",
    "read_evidence",
    "record_consent",
    "rename_team",
    "update_employee",
    "update_notice_draft",
    "withdraw_consent",
]
