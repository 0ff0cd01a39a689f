"""How officers decided the alerts already raised on messages, for a backtest's precision.
Decisions live in alerts, which sits above policies (policies never imports it), so alerts
registers its source here when it loads; with none registered, nothing has been decided."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from compliance_hub.tenancy.models import Tenant
from policies.ml.decision import Decision

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


# tenant -> its officers' decisions as the learning loop reads them (closed alerts on messages
# with text, the ones an admin excluded left out): policies/learning.py retrains from them.
ExampleSource = Callable[[Tenant], Sequence[Decision]]

_example_sources: dict[str, ExampleSource] = {}


def register_example_source(name: str, source: ExampleSource) -> None:
    """Registering again under the same name replaces (app reloads register twice)."""
    _example_sources[name] = source


def labelled_decisions(tenant: Tenant) -> list[Decision]:
    """Every source's decisions of the tenant (no source registered: none)."""
    return [decision for source in _example_sources.values() for decision in source(tenant)]
