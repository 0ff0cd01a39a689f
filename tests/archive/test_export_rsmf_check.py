"""The project's RSMF checker catches each of Relativity's rules broken on purpose: a clean file
from the writer is changed in exactly one way, and the checker must name that problem."""

from __future__ import annotations

import copy
import email
import email.policy
import io
import json
import zipfile
from collections.abc import Callable

import pytest

from archive.export import rsmf
from archive.export.rsmf_check import check_rsmf, manifest_problems

from .export_fixtures import every_kind

POLICY = email.policy.SMTPUTF8.clone(max_line_length=998)


@pytest.fixture(scope="module")
def clean() -> bytes:
    first = next(rsmf.rsmf_files(every_kind(), generator="test"))
    assert check_rsmf(first.content) == []
    return first.content


def rebuild(
    data: bytes,
    *,
    manifest: Callable[[dict], object] | None = None,  # changes the manifest in place
    files: Callable[[dict[str, bytes]], None] | None = None,
    headers: dict[str, str | None] | None = None,
    mail_edit: Callable[[email.message.EmailMessage], None] | None = None,
    raw_manifest: bytes | None = None,
) -> bytes:
    """``data`` with the manifest, the zip's files, headers or the e-mail changed."""
    mail = email.message_from_bytes(data, policy=POLICY)
    part = next(mail.iter_attachments())
    with zipfile.ZipFile(io.BytesIO(part.get_payload(decode=True))) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    document = json.loads(contents["rsmf_manifest.json"])
    if manifest is not None:
        manifest(document)
    contents["rsmf_manifest.json"] = raw_manifest or json.dumps(document).encode()
    if files is not None:
        files(contents)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in contents.items():
            archive.writestr(name, content)
    part.set_content(buffer.getvalue(), maintype="application", subtype="zip", filename="rsmf.zip")
    for name, value in (headers or {}).items():
        del mail[name]
        if value is not None:
            mail[name] = value
    if mail_edit is not None:
        mail_edit(mail)
    return mail.as_bytes(policy=POLICY)


def event(document: dict, event_id: str) -> dict:
    return next(e for e in document["events"] if e["id"] == event_id)


def test_rebuilding_without_a_change_stays_clean(clean):
    assert check_rsmf(rebuild(clean)) == []


def set_in(event_id: str, key: str, value: object) -> Callable[[dict], None]:
    return lambda d: event(d, event_id).__setitem__(key, value)


