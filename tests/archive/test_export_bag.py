"""The export bag: a BagIt zip that bagit itself validates and that the bag's own standalone
verify.py passes, then fails, naming the file, after one byte of any file is changed or one file
is removed; and byte-identical when written twice."""

from __future__ import annotations

import io
import subprocess
import sys
import tracemalloc
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime

import bagit
import pytest

from archive.export import verify
from archive.export.bag import (
    VERIFY_SCRIPT,
    BagInfo,
    stage_payload,
    write_bag_zip,
    write_staged_bag_zip,
)
from archive.export.payload import FORMATS, Counts, PayloadFile, counts, payload_files
from archive.export.rsmf_check import check_rsmf
from archive.export.zips import zip_entry

from .export_fixtures import every_kind


def build(formats=FORMATS, tag_files=None) -> bytes:
    selections = [every_kind()]
    info = BagInfo(
        tenant="acme-br",
        export_id="17",
        requester="Olivia Auditor <olivia@acme.example>",
        matter="SEC inquiry 2025-03",
        query='petr4 w/3 comprar NOT "bom dia"',
        date_from=date(2025, 3, 1),
        date_until=date(2025, 3, 31),
        created_at=datetime(2025, 4, 2, 9, 30, tzinfo=UTC),
        software_version="0.1.0",
        formats=formats,
        counts=counts(selections),
    )
    out = io.BytesIO()
    payload = payload_files(selections, formats=formats, generator="Compliance Hub 0.1.0")
    write_bag_zip(payload, info=info, out=out, tag_files=tag_files)
    return out.getvalue()


@pytest.fixture(scope="module")
def bag_zip() -> bytes:
    return build()


def zip_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_the_bag_holds_every_format_and_bagit_validates_it(bag_zip, tmp_path):
    files = zip_files(bag_zip)
    root = "export-acme-br-17/"
    assert all(name.startswith(root) for name in files)
    names = {name[len(root) :] for name in files}
    assert {
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "tagmanifest-sha256.txt",
        "verify.py",
        "data/messages.csv",
        "data/messages.jsonl",
        "data/html/acme-br_42.html",
        "data/rsmf/acme-br_42_2025-03-10.rsmf",
        "data/eml/acme-br_42_2025-03-11.eml",
    } <= names
    assert sum(1 for n in names if n.startswith("data/media/")) == 4
    for name in names:
        if name.startswith("data/rsmf/"):
            assert check_rsmf(files[root + name]) == []
    # The transcript's media links resolve inside the bag.
    html = files[root + "data/html/acme-br_42.html"].decode()
    for name in names:
        if name.startswith("data/media/"):
            assert f'href="../media/{name.removeprefix("data/media/")}"' in html
    assert files[root + "verify.py"] == VERIFY_SCRIPT.read_bytes()

    info = files[root + "bag-info.txt"].decode()
    for line in (
        "Source-Organization: acme-br",
        "External-Identifier: 17",
        "Contact-Name: Olivia Auditor <olivia@acme.example>",
        "Matter: SEC inquiry 2025-03",
        'Search-Query: petr4 w/3 comprar NOT "bom dia"',
        "Date-Range: 2025-03-01 to 2025-03-31",
        "Bagging-Date: 2025-04-02",
        "Message-Count: 17",
        "Event-Count: 7",
        "Conversation-Count: 1",
        "Attachment-Count: 4",
        "Software-Version: 0.1.0",
    ):
        assert line in info

    with zipfile.ZipFile(io.BytesIO(bag_zip)) as archive:
        archive.extractall(tmp_path)
    bag = bagit.Bag(str(tmp_path / "export-acme-br-17"))
    bag.validate()  # raises BagValidationError on any problem
    assert "verify.py" in bag.tagfile_entries()


