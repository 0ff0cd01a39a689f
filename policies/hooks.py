"""Signals policies offer to the apps above it (alerts), so they react without policies importing
them.

`hits_raised` is sent after a scan committed new PolicyHit rows, with `tenant`, `message_ids` and
`version_ids` (PolicyVersion ids): the hits among those pairs are the new ones or ones already
seen, so a receiver must be idempotent (an alert per hit, never two). Receivers must not raise
into the sender: scanning never fails because of what comes after it; whatever a receiver
missed, its own sweeper finds (hits without an alert).
"""

from __future__ import annotations

from django.dispatch import Signal

hits_raised = Signal()