# (what is broken, how, words the checker must use)
MANIFEST_RULES = [
    (
        "naive timestamp",
        set_in("wamid.text1", "timestamp", "2025-03-10T12:02:31"),
        "not an RFC 3339 date-time with an offset",
    ),
    (
        "impossible date",
        set_in("wamid.text1", "timestamp", "2025-02-30T12:00:00Z"),
        "not an RFC 3339 date-time",
    ),
    (
        "unknown participant",
        set_in("wamid.text1", "participant", "P9"),
        "names an unknown participant 'P9'",
    ),
    (
        "unknown conversation",
        set_in("wamid.text1", "conversation", "C9"),
        "belongs to an unknown conversation 'C9'",
    ),
    (
        "duplicate event id",
        set_in("wamid.reply2", "id", "wamid.text1"),
        "events id 'wamid.text1' is used more than once",
    ),
    (
        "duplicate participant id",
        lambda d: d["participants"][1].__setitem__("id", "P1"),
        "participants id 'P1' is used more than once",
    ),
    (
        "wrong enum",
        set_in("wamid.text1", "direction", "sent"),
        "should be one of incoming, outgoing",
    ),
    ("number where text is expected", set_in("wamid.text1", "body", 5), "should be text"),
    (
        "text where a number is expected",
        lambda d: event(d, "wamid.image3")["attachments"][0].__setitem__("size", "25"),
        "should be a whole number",
    ),
    (
        "true is not a number",
        lambda d: event(d, "wamid.image3")["attachments"][0].__setitem__("size", True),
        "should be a whole number",
    ),
    ("not a boolean", set_in("wamid.deleted10", "deleted", "yes"), "should be true or false"),
    (
        "missing required field",
        lambda d: d["conversations"][0].pop("platform"),
        "missing the required field 'platform'",
    ),
    (
        "missing event type",
        lambda d: event(d, "wamid.text1").pop("type"),
        "missing the required field 'type'",
    ),
    (
        "unknown property",
        set_in("wamid.text1", "quoted", "wamid.x"),
        "a property RSMF does not define: 'quoted'",
    ),
    (
        "empty custom value",
        set_in("wamid.text1", "custom", [{"name": "Language", "value": ""}]),
        "at least 1 characters",
    ),
    (
        "bad e-mail",
        lambda d: d["participants"][0].__setitem__("email", "ana at acme"),
        "not an e-mail address",
    ),
    (
        "wrong manifest version",
        lambda d: d.__setitem__("version", "1.0.0"),
        "manifest version is '1.0.0'",
    ),
    ("no events", lambda d: d.__setitem__("events", []), "the manifest has no events"),
    (
        "event without a timestamp",
        lambda d: event(d, "wamid.text1").pop("timestamp"),
        "has no timestamp",
    ),
    (
        "join in a direct conversation",
        set_in("wamid.text1", "type", "join"),
        "a join event in a direct conversation",
    ),
    (
        "edit before its event",
        lambda d: event(d, "wamid.reply2")["edits"][0].__setitem__(
            "timestamp", "2025-03-10T11:00:00Z"
        ),
        "is before the event",
    ),
    (
        "edit by an unknown participant",
        lambda d: event(d, "wamid.reply2")["edits"][0].__setitem__("participant", "P9"),
        "an edit names an unknown participant",
    ),
    (
        "reaction by an unknown participant",
        lambda d: event(d, "wamid.reply2")["reactions"][0].__setitem__("participants", ["P9"]),
        "a reaction names unknown participants",
    ),
    (
        "missing parent",
        set_in("wamid.reply2", "parent", "wamid.nowhere"),
        "unknown parent 'wamid.nowhere'",
    ),
    (
        "parent later than the child",
        set_in("wamid.text1", "parent", "wamid.reply2"),
        "its parent is later than the event",
    ),
    (
        "custodian not a member",
        lambda d: d["conversations"][0].__setitem__("participants", ["P2"]),
        "the custodian 'P1' is not a member",
    ),
    (
        "sender not a member",
        lambda d: d["conversations"][0].__setitem__("participants", ["P1", "P3"]),
        "participant 'P2' is not a conversation member",
    ),
    (
        "unknown conversation participant",
        lambda d: d["conversations"][0]["participants"].append("P7"),
        "names an unknown participant 'P7'",
    ),
    ("empty read receipts", set_in("wamid.text1", "read_receipts", []), "empty read_receipts"),
    (
        "receipt by a non-member",
        set_in("wamid.text1", "read_receipts", [{"participant": "P9", "action": "read"}]),
        "a read receipt by a non-member 'P9'",
    ),
    (
        "conversation with no events",
        lambda d: d["conversations"].append(
            {"id": "C2", "platform": "WhatsApp", "participants": ["P1"]}
        ),
        "conversation 'C2' has no events",
    ),
    (
        "attachment missing from the zip",
        lambda d: event(d, "wamid.image3")["attachments"][0].__setitem__("id", "missing.png"),
        "the zip lacks the file 'missing.png'",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(change, expected, id=name) for name, change, expected in MANIFEST_RULES],
)
def test_the_checker_names_each_manifest_rule_broken(clean, change, expected):
    problems = check_rsmf(rebuild(clean, manifest=change))

    assert any(expected in problem for problem in problems), problems


def test_more_than_ten_thousand_events_in_a_manifest_is_a_problem(clean):
    def flood(document: dict) -> None:
        template = copy.deepcopy(event(document, "wamid.text1"))
        template.pop("custom")
        document["events"] = [dict(template, id=f"e{n}") for n in range(10_001)]

    problems = check_rsmf(
        rebuild(
            clean,
            manifest=flood,
            files=lambda f: [f.pop(n) for n in list(f) if n != "rsmf_manifest.json"],
        )
    )

    assert any("10001 events, over Relativity's recommended 10000" in p for p in problems)


