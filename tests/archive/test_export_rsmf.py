"""The RSMF 2.0 writer: every WhatsApp message type becomes a clean .rsmf (per the project's own
Relativity rules checker), one per conversation per UTC day, split past the event ceiling, and
byte-identical when written twice."""

from __future__ import annotations

import email
import email.policy
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from archive.export import rsmf
from archive.export.media import media_name
from archive.export.records import (
    ConversationKind,
    ConversationSlice,
    Direction,
    Message,
    Participant,
    RecordError,
    Role,
)
from archive.export.rsmf_check import check_rsmf

from .export_fixtures import (
    CLIENT,
    EMPLOYEE,
    PDF,
    PHOTO,
    VOICE,
    at,
    attachment,
    conversation,
    every_kind,
    every_kind_of_message,
)

GENERATOR = "Compliance Hub 0.1.0"


def unpack(data: bytes) -> tuple[email.message.EmailMessage, dict, dict[str, bytes]]:
    mail = email.message_from_bytes(data, policy=email.policy.default)
    (part,) = list(mail.iter_attachments())
    with zipfile.ZipFile(io.BytesIO(part.get_payload(decode=True))) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return mail, json.loads(files.pop("rsmf_manifest.json")), files


def files_of(selection: ConversationSlice, **kwargs) -> list[rsmf.ExportFile]:
    return list(rsmf.rsmf_files(selection, generator=GENERATOR, **kwargs))


def test_every_message_type_round_trips_into_clean_files_one_per_utc_day():
    files = files_of(every_kind())

    assert [f.name for f in files] == ["acme-br_42_2025-03-10.rsmf", "acme-br_42_2025-03-11.rsmf"]
    for file in files:
        assert check_rsmf(file.content) == []
    mail, manifest, zipped = unpack(files[0].content)
    events = {e["id"]: e for e in manifest["events"]}
    sent = [m for m in every_kind_of_message() if m.sent_at.day == 10]
    assert list(events) == [m.message_id for m in sent]
    assert {e["timestamp"] for e in events.values()} == {
        m.sent_at.strftime("%Y-%m-%dT%H:%M:%SZ") for m in sent
    }
    assert manifest["conversations"][0]["type"] == "direct"
    assert manifest["conversations"][0]["custodian"] == "P1"
    assert mail["X-RSMF-Custodian"] == EMPLOYEE.display_name
    assert mail["X-RSMF-EventCount"] == str(len(sent))
    assert mail["X-RSMF-Participants"] == (
        "Ana Souza (Acme Securities), Carlos Silva, WhatsApp (system notice)"
    )
    assert mail["X-RSMF-EventCollectionID"] == "acme-br:whatsapp:42"
    assert "ações" in mail.get_body(("plain",)).get_content()

    assert events["wamid.text1"]["direction"] == "incoming"
    assert events["wamid.text1"]["participant"] == "P2"
    assert events["wamid.image3"]["direction"] == "outgoing"
    # A quoted reply is custom data, never a thread parent.
    reply = events["wamid.reply2"]
    assert "parent" not in reply
    assert {"name": "Quoted message ID", "value": "wamid.text1"} in reply["custom"]
    # Every version of an edited message: body is the latest, each edit previous -> new.
    assert reply["body"] == "Bom dia Carlos! Segue a ordem em anexo 2."
    assert [(e["previous"], e["new"]) for e in reply["edits"]] == [
        ("Bom dia Carlos! Posso sim, segue a ordem.", "Bom dia Carlos! Segue a ordem em anexo."),
        ("Bom dia Carlos! Segue a ordem em anexo.", "Bom dia Carlos! Segue a ordem em anexo 2."),
    ]
    # Reactions as they stand: a replaced one shows the new emoji, a removed one is gone.
    assert reply["reactions"] == [{"value": "❤️", "count": 1, "participants": ["P2"]}]
    assert "reactions" not in events["wamid.audio5"]
    assert any(c["name"] == "Reaction history" for c in events["wamid.audio5"]["custom"])
    # Deleted for everyone: flagged, the original text kept, who and when recorded.
    deleted = events["wamid.deleted10"]
    assert deleted["deleted"] is True
    assert deleted["body"] == "Melhor não comprar hoje, apaga isso."
    assert {"name": "Deleted by", "value": "Carlos Silva"} in deleted["custom"]
    # A WhatsApp system notice is an "unknown" event without a direction.
    assert events["wamid.system14"]["type"] == "unknown"
    assert "direction" not in events["wamid.system14"]
    assert {"name": "System event type", "value": "user_changed_number"} in events[
        "wamid.system14"
    ]["custom"]
    # Media: in the zip under content-addressed names, the original name as display.
    image = events["wamid.image3"]["attachments"][0]
    assert image["display"] == "ordem_PETR4.png"
    assert zipped[image["id"]] == PHOTO
    assert zipped[events["wamid.doc4"]["attachments"][0]["id"]] == PDF
    assert zipped[events["wamid.audio5"]["attachments"][0]["id"]] == VOICE
    assert mail["X-RSMF-AttachmentCount"] == str(len(zipped)) == "4"
    # A media file never captured is named, not referenced (a missing zip file is a warning).
    assert "attachments" not in events["wamid.video6"]
    assert {"name": "Attachment not captured", "value": "clip.mp4 (video/mp4)"} in events[
        "wamid.video6"
    ]["custom"]

    _, second_day, _ = unpack(files[1].content)
    assert second_day["events"][1]["timestamp"] == "2025-03-11T09:01:00.000500Z"


