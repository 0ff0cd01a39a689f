"""A policy document's scope as a masked reader reads and writes it: every path that shows a
document (the editor's form and JSON view, the policy's summary, a version, the diff, the
backtest's draft, the policies and backtests API) calls :func:`document_as_read`, and every path
that takes one from that reader (saving, a backtest's draft) calls :func:`document_as_written`.

Stored documents keep firm ids and team names; only a masked reader (the wall of
compliance_hub/tenancy/walls.py) sees ``Employee 7F3A9C`` and ``Small team 19C2AB`` instead, and
what they submit is turned back inside the firm by consent.pseudonymised, so a document they
were shown and submit unchanged is the stored one (no new version).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compliance_hub.tenancy.models import Tenant
from compliance_hub.tenancy.walls import ReaderWall
from consent.pseudonymised import PeopleLens, people_lens

from .documents.schema import Problem

__all__ = ["PeopleLens", "document_as_read", "document_as_written", "lens_for"]


def lens_for(*, tenant: Tenant, wall: ReaderWall) -> PeopleLens:
    """The lens of a reader behind ``wall`` (closed: masked)."""
    return people_lens(tenant=tenant, masked=wall.closed)


def document_as_read(document: object, lens: PeopleLens) -> Any:
    """``document`` with its scope's employees and small teams as ``lens``'s reader reads them
    (the document itself when they are not masked, or it has no scope object)."""
    if not lens.masked or not isinstance(document, Mapping):
        return document
    scope = document.get("scope")
    if not isinstance(scope, Mapping):
        return document
    return {**document, "scope": lens.scope_as_read(dict(scope))}


def document_as_written(
    document: object, lens: PeopleLens, *, saved: object = None
) -> tuple[Any, list[Problem]]:
    """The document a masked reader submitted, as it is stored, and the entries refused (as
    problems at ``scope > employees`` / ``scope > teams``, which the editor puts next to the
    field). ``saved``: the policy's latest stored document, whose entries that match no
    employee the reader was shown as they are and may keep."""
    if not lens.masked or not isinstance(document, Mapping):
        return document, []
    scope = document.get("scope")
    if not isinstance(scope, Mapping):
        return document, []
    was = saved.get("scope") if isinstance(saved, Mapping) else None
    kept = lens.unmatched(dict(was)) if isinstance(was, Mapping) else frozenset()
    stored, refused = lens.scope_as_written(dict(scope), kept=kept)
    problems = [
        Problem(f"scope > {key}", message)
        for key, messages in refused.items()
        for message in messages
    ]
    return {**document, "scope": stored}, problems
