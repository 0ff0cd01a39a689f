"""Zip entries whose bytes never depend on when or where they were written (determinism)."""

from __future__ import annotations

import zipfile

# The earliest time a zip can hold.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def zip_entry(name: str) -> zipfile.ZipInfo:
    """A deflated entry with a fixed time, Unix as the creator, and rw-r--r-- permissions."""
    entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.create_system = 3  # whatever machine writes it
    entry.external_attr = 0o644 << 16
    return entry