def test_the_bags_own_verify_script_passes_standalone_on_the_zip_and_the_folder(bag_zip, tmp_path):
    target = tmp_path / "export.zip"
    target.write_bytes(bag_zip)
    with zipfile.ZipFile(target) as archive:
        archive.extractall(tmp_path / "unzipped")
    folder = tmp_path / "unzipped" / "export-acme-br-17"

    # -I: isolated mode, nothing of the project on the path; the copy inside the bag runs.
    for path in (target, folder):
        done = subprocess.run(
            [sys.executable, "-I", str(folder / "verify.py"), str(path)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("OK: 11 payload files and 4 tag files")


@pytest.mark.parametrize("index", range(16))
def test_one_changed_byte_in_any_file_fails_naming_it(bag_zip, tmp_path, index):
    files = zip_files(bag_zip)
    names = sorted(files)
    assert len(names) == 16
    name = names[index]
    content = bytearray(files[name])
    content[len(content) // 2] ^= 0x01
    files[name] = bytes(content)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(rezip(files))

    problems, _, _ = verify.check(broken)

    short = name.removeprefix("export-acme-br-17/")
    assert problems, short
    # A changed tag manifest no longer matches the file it lists: both are named.
    assert any(short in p for p in problems), problems


@pytest.mark.parametrize("index", range(16))
def test_one_removed_file_fails(bag_zip, tmp_path, index):
    files = zip_files(bag_zip)
    name = sorted(files)[index]
    del files[name]
    broken = tmp_path / "broken.zip"
    broken.write_bytes(rezip(files))

    problems, _, _ = verify.check(broken)

    assert problems
    short = name.removeprefix("export-acme-br-17/")
    assert any(short in p for p in problems), problems


def test_an_added_file_fails(bag_zip, tmp_path):
    files = zip_files(bag_zip)
    files["export-acme-br-17/data/extra.txt"] = b"planted"
    broken = tmp_path / "broken.zip"
    broken.write_bytes(rezip(files))

    problems, _, _ = verify.check(broken)

    assert problems == ["data/extra.txt is not in manifest-sha256.txt (a file was added)"]


def test_verify_prints_exactly_what_fails(bag_zip, tmp_path, capsys):
    files = zip_files(bag_zip)
    files["export-acme-br-17/data/messages.csv"] += b"x"
    broken = tmp_path / "broken.zip"
    broken.write_bytes(rezip(files))

    assert verify.main(["verify.py", str(broken)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "FAILED"
    assert (
        "- data/messages.csv has been changed (its SHA-256 differs from manifest-sha256.txt)"
        in printed
    )
    assert any(line.startswith("- Payload-Oxum in bag-info.txt is ") for line in printed)


def test_the_same_export_gives_a_byte_identical_bag(bag_zip):
    again = build()

    assert again == bag_zip
    with zipfile.ZipFile(io.BytesIO(again)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_extra_tag_files_are_pinned_by_the_tag_manifest_and_cannot_enter_the_payload(tmp_path):
    data = build(formats=("csv",), tag_files={"log/checkpoint.json": b'{"size": 3}'})
    files = zip_files(data)
    tags = files["export-acme-br-17/tagmanifest-sha256.txt"].decode()
    assert " log/checkpoint.json" in tags
    assert " verify.py" in tags
    target = tmp_path / "bag.zip"
    target.write_bytes(data)
    assert verify.check(target)[0] == []

    with pytest.raises(ValueError, match="would land in the payload"):
        build(formats=("csv",), tag_files={"data/sneaky.txt": b"x"})


class _Discard:
    """An output stream that keeps nothing (zipfile needs write and flush)."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def _many_small_files(count: int):
    for n in range(count):
        yield PayloadFile(
            f"rsmf/acme-br_{n}_2025-03-10.rsmf", lambda out, n=n: out.write(b"x" * 300 + bytes(n))
        )


def test_a_bag_of_many_files_holds_no_more_per_file_than_the_zips_own_directory():
    # The zip's central directory (one entry per file, in memory until the zip is closed) is
    # the one per-file list a bag may hold; bagit's manifest entries and a walk's paths held
    # about as much again (a million-message export has ~300,000 files).
    count = 4000
    info = BagInfo(
        tenant="acme-br", export_id="17", requester="r", matter="", query="", date_from=None,
        date_until=None, created_at=datetime(2025, 4, 2, tzinfo=UTC), software_version="0.1.0",
        formats=("rsmf",), counts=Counts(1, count, 0, 0),
    )  # fmt: skip
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        with zipfile.ZipFile(_Discard(), "w") as archive:  # type: ignore[arg-type]
            for n in range(count):
                entry = zip_entry(f"export-acme-br-17/data/rsmf/acme-br_{n}_2025-03-10.rsmf")
                archive.writestr(entry, b"x" * 300)
            _, directory = tracemalloc.get_traced_memory()
        del archive  # its directory too
        tracemalloc.reset_peak()
        write_bag_zip(_many_small_files(count), info=info, out=_Discard())  # type: ignore[arg-type]
        _, bag = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    directory -= start
    bag -= start
    assert bag < directory * 1.5 + 1_000_000, (bag / count, directory / count)


def test_a_payload_staged_in_parts_gives_the_bag_of_one_part(tmp_path):
    # Two conversations naming the same media: the second part writes them again, the bag
    # takes them once, as one process writing both conversations does.
    first = every_kind()
    second = replace(first, conversation=replace(first.conversation, conversation_id="43"))
    info = BagInfo(
        tenant="acme-br", export_id="17", requester="r", matter="", query="", date_from=None,
        date_until=None, created_at=datetime(2025, 4, 2, tzinfo=UTC), software_version="0.1.0",
        formats=FORMATS, counts=counts([first, second]),
    )  # fmt: skip
    generator = "Compliance Hub 0.1.0"
    whole = io.BytesIO()
    write_bag_zip(
        payload_files([first, second], formats=FORMATS, generator=generator), info=info, out=whole
    )
    parts = []
    for number, selection in enumerate((first, second)):
        folder = tmp_path / f"part{number}"
        folder.mkdir()
        payload = payload_files([selection], formats=FORMATS, generator=generator, first=not number)
        parts.append(stage_payload(payload, str(folder)))
    staged = io.BytesIO()
    write_staged_bag_zip(parts, info=info, out=staged)

    assert staged.getvalue() == whole.getvalue()
    names = zip_files(whole.getvalue())
    assert sum(1 for n in names if "/data/media/" in n) == 4
    assert sum(1 for n in names if n.endswith(".rsmf") and "_43_" in n) >= 1
