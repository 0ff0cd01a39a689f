"""What each audit action and target type is called on the pages.

The trail stores stable codes (``auth.login``, ``employeeimport``) that filters, the API and
exports rely on; people read these labels instead. Every code that any app records has a label
here (tests/test_audit_labels.py finds the codes in the source and fails on a missing one), so
adding an action means adding its label in the same change.
"""

from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    # Signing in
    "auth.login": "Signed in",
    "auth.logout": "Signed out",
    "auth.login_failed": "Sign-in failed",
    "auth.login_throttled": "Sign-in blocked after too many failed attempts",
    "mfa.authenticator_added": "Two-factor authentication set up",
    "mfa.authenticator_removed": "Two-factor authentication removed",
    "mfa.authenticator_reset": "Two-factor recovery codes replaced",
    "mfa.code_rejected": "Two-factor code rejected",
    "account.time_zone_changed": "Own time zone changed",
    # Members, firms and API keys
    "invitation.created": "Member invited",
    "invitation.accepted": "Invitation accepted",
    "invitation.revoked": "Invitation withdrawn",
    "membership.created": "Member added",
    "membership.reactivated": "Member reactivated",
    "membership.deactivated": "Member deactivated",
    "membership.role_changed": "Member's role changed",
    "tenant.created": "Firm created",
    "tenant.status_changed": "Firm suspended or reactivated",
    "tenant.switched": "Switched to this firm",
    "api_key.created": "API key created",
    "api_key.revoked": "API key revoked",
    "audit.exported": "Audit trail downloaded",
    # Employees and consent
    "employee.created": "Employee added",
    "employee.updated": "Employee details changed",
    "employee.deactivated": "Employee deactivated",
    "employee_import.previewed": "Employee file checked before import",
    "employee_import.confirmed": "Employee file imported",
    "employee_import.discarded": "Employee file discarded",
    "team.created": "Team created",
    "team.renamed": "Team renamed",
    "team.deleted": "Team deleted",
    "notice.draft_created": "Notice draft created",
    "notice.draft_updated": "Notice draft edited",
    "notice.published": "Notice published",
    "consent.invitation_sent": "Consent invitation sent",
    "consent.bulk_invitation": "Consent invitations sent to many employees",
    "consent.granted": "Consent given",
    "consent.recorded": "Consent recorded from a signed form",
    "consent.declined": "Consent declined",
    "consent.withdrawn": "Consent withdrawn",
    "consent.expired": "Consent lapsed: re-consent not given in time",
    "consent.evidence_downloaded": "Consent evidence downloaded",
    "consent.register_exported": "Consent register downloaded",
    # WhatsApp capture
    "whatsapp.settings_changed": "WhatsApp settings changed",
    "whatsapp.connection_checked": "WhatsApp connection checked",
    "capture_notice.acknowledged": "Capture notice acknowledged",
    "ingestion.deliveries_replayed": "WhatsApp deliveries processed again",
    # Archive
    "archive.read": "Archive read",
    "archive.search": "Archive searched",
    "archive.download": "Attachment downloaded",
    "archive.download_refused": "Attachment download refused: stored file changed",
    "archive.preview": "Attachment shown in the page",
    "saved_search.created": "Search saved",
    "saved_search.updated": "Saved search changed (earlier version kept)",
    "saved_search.deleted": "Saved search deleted (its versions kept)",
    "policy.created": "Policy created",
    "policy.version_saved": "Policy changed (earlier version kept)",
    "policy.enabled": "Policy switched on",
    "policy.disabled": "Policy switched off",
    "policy.pack_enabled": "Built-in policy pack switched on",
    "policy.backtest_requested": "Policy backtest started (draft over earlier messages)",
    "policy.backtest_cancelled": "Policy backtest cancelled",
    "policy.lookback_requested": "Policy lookback started (raises alerts on earlier messages)",
    "policy.lookback_cancelled": "Policy lookback cancelled",
    "policy.lookback_finished": "Policy lookback finished",
    "policy.model_retrain_requested": "Firm's model retraining started (from officers' decisions)",
    "policy.model_trained": "Firm's model trained and compared with the model in use",
    "policy.model_promoted": "Firm's model put in use for scanning",
    "policy.model_rolled_back": "Firm's model taken out of use (back to the built-in model)",
    "archive.verified": "Archive integrity verified",
    "archive.export_requested": "Archive export requested",
    "archive.export_finished": "Archive export prepared (or failed)",
    "archive.export_downloaded": "Archive export downloaded",
    "archive.export_expired": "Archive export expired (file deleted)",
    "archive.export_written": "Archive export written to a file (command line)",
    "archive.legal_hold_placed": "Legal hold placed",
    "archive.legal_hold_updated": "Legal hold's matter or reason corrected",
    "archive.legal_hold_released": "Legal hold released",
    "archive.record_tombstoned": "Archive record disposed of (tombstone kept)",
    "archive.disposition_certificate": "Retention disposition run (certificate)",
    "retention_policy.created": "Retention policy added",
    "retention_policy.changed": "Retention policy changed",
    "retention_policy.deleted": "Retention policy removed",
    "erasure_request.refused": "Erasure request refused (data restricted)",
    "erasure_request.carried_out": "Erasure request carried out",
    "ledger.key_rotated": "Archive signing key replaced",
    "ledger.checkpoint_requested": "Archive checkpoint signed on request",
    # Alerts
    "alert.claimed": "Alert claimed for review",
    "alert.released": "Alert released to the queue",
    "alert.claim_expired": "Alert's claim expired (back in the queue)",
    "alert.review_started": "Alert review started",
    "alert.returned_to_queue": "Alert returned to the queue",
    "alert.escalated": "Alert escalated to senior review",
    "alert.closed": "Alert closed with a disposition",
    "alert.reopened": "Closed alert reopened",
    "alert.assigned": "Alert assigned",
    "alert.commented": "Alert commented on",
    "alert.unmasked": "Alert unmasked (a reviewer saw who is behind its pseudonyms)",
    "alert_settings.changed": "Alert review settings changed (pseudonyms, times to review)",
    "alert.example_excluded": "Alert left out of the model's training examples",
    "alert.example_included": "Alert counted again in the model's training examples",
    "alert.watched": "Alert watched",
    "alert.unwatched": "Alert no longer watched",
    "alert.notifications_chosen": "Alert notification choices saved",
    "alert.notice_sent": "Notice sent to the employee from an alert",
    "alert.notice_template_saved": "Notice wording to employees saved",
    "alert.notice_template_reset": "Notice wording to employees back to the built-in one",
    "alert.bulk_transitioned": "Alerts changed in bulk",
    "alert.bulk_assigned": "Alerts assigned in bulk",
}

