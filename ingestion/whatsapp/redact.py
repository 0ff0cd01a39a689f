"""Removing the content of refused items from a stored delivery (pure).

The raw delivery is stored before the consent gate can run (a 200 to Meta must mean "stored").
Once processing knows which items the gate refused, their content leaves the stored body: what
stays is the metadata the refusal record also keeps (ids, types, times).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

ITEM_LISTS = ("messages", "message_echoes", "statuses", "calls")
KEPT_KEYS = ("id", "type", "timestamp", "status")


def _redacted(item: dict[str, Any], reason: str) -> dict[str, Any]:
    kept = {key: item[key] for key in KEPT_KEYS if key in item}
    kept["redacted"] = reason
    return kept


def _item_lists(value: dict[str, Any]) -> Iterator[list[Any]]:
    for name in ITEM_LISTS:
        if isinstance(value.get(name), list):
            yield value[name]
    for chunk in value.get("history") or ():
        threads = chunk.get("threads") if isinstance(chunk, dict) else None
        for thread in threads if isinstance(threads, list) else ():
            if isinstance(thread, dict) and isinstance(thread.get("messages"), list):
                yield thread["messages"]


def _values(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else ():
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                yield value


def redact(payload: Any, refused: dict[str, str]) -> tuple[Any, int]:
    """A copy of ``payload`` where every item whose ``id`` is in ``refused`` (id → reason) is
    reduced to its metadata; a change whose items were all refused also loses its contacts'
    names. Returns the copy and how many items were redacted."""
    if not isinstance(payload, dict) or not refused:
        return payload, 0
    payload = copy.deepcopy(payload)
    count = 0
    for value in _values(payload):
        seen = kept = 0
        for items in _item_lists(value):
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                seen += 1
                reason = refused.get(str(item.get("id", "")))
                if reason is None:
                    kept += 1
                    continue
                items[index] = _redacted(item, reason)
                count += 1
        if seen and not kept and "contacts" in value:
            value["contacts"] = [{"redacted": "no consent"}]
    return payload, count
