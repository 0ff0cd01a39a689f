"""How officers decided the alerts already raised on messages, for a backtest's precision.
Decisions live in alerts, which sits above policies (policies never imports it), so alerts
registers its source here when it loads; with none registered, nothing has been decided."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from compliance_hub.tenancy.models import Tenant

# (tenant, message ids) -> {message id: True when an officer closed an alert on it as a true
# positive, False when only as false positive}; undecided messages are absent.
DecisionSource = Callable[[Tenant, Sequence[int]], Mapping[int, bool]]

_sources: dict[str, DecisionSource] = {}


def register_decision_source(name: str, source: DecisionSource) -> None:
    """Registering again under the same name replaces (app reloads register twice)."""
    _sources[name] = source


def decided(tenant: Tenant, message_ids: Sequence[int]) -> dict[int, bool]:
    """Every source's decisions on the messages; a message any source calls a true positive is
    one."""
    merged: dict[int, bool] = {}
    for source in _sources.values():
        for message_id, true_positive in source(tenant, message_ids).items():
            merged[message_id] = merged.get(message_id, False) or true_positive
    return merged
