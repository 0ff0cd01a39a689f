"""An export as a BagIt bag (RFC 8493) in a zip, written with ``bagit`` (the Library of
Congress's implementation) and zipped deterministically.

The bag holds the payload under ``data/`` (see :mod:`archive.export.payload`), SHA-256 manifests,
``bag-info.txt`` with the export's facts (tenant, export id, requester, matter, query, date range,
counts, software version) and ``verify.py``, the standalone checker, as a tag file (so the
tag manifest pins it too). Callers may add more tag files (a log checkpoint, inclusion proofs).

Deterministic: the bag's date is the export's own (never "today"), file order is sorted, the zip
has fixed times and modes. No Django: the caller gives plain records and an output stream.

``bagit`` changes the process's working directory while it writes a bag (it restores it): run
this in a worker process (Celery's prefork pool, a management command), never in a thread that
shares the process with others.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import IO

import bagit

from .payload import Counts, PayloadFile
from .records import utc_text
from .zips import zip_entry

VERIFY_SCRIPT = Path(__file__).with_name("verify.py")


@dataclass(frozen=True)
class BagInfo:
    """What ``bag-info.txt`` says about the export."""

    tenant: str
    export_id: str
    requester: str
    matter: str
    query: str
    date_from: date | None
    date_until: date | None
    created_at: datetime  # when the export was requested: the bag's date
    software_version: str
    formats: Sequence[str]
    counts: Counts
    legal_hold: str = ""  # the hold the export is of ("" for an export by a search)

    def fields(self) -> dict[str, str]:
        """RFC 8493's reserved fields where one fits, then ours; values on one line."""
        span = f"{self.date_from or 'the beginning'} to {self.date_until or 'the end'}"
        return {
            "Source-Organization": self.tenant,
            "Contact-Name": self.requester,
            "External-Identifier": self.export_id,
            "External-Description": (
                f"WhatsApp archive export {self.export_id} of {self.tenant}"
                + (f" for matter {self.matter}" if self.matter else "")
            ),
            "Bagging-Date": self.created_at.astimezone(UTC).date().isoformat(),
            "Bag-Software-Agent": f"Compliance Hub {self.software_version} (bagit.py)",
            "Tenant": self.tenant,
            "Export-Id": self.export_id,
            "Export-Created": utc_text(self.created_at),
            "Requester": self.requester,
            "Matter": self.matter or "(none)",
            "Search-Query": (
                "(the messages the legal hold covers)"
                if self.legal_hold
                else self.query or "(everything in the date range)"
            ),
            "Date-Range": span,
            **({"Legal-Hold": self.legal_hold} if self.legal_hold else {}),
            "Formats": ", ".join(self.formats),
            "Conversation-Count": str(self.counts.conversations),
            "Message-Count": str(self.counts.messages),
            "Event-Count": str(self.counts.events),
            "Attachment-Count": str(self.counts.attachments),
            "Software-Version": self.software_version,
        }


TagContent = bytes | Callable[[IO[bytes]], object]
SIGNATURE_SUFFIX = ".sig"


def write_bag_zip(
    payload: Iterable[PayloadFile],
    *,
    info: BagInfo | Callable[[], BagInfo],
    out: IO[bytes],
    tag_files: Mapping[str, TagContent] | Callable[[], Mapping[str, TagContent]] | None = None,
    sign: Callable[[bytes], bytes] | None = None,
) -> str:
    """Write the bag, zipped under one top folder named for the export, to ``out``; returns the
    SHA-256 (hex) of its ``tagmanifest-sha256.txt``.

    ``info`` and ``tag_files`` may be callables, called once the payload is written (counts and
    proofs are known only after the records streamed past). A tag file is bytes or a function
    writing them (large ones: inclusion proofs). ``sign`` (when given) turns the final tag
    manifest's bytes into a detached signature, stored as ``tagmanifest-sha256.txt.sig``: the
    one file no manifest lists (it signs the last one), which RFC 8493 allows (2.2.4: tag files
    need not be listed) and ``bagit`` accepts."""
    with tempfile.TemporaryDirectory(prefix="bag-") as scratch:
        staging = Path(scratch) / "staging"
        staging.mkdir()
        for file in payload:
            target = staging / _inside(file.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("ab" if file.append else "wb") as handle:
                file.write(handle)
        info = info() if callable(info) else info
        root_name = _safe_name(f"export-{info.tenant}-{info.export_id}")
        root = Path(scratch) / root_name
        staging.rename(root)
        with _quiet_bagit():
            bag = bagit.make_bag(str(root), bag_info=info.fields(), checksums=["sha256"])
        (root / "verify.py").write_bytes(VERIFY_SCRIPT.read_bytes())
        extra = tag_files() if callable(tag_files) else (tag_files or {})
        for name, content in sorted(extra.items()):
            target = root / _inside(name)
            if target.parts[len(root.parts)] == "data":
                raise ValueError(f"tag file {name!r} would land in the payload")
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as handle:
                if isinstance(content, bytes):
                    handle.write(content)
                else:
                    content(handle)
        with _quiet_bagit():
            bag.save()  # the tag manifest now covers verify.py and the extra tag files
        manifest = root / "tagmanifest-sha256.txt"
        _sort_lines(manifest)  # bagit lists them in directory order
        signed = manifest.read_bytes()
        if sign is not None:
            manifest.with_name(manifest.name + SIGNATURE_SUFFIX).write_bytes(sign(signed))
        _zip_folder(root, root_name, out)
    return hashlib.sha256(signed).hexdigest()


@contextmanager
def _quiet_bagit() -> Iterator[None]:
    """bagit logs a line per payload file at INFO: a million lines in a worker's log for a large
    export. Its warnings and errors still show."""
    logger = logging.getLogger("bagit")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _inside(path: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(f"{path!r} is not a path inside the bag")
    return pure


def _sort_lines(path: Path) -> None:
    lines = path.read_text("utf-8").splitlines()
    path.write_text("".join(f"{line}\n" for line in sorted(lines)), "utf-8")


def _zip_folder(root: Path, root_name: str, out: IO[bytes]) -> None:
    # Relative names as plain strings, not Path objects: a large export has hundreds of
    # thousands of files, and a Path costs several times its string (bench/export.py, tracemalloc).
    # Sorted by their parts, as Path objects sort (the zip's order is part of its bytes).
    names = sorted(_files_under(str(root)), key=lambda name: name.split("/"))
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            path = os.path.join(root, name)
            entry = zip_entry(f"{root_name}/{name}")
            entry.file_size = os.path.getsize(path)
            large = entry.file_size >= zipfile.ZIP64_LIMIT
            with open(path, "rb") as source, archive.open(entry, "w", force_zip64=large) as target:
                while chunk := source.read(1 << 20):
                    target.write(chunk)


def _files_under(root: str) -> Iterator[str]:
    for folder, _, files in os.walk(root):
        relative = os.path.relpath(folder, root)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        for file in files:
            yield prefix + file


def _safe_name(text: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in text)