def test_the_same_input_gives_byte_identical_files_whatever_order_it_came_in():
    first = files_of(every_kind())
    shuffled = ConversationSlice(conversation(), tuple(reversed(every_kind_of_message())))
    again = files_of(shuffled)

    assert [f.content for f in first] == [f.content for f in again]
    with zipfile.ZipFile(io.BytesIO(unpack_zip(first[0].content))) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.namelist()[0] == "rsmf_manifest.json"


def unpack_zip(data: bytes) -> bytes:
    mail = email.message_from_bytes(data, policy=email.policy.default)
    return next(mail.iter_attachments()).get_payload(decode=True)


def test_a_day_past_the_event_ceiling_is_split_into_linked_parts():
    files = files_of(every_kind(), max_events=6)

    day_one = [f for f in files if "2025-03-10" in f.name]
    assert [f.name for f in day_one] == [
        "acme-br_42_2025-03-10_part001.rsmf",
        "acme-br_42_2025-03-10_part002.rsmf",
        "acme-br_42_2025-03-10_part003.rsmf",
    ]
    counts = []
    for file in day_one:
        assert check_rsmf(file.content) == []
        mail, manifest, _ = unpack(file.content)
        assert mail["X-RSMF-EventCollectionID"] == "acme-br:whatsapp:42"
        assert manifest["eventcollectionid"] == "acme-br:whatsapp:42"
        counts.append(int(mail["X-RSMF-EventCount"]))
    assert counts == [6, 6, 3]


def test_ten_thousand_events_fit_one_file_and_the_next_one_starts_a_second():
    start = datetime(2025, 3, 10, tzinfo=UTC)
    messages = tuple(
        Message(
            f"wamid.{n}",
            "text",
            CLIENT.key,
            Direction.INBOUND,
            start + timedelta(seconds=n * 8),
            text=f"message {n}",
        )
        for n in range(10_001)
    )
    files = files_of(ConversationSlice(conversation(), messages))

    assert len(files) == 2
    assert [unpack(f.content)[0]["X-RSMF-EventCount"] for f in files] == ["10000", "1"]
    assert check_rsmf(files[0].content) == []


def test_a_group_is_a_channel_conversation():
    group = ConversationSlice(conversation(ConversationKind.GROUP), every_kind_of_message()[:3])
    (file,) = files_of(group)

    assert unpack(file.content)[1]["conversations"][0]["type"] == "channel"
    assert check_rsmf(file.content) == []


