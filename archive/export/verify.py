#!/usr/bin/env python3
"""Verify a Compliance Hub export bag: ``python3 verify.py EXPORT.zip`` (or the unzipped folder).

Standalone on purpose: it travels inside every bag, and an auditor runs it years later on a
machine with nothing but Python 3.11+ (no network, no Compliance Hub, no third-party package).
It prints ``OK`` and exits 0 when the bag is intact, or names exactly what fails and exits 1.

What it checks (RFC 8493, BagIt):

- ``bagit.txt`` declares the BagIt version and UTF-8 tag files;
- every file in ``manifest-sha256.txt`` is there with that SHA-256, and every file under
  ``data/`` is in the manifest (nothing added, nothing removed, nothing changed);
- ``Payload-Oxum`` in ``bag-info.txt`` matches the payload's byte and file counts;
- every tag file (``bagit.txt``, ``bag-info.txt``, the manifest, this script, ...) is in
  ``tagmanifest-sha256.txt`` with that SHA-256, so the manifest itself cannot be edited.

The same checks with standard tools: ``bagit.py --validate FOLDER``, or
``sha256sum -c manifest-sha256.txt`` and ``sha256sum -c tagmanifest-sha256.txt`` in the bag.
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Protocol

MANIFEST = "manifest-sha256.txt"
TAG_MANIFEST = "tagmanifest-sha256.txt"
SIGNATURE = TAG_MANIFEST + ".sig"  # signs the tag manifest, so no manifest can list it
REQUIRED_TAG_FILES = ("bagit.txt", "bag-info.txt", MANIFEST)
CHUNK = 1 << 20


class Bag(Protocol):
    def names(self) -> set[str]: ...
    def chunks(self, name: str) -> Iterator[bytes]: ...


class FolderBag:
    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> set[str]:
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}

    def chunks(self, name: str) -> Iterator[bytes]:
        with (self.root / name).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk


class ZipBag:
    """A zipped bag: one top folder holding the bag, read without unzipping."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        files = [i.filename for i in archive.infolist() if not i.is_dir()]
        tops = {name.split("/", 1)[0] for name in files}
        self.prefix = f"{tops.pop()}/" if len(tops) == 1 and all("/" in n for n in files) else ""
        self.files = {n[len(self.prefix) :] for n in files if n.startswith(self.prefix)}

    def names(self) -> set[str]:
        return set(self.files)

    def chunks(self, name: str) -> Iterator[bytes]:
        with self.archive.open(self.prefix + name) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk


def sha256(bag: Bag, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in bag.chunks(name):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def read_text(bag: Bag, name: str) -> str:
    return b"".join(bag.chunks(name)).decode("utf-8")


def manifest_entries(bag: Bag, manifest: str, problems: list[str]) -> dict[str, str]:
    """Path -> expected SHA-256 from a manifest (RFC 8493 2.1.3: percent-encoded CR, LF, %)."""
    entries: dict[str, str] = {}
    for number, line in enumerate(read_text(bag, manifest).splitlines(), start=1):
        if not line.strip():
            continue
        digest, _, path = line.partition(" ")
        path = path.lstrip(" ")
        path = path.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
        pure = PurePosixPath(path)
        if len(digest) != 64 or not path or pure.is_absolute() or ".." in pure.parts:
            problems.append(f"{manifest} line {number} is not '<sha256> <path>' inside the bag")
            continue
        entries[path] = digest.lower()
    return entries


def verify(bag: Bag) -> tuple[list[str], int, int]:
    """(problems, payload files checked, tag files checked)."""
    problems: list[str] = []
    names = bag.names()
    if "bagit.txt" not in names:
        return ["bagit.txt is missing: this is not a BagIt bag"], 0, 0
    declaration = read_text(bag, "bagit.txt")
    if (
        "BagIt-Version:" not in declaration
        or "Tag-File-Character-Encoding: UTF-8" not in declaration
    ):
        problems.append("bagit.txt does not declare the BagIt version and UTF-8 tag files")
    for required in (MANIFEST, TAG_MANIFEST, "bag-info.txt"):
        if required not in names:
            problems.append(f"{required} is missing")
    if problems:
        return problems, 0, 0

    payload = manifest_entries(bag, MANIFEST, problems)
    total = 0
    for path in sorted(payload):
        if not path.startswith("data/"):
            problems.append(f"{MANIFEST} names {path}, which is outside data/")
        elif path not in names:
            problems.append(f"{path} is missing (it is in {MANIFEST})")
        else:
            digest, size = sha256(bag, path)
            total += size
            if digest != payload[path]:
                problems.append(f"{path} has been changed (its SHA-256 differs from {MANIFEST})")
    for path in sorted(n for n in names if n.startswith("data/") and n not in payload):
        problems.append(f"{path} is not in {MANIFEST} (a file was added)")

    oxum = _bag_info(read_text(bag, "bag-info.txt")).get("Payload-Oxum", "")
    expected_oxum = f"{total}.{len([p for p in payload if p in names])}"
    if oxum and oxum != expected_oxum:
        problems.append(f"Payload-Oxum in bag-info.txt is {oxum}, the payload is {expected_oxum}")

    tags = manifest_entries(bag, TAG_MANIFEST, problems)
    for required in REQUIRED_TAG_FILES:
        if required not in tags:
            problems.append(f"{TAG_MANIFEST} does not cover {required}")
    for path in sorted(tags):
        if path not in names:
            problems.append(f"{path} is missing (it is in {TAG_MANIFEST})")
        elif sha256(bag, path)[0] != tags[path]:
            problems.append(f"{path} has been changed (its SHA-256 differs from {TAG_MANIFEST})")
    for path in sorted(names):
        if (
            not path.startswith("data/")
            and path not in (TAG_MANIFEST, SIGNATURE)
            and path not in tags
        ):
            problems.append(f"{path} is not in {TAG_MANIFEST} (a file was added)")
    return problems, len(payload), len(tags)


def _bag_info(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and not line.startswith((" ", "\t")):
            fields[name.strip()] = value.strip()
    return fields


def check(path: Path) -> tuple[list[str], int, int]:
    if path.is_dir():
        return verify(FolderBag(path))
    try:
        with zipfile.ZipFile(path) as archive:
            return verify(ZipBag(archive))
    except (OSError, zipfile.BadZipFile) as error:
        return [f"{path} cannot be read as a zip file or folder: {error}"], 0, 0


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python3 verify.py EXPORT.zip|EXPORT_FOLDER", file=sys.stderr)
        return 2
    problems, payload, tags = check(Path(argv[1]))
    if problems:
        print("FAILED")
        for problem in problems:
            print(f"- {problem}")
        return 1
    print(f"OK: {payload} payload files and {tags} tag files match their SHA-256 manifests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