# Groups for the audit trail's filter: a code prefix and what it covers.
ACTION_GROUPS: dict[str, str] = {
    "auth.": "Signing in and out",
    "mfa.": "Two-factor authentication",
    "account.": "Personal settings",
    "invitation.": "Invitations",
    "membership.": "Members and roles",
    "tenant.": "The firm",
    "api_key.": "API keys",
    "audit.": "The audit trail",
    "employee.": "Employees",
    "employee_import.": "Employee imports",
    "team.": "Teams",
    "notice.": "Monitoring notices",
    "consent.": "Consent",
    "whatsapp.": "WhatsApp connection",
    "capture_notice.": "Capture notices",
    "ingestion.": "WhatsApp deliveries",
    "archive.": "The archive",
    "saved_search.": "Saved searches",
    "policy.": "Policies",
    "ledger.": "The archive's signing keys and checkpoints",
    "retention_policy.": "Retention policies",
    "erasure_request.": "Erasure requests",
    "alert.": "Alerts",
    "alert_settings.": "Alert review settings",
}

# By model name (AuditEvent.target_type): what the target of an action is.
TARGET_LABELS: dict[str, str] = {
    "tenant": "Firm",
    "membership": "Member",
    "user": "Person",
    "invitation": "Invitation",
    "apikey": "API key",
    "auditevent": "Audit entry",
    "team": "Team",
    "employee": "Employee",
    "numberassignment": "WhatsApp number assignment",
    "numberclaim": "Phone number",
    "consentnotice": "Monitoring notice",
    "consentinvitation": "Consent invitation",
    "consentevent": "Consent record",
    "employeeimport": "Employee import",
    "whatsappsettings": "WhatsApp connection",
    "delivery": "WhatsApp delivery",
    "refusal": "Refused message",
    "capturenotice": "Capture notice",
    "conversation": "Conversation",
    "message": "Message",
    "messageevent": "Message edit, deletion or status",
    "retentionpolicy": "Retention policy",
    "policy": "Policy",
    "policyversion": "Policy version",
    "scanjob": "Policy backtest or lookback",
    "firmmodel": "Firm's classifier model",
    "erasurerequest": "Erasure request",
    "subjectrestriction": "Restricted data subject",
    "attachment": "Attachment",
    "attachmentfile": "Attachment file",
    "callrecord": "Call record",
    "loghead": "Archive log",
    "pendingleaf": "Archive log entry",
    "logleaf": "Archive log entry",
    "lognode": "Archive log node",
    "logsigningkey": "Archive signing key",
    "logcheckpoint": "Archive checkpoint",
    "tombstone": "Disposed archive record",
    "savedsearch": "Saved search",
    "savedsearchversion": "Saved search version",
    "legalhold": "Legal hold",
    "export": "Archive export",
    "alert": "Alert",
    "alertevent": "Alert history entry",
    "alertcomment": "Alert comment",
    "reviewsettings": "Alert review settings",
    "unmasking": "Alert unmasking",
    "statsday": "Dashboard figures of a day",
    "noticetemplate": "Notice wording",
}


def _readable(code: str) -> str:
    """An entry recorded by an older version may carry a code no longer labelled: show it as
    words rather than as a code."""
    text = code.replace(".", ": ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def action_label(code: str) -> str:
    return ACTION_LABELS.get(code) or _readable(code)


def target_type_label(model_name: str) -> str:
    return TARGET_LABELS.get(model_name) or (_readable(model_name) if model_name else "")


def action_choices(recorded: list[str]) -> list[tuple[str, str]]:
    """Choices for the audit trail's action filter: each group, then each action (labelled
    ones, and any other code found in the trail)."""
    groups = [(prefix, f"{label} (all)") for prefix, label in ACTION_GROUPS.items()]
    codes = sorted(set(ACTION_LABELS) | set(recorded), key=action_label)
    return [("", "Any action"), *groups, *[(code, action_label(code)) for code in codes]]
