"""Signals the archive offers to the apps above it, so they react without the archive (or its
siblings) importing them.

`deliveries_archived` is sent after a batch of deliveries committed its messages, with
`tenant` and `delivery_ids` (Message.delivery_id): policy scanning rides on it, so a batch is
archived and scanned by the same worker without a second trip through the queue. Receivers must
not raise into the sender (capture must never fail because of what comes after it): a receiver
that fails leaves the messages unscanned, and its own sweeper finds them.

`messages_disposed` is sent with `tenant` and `message_ids` when retention or erasure blanks
messages, INSIDE the transaction that blanks them: apps that copied any of their content
(a policy hit quoting the matched words) scrub it there, so no copy outlives the message. A
receiver that fails fails the disposal batch (retried), never leaves a copy behind.
"""

from __future__ import annotations

from django.dispatch import Signal

deliveries_archived = Signal()
messages_disposed = Signal()