def test_the_same_photo_twice_in_a_day_is_one_zip_file_both_events_name():
    photo = attachment(PHOTO, "a.png", "image/png")
    messages = (
        Message(
            "wamid.a", "image", CLIENT.key, Direction.INBOUND, at(10, 9, 0), attachments=(photo,)
        ),
        Message(
            "wamid.b", "image", CLIENT.key, Direction.INBOUND, at(10, 9, 1), attachments=(photo,)
        ),
    )
    (file,) = files_of(ConversationSlice(conversation(), messages))
    mail, _, zipped = unpack(file.content)

    assert list(zipped) == [media_name(photo)]
    assert mail["X-RSMF-AttachmentCount"] == "1"
    assert check_rsmf(file.content) == []


def test_media_whose_bytes_differ_from_the_archive_are_refused():
    changed = attachment(PHOTO, "a.png", "image/png")
    tampered = type(changed)(
        changed.file_name,
        changed.mime_type,
        changed.size,
        changed.sha256,
        open=lambda: io.BytesIO(PHOTO[:-1] + b"X"),
    )
    message = Message(
        "wamid.a", "image", CLIENT.key, Direction.INBOUND, at(10, 9, 0), attachments=(tampered,)
    )

    with pytest.raises(RecordError, match="do not match the archive"):
        files_of(ConversationSlice(conversation(), (message,)))


def test_a_display_name_with_a_line_break_cannot_add_a_header():
    sneaky = Participant("wa:1", "Eve\r\nX-RSMF-EventCount: 99", Role.COUNTERPARTY, wa_id="1")
    convo = type(conversation())(
        "9", "acme-br", "Eve", ConversationKind.DIRECT, EMPLOYEE, (sneaky,)
    )
    message = Message("wamid.e", "text", "wa:1", Direction.INBOUND, at(10, 9, 0), text="hi")
    (file,) = files_of(ConversationSlice(convo, (message,)))
    mail, manifest, _ = unpack(file.content)

    assert mail.get_all("X-RSMF-EventCount") == ["1"]
    assert manifest["participants"][1]["display"] == "Eve X-RSMF-EventCount: 99"
    assert check_rsmf(file.content) == []


def test_records_refuse_what_no_writer_could_render_faithfully():
    with pytest.raises(RecordError, match="no time zone"):
        Message("wamid.n", "text", CLIENT.key, Direction.INBOUND, datetime(2025, 3, 10, 9, 0))
    stranger = Message("wamid.s", "text", "wa:999", Direction.INBOUND, at(10, 9, 0))
    with pytest.raises(RecordError, match="no participant 'wa:999'"):
        ConversationSlice(conversation(), (stranger,))
    twice = Message("wamid.t", "text", CLIENT.key, Direction.INBOUND, at(10, 9, 0))
    with pytest.raises(RecordError, match="a message twice"):
        ConversationSlice(conversation(), (twice, twice))


def test_the_caching_mail_policy_writes_the_librarys_own_bytes(monkeypatch):
    # Headers parsed and folded once per text (archive/export/mailpolicy.py) must not change a
    # byte: each file twice (the second from the caches), against the plain library policy.
    from archive.export import eml, mailpolicy

    group = ConversationSlice(conversation(ConversationKind.GROUP), every_kind_of_message())
    selections = [every_kind(), group]

    def files() -> list[bytes]:
        written = []
        for selection in selections:
            written += [f.content for f in rsmf.rsmf_files(selection, generator="Compliance Hub")]
            written += [f.content for f in eml.eml_files(selection, generator="Compliance Hub")]
        return written

    cached = files() + files()
    plain = email.policy.SMTPUTF8.clone(header_factory=mailpolicy.CachedHeaderRegistry())
    for module in (rsmf, eml):
        monkeypatch.setattr(module, "POLICY", plain)
        monkeypatch.setattr(module, "HEADER_POLICY", plain.clone(max_line_length=998))
    library = files()

    assert cached == library + library
    assert len(mailpolicy._parsed) > 0, "the cache was used"
