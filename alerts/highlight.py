"""The flagged message cut into pieces for the alert page: plain text and the spans findings
matched (merged where they overlap), so the template marks them with its own escaping. Pure:
text and spans in, pieces out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Piece:
    text: str
    matched: bool
    categories: tuple[str, ...] = ()


def _spans(findings: Iterable[Mapping[str, object]], length: int) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for finding in findings:
        category = str(finding.get("category", ""))
        spans = finding.get("spans")
        if not isinstance(spans, Sequence):
            continue
        for span in spans:
            # A finding written by an older detector, or a text edited since, may not fit: clip
            # rather than fail the page.
            if not isinstance(span, Sequence) or len(span) != 2:
                continue
            start, end = span
            if not isinstance(start, int) or not isinstance(end, int):
                continue
            start, end = max(0, start), min(length, end)
            if start < end:
                out.append((start, end, category))
    return sorted(out)


def highlighted(text: str, findings: Iterable[Mapping[str, object]]) -> list[Piece]:
    """``text`` as pieces in order; matched pieces carry the categories that matched them."""
    pieces: list[Piece] = []
    at = 0
    merged: list[tuple[int, int, set[str]]] = []
    for start, end, category in _spans(findings, len(text)):
        if merged and start <= merged[-1][1]:
            last_start, last_end, categories = merged[-1]
            categories.add(category)
            merged[-1] = (last_start, max(last_end, end), categories)
        else:
            merged.append((start, end, {category}))
    for start, end, categories in merged:
        if at < start:
            pieces.append(Piece(text[at:start], matched=False))
        pieces.append(Piece(text[start:end], matched=True, categories=tuple(sorted(categories))))
        at = end
    if at < len(text):
        pieces.append(Piece(text[at:], matched=False))
    return pieces
