"""Screenshots of every step of a browser journey, written to a folder only when it fails.

Each step is a ``with journey.step("..."):`` block. When a block ends, every page the journey
watches is photographed (in memory); when a block raises, the shots so far and one of each page
at the moment of failure go to ``test-artifacts/journeys/<test>/`` (ignored by git), and the
folder is named in the failure itself (a note on the exception), so a CI log says where to
look."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser import ARTIFACTS

FOLDER = ARTIFACTS / "journeys"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


@dataclass
class Journey:
    """The steps of one test and the pages (by who holds them) to photograph after each."""

    name: str
    pages: dict[str, object] = field(default_factory=dict)
    shots: list[tuple[str, bytes]] = field(default_factory=list)
    steps: int = 0
    saved: Path | None = None

    @property
    def folder(self) -> Path:
        return FOLDER / _slug(self.name)

    def watch(self, who: str, page: object) -> None:
        self.pages[who] = page

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.steps += 1
        label = f"{self.steps:02d}-{_slug(title)}"
        try:
            yield
        except BaseException as exc:
            folder = self.save(failed=label)
            exc.add_note(f"Journey step {self.steps} failed: {title}. Screenshots: {folder}")
            raise
        self._photograph(label)

    def _photograph(self, label: str) -> None:
        for who, page in self.pages.items():
            try:
                png = page.screenshot(full_page=True)  # type: ignore[attr-defined]
            except Exception:  # a closed page or a crashed browser: nothing to photograph
                continue
            self.shots.append((f"{label}-{who}.png", png))

    def save(self, *, failed: str = "after-the-failure") -> Path:
        """Write every shot so far and one of each page now; returns the folder. Once per test."""
        if self.saved is not None:
            return self.saved
        self._photograph(f"{failed}-FAILED")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        for name, png in self.shots:
            (self.folder / name).write_bytes(png)
        self.saved = self.folder
        return self.folder