HEADER_RULES = [
    ("event count mismatch", {"X-RSMF-EventCount": "99"}, "X-RSMF-EventCount says 99"),
    ("event count not a number", {"X-RSMF-EventCount": "many"}, "should be a whole number"),
    ("attachment count mismatch", {"X-RSMF-AttachmentCount": "3"}, "X-RSMF-AttachmentCount says 3"),
    ("negative attachment count", {"X-RSMF-AttachmentCount": "-1"}, "at least 0"),
    (
        "begin date mismatch",
        {"X-RSMF-BeginDate": "2025-03-10T12:00:00Z"},
        "X-RSMF-BeginDate 2025-03-10T12:00:00Z is not the first event's time",
    ),
    (
        "end date mismatch",
        {"X-RSMF-EndDate": "2025-03-10T23:00:00Z"},
        "is not the last event's time",
    ),
    (
        "begin date without an offset",
        {"X-RSMF-BeginDate": "2025-03-10T12:02:31"},
        "not a date-time with a time zone offset",
    ),
    (
        "participants paraphrased",
        {"X-RSMF-Participants": "P1, P2, P3"},
        "not the manifest's display names",
    ),
    ("version mismatch", {"X-RSMF-Version": "1.0.0"}, "differs from the manifest's 2.0.0"),
    ("version missing", {"X-RSMF-Version": None}, "X-RSMF-Version header is missing"),
    (
        "collection id mismatch",
        {"X-RSMF-EventCollectionID": "other"},
        "X-RSMF-EventCollectionID differs",
    ),
]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [pytest.param(headers, expected, id=name) for name, headers, expected in HEADER_RULES],
)
def test_the_checker_names_each_header_rule_broken(clean, headers, expected):
    problems = check_rsmf(rebuild(clean, headers=headers))

    assert any(expected in problem for problem in problems), problems


def test_the_checker_names_an_encoded_word_in_an_rsmf_header(clean):
    # Set through the e-mail library, the header would be decoded: write the bytes directly.
    original = b"X-RSMF-Custodian: Ana Souza (Acme Securities)"
    assert original in clean
    encoded = clean.replace(original, b"X-RSMF-Custodian: =?utf-8?q?Ana_Souza?=")

    assert any("X-RSMF-Custodian uses an RFC 2047 encoded word" in p for p in check_rsmf(encoded))


def add_extra_attachment(mail: email.message.EmailMessage) -> None:
    mail.add_attachment(
        b"extra", maintype="application", subtype="octet-stream", filename="notes.txt"
    )


def empty_body(mail: email.message.EmailMessage) -> None:
    mail.get_body(("plain",)).set_content("   ")


def put_in_folder(files: dict[str, bytes]) -> None:
    name = next(n for n in files if n.endswith(".png"))
    files["media/" + name] = files.pop(name)


STRUCTURE_RULES = [
    (
        "unreferenced zip file",
        {"files": lambda f: f.__setitem__("stray.txt", b"x")},
        "a file the manifest never names: 'stray.txt'",
    ),
    ("zip file in a folder", {"files": put_in_folder}, "a file in a folder"),
    (
        "no manifest in the zip",
        {"files": lambda f: f.__setitem__("rsmf_manifest.json", b"")},
        "rsmf_manifest.json is not valid JSON",
    ),
    (
        "trailing comma in the manifest",
        {"raw_manifest": b'{"version": "2.0.0",}'},
        "not valid JSON",
    ),
    (
        "a second attachment",
        {"mail_edit": add_extra_attachment},
        "exactly one attachment, rsmf.zip",
    ),
    ("empty body", {"mail_edit": empty_body}, "no body text"),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(change, expected, id=name) for name, change, expected in STRUCTURE_RULES],
)
def test_the_checker_names_each_file_structure_rule_broken(clean, change, expected):
    problems = check_rsmf(rebuild(clean, **change))

    assert any(expected in problem for problem in problems), problems


def test_a_zip_warning_does_not_hide_the_rest_but_headers_are_judged_only_on_a_clean_zip(clean):
    # Relativity stops checking headers once the zip warns; the checker still reports the zip.
    problems = check_rsmf(
        rebuild(
            clean,
            files=lambda f: f.__setitem__("stray.txt", b"x"),
            headers={"X-RSMF-EventCount": "99"},
        )
    )

    assert problems == ["the zip holds a file the manifest never names: 'stray.txt'"]


def test_a_manifest_that_is_not_an_object_is_one_clear_problem():
    assert manifest_problems([]) == ["manifest should be a JSON object"]


def test_a_manifest_rule_broken_does_not_hide_a_header_mismatch(clean):
    def edit_too_early(document: dict) -> None:
        event(document, "wamid.reply2")["edits"][0]["timestamp"] = "2025-03-10T11:00:00Z"

    problems = check_rsmf(
        rebuild(clean, manifest=edit_too_early, headers={"X-RSMF-EventCount": "99"})
    )

    assert len(problems) == 2, problems
    assert "is before the event" in problems[0]
    assert "X-RSMF-EventCount says 99" in problems[1]
