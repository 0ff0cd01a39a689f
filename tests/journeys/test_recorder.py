"""The journeys' screenshots: nothing is written while steps pass; a failing step writes a shot
of every page after each earlier step and at the failure, and names the folder in the failure."""

from __future__ import annotations

import pytest

from tests.journeys import recorder
from tests.journeys.recorder import Journey


class FakePage:
    """Stands in for a Playwright page: each screenshot is a distinct PNG-ish byte string."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.taken = 0

    def screenshot(self, *, full_page: bool) -> bytes:
        self.taken += 1
        return f"{self.name}-{self.taken}".encode()


class ClosedPage:
    def screenshot(self, *, full_page: bool) -> bytes:
        raise RuntimeError("Target page, context or browser has been closed")


def test_a_failing_step_writes_every_shot_and_names_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(recorder, "FOLDER", tmp_path)
    journey = Journey("test_journey_9[odd name]")
    journey.watch("desk", FakePage("desk"))
    journey.watch("phone", FakePage("phone"))
    journey.watch("gone", ClosedPage())

    with journey.step("The admin signs in"):
        pass
    assert not any(tmp_path.iterdir())  # nothing on disk while all is well

    with pytest.raises(AssertionError) as failure, journey.step("The officer closes it"):
        raise AssertionError("no such button")

    folder = tmp_path / "test-journey-9-odd-name"
    assert sorted(p.name for p in folder.iterdir()) == [
        "01-the-admin-signs-in-desk.png",
        "01-the-admin-signs-in-phone.png",
        "02-the-officer-closes-it-FAILED-desk.png",
        "02-the-officer-closes-it-FAILED-phone.png",
    ]
    assert (folder / "02-the-officer-closes-it-FAILED-desk.png").read_bytes() == b"desk-2"
    assert failure.value.__notes__ == [
        f"Journey step 2 failed: The officer closes it. Screenshots: {folder}"
    ]
    assert journey.save() == folder  # the teardown's fallback writes nothing twice
