"""The pseudonyms of pseudonymised review (``Employee 7F3A9C``, ``Client 19C2AB``): the pure part
of the rule, kept below the apps so every page that names people (alerts, the archive, policy
backtests) draws the SAME pseudonym for the same person. Whether a reader is masked is decided
by alerts.masking (alert pages) and compliance_hub.tenancy.walls (everything else).

A pseudonym is a keyed HMAC (Django's ``salted_hmac`` with the server's SECRET_KEY) of the firm
and the person: stable across pages and days, and not guessable from the person's id without
the key. Six hex digits keep two employees of a firm of a few thousand apart (four would collide
in a firm of a few hundred). Rotating SECRET_KEY changes every pseudonym.
"""

from __future__ import annotations

from django.utils.crypto import salted_hmac

PSEUDONYM_DIGITS = 6
# Unchanged since the rule lived in alerts/masking.py: changing it would rename everyone.
_SALT = "compliance_hub.alerts.masking"


def pseudonym(kind: str, tenant_id: int, key: object) -> str:
    """``kind`` ("Employee", "Client") and the first hex digits of HMAC(tenant, key)."""
    digest = salted_hmac(f"{_SALT}.{kind}", f"{tenant_id}:{key}", algorithm="sha256")
    return f"{kind} {digest.hexdigest()[:PSEUDONYM_DIGITS].upper()}"


def employee_pseudonym(tenant_id: int, employee_id: int) -> str:
    return pseudonym("Employee", tenant_id, employee_id)


def client_pseudonym(tenant_id: int, counterparty_key: str) -> str:
    return pseudonym("Client", tenant_id, counterparty_key)
