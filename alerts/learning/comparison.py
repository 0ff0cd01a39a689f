"""The two models' figures side by side, as the comparison page shows them (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from policies.detectors.findings import ML_CATEGORIES


@dataclass(frozen=True, slots=True)
class Figures:
    precision: float
    recall: float
    f1: float
    positives: int


@dataclass(frozen=True, slots=True)
class Row:
    category: str
    current: Figures | None  # None: the model does not detect it, or no held-out positives
    candidate: Figures | None

    @property
    def change(self) -> float | None:
        if self.current is None or self.candidate is None:
            return None
        return round(self.candidate.f1 - self.current.f1, 4)


def _figures(report: Mapping[str, object], category: str) -> Figures | None:
    categories = report.get("categories")
    figures = categories.get(category) if isinstance(categories, Mapping) else None
    if not isinstance(figures, Mapping) or not figures.get("positives"):
        return None
    return Figures(
        precision=float(figures.get("precision", 0.0)),
        recall=float(figures.get("recall", 0.0)),
        f1=float(figures.get("f1", 0.0)),
        positives=int(figures.get("positives", 0)),
    )


def rows(metrics: Mapping[str, object]) -> list[Row]:
    """One row per ML category either model was measured on."""
    current = metrics.get("current")
    candidate = metrics.get("candidate")
    current = current if isinstance(current, Mapping) else {}
    candidate = candidate if isinstance(candidate, Mapping) else {}
    out = []
    for category in ML_CATEGORIES:
        row = Row(
            category.replace("_", " "), _figures(current, category), _figures(candidate, category)
        )
        if row.current is not None or row.candidate is not None:
            out.append(row)
    return out
