"""CSV and JSON Lines: one row per message and per event, the documented columns, formulas
neutralised in the CSV (and only there), a BOM so Excel reads UTF-8."""

from __future__ import annotations

import csv
import io
import json

from archive.export import tables

from .export_fixtures import every_kind, every_kind_of_message


def csv_rows() -> tuple[bytes, list[dict[str, str]]]:
    out = io.BytesIO()
    count = tables.write_csv([every_kind()], out)
    data = out.getvalue()
    parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert count == len(parsed)
    return data, parsed


def jsonl_rows() -> tuple[bytes, list[dict]]:
    out = io.BytesIO()
    count = tables.write_jsonl([every_kind()], out)
    data = out.getvalue()
    parsed = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert count == len(parsed)
    return data, parsed


def expected_types() -> list[tuple[str, str]]:
    expected = []
    for message in every_kind_of_message():
        expected.append(("message", message.message_id))
        events = [(e.at, "edit") for e in message.edits] + [
            (r.at, "reaction") for r in message.reactions
        ]
        if message.deletion:
            events.append((message.deletion.at, "deletion"))
        expected += [(kind, message.message_id) for _, kind in sorted(events)]
    return expected


def test_one_row_per_message_and_per_event_with_the_documented_columns():
    data, rows = csv_rows()

    assert data.startswith(b"\xef\xbb\xbfrecord_type,conversation_id,")
    assert b"\r\n" in data
    assert tuple(rows[0]) == tables.COLUMNS
    for column in tables.COLUMNS:
        assert column in tables.__doc__
    assert [(r["record_type"], r["message_id"]) for r in rows] == expected_types()

    by_kind = {}
    for row in rows:
        by_kind.setdefault((row["record_type"], row["message_id"]), []).append(row)
    (original,) = by_kind[("message", "wamid.reply2")]
    assert original["text"] == "Bom dia Carlos! Posso sim, segue a ordem."
    assert original["current_text"] == "Bom dia Carlos! Segue a ordem em anexo 2."
    assert original["edit_count"] == "2"
    assert original["quoted_message_id"] == "wamid.text1"
    assert original["direction"] == "outbound"
    assert original["version"] == "1"
    first_edit, second_edit = by_kind[("edit", "wamid.reply2")]
    assert (first_edit["previous_text"], first_edit["text"], first_edit["version"]) == (
        "Bom dia Carlos! Posso sim, segue a ordem.",
        "Bom dia Carlos! Segue a ordem em anexo.",
        "2",
    )
    assert second_edit["event_at_utc"] == "2025-03-10T12:06:00Z"
    assert second_edit["version"] == "3"
    (deletion,) = by_kind[("deletion", "wamid.deleted10")]
    assert deletion["text"] == "Melhor não comprar hoje, apaga isso."
    assert deletion["actor_name"] == "Carlos Silva"
    assert deletion["event_at_utc"] == "2025-03-10T12:19:00Z"
    added, removed = by_kind[("reaction", "wamid.audio5")]
    assert (added["text"], removed["text"]) == ("😂", "")
    assert removed["actor_name"] == "Ana Souza (Acme Securities)"
    (image,) = by_kind[("message", "wamid.image3")]
    assert image["attachment_names"] == "ordem_PETR4.png"
    assert image["attachment_types"] == "image/png"
    assert len(image["attachment_sha256"]) == 64
    (video,) = by_kind[("message", "wamid.video6")]
    assert (video["attachment_names"], video["attachment_sha256"]) == ("clip.mp4", "")
    assert by_kind[("message", "wamid.contacts9")][0]["forwarded"] == "true"
    assert by_kind[("message", "wamid.system14")][0]["actor_role"] == "system"
    assert by_kind[("message", "wamid.system14")][0]["details"] == (
        "System event type: user_changed_number"
    )


def test_formulas_are_neutralised_in_the_csv_but_kept_as_written_in_json_lines():
    _, rows = csv_rows()
    _, lines = jsonl_rows()

    formula = next(r for r in rows if r["message_id"] == "wamid.formula17")
    assert formula["text"] == "'=1+2\n+cmd|' /C calc'!A0"
    assert formula["current_text"].startswith("'=")
    location = next(r for r in rows if r["message_id"] == "wamid.location8")
    assert location["text"] == "Location: -23.5505, -46.6333 (Av. Paulista)"
    raw = next(r for r in lines if r["message_id"] == "wamid.formula17")
    assert raw["text"] == "=1+2\n+cmd|' /C calc'!A0"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_json_lines_have_the_same_rows_with_typed_values_and_no_bom():
    data, lines = jsonl_rows()
    _, rows = csv_rows()

    assert not data.startswith(b"\xef\xbb\xbf")
    assert len(lines) == len(rows)
    assert all(tuple(sorted(line)) == tuple(sorted(tables.COLUMNS)) for line in lines)
    image = next(r for r in lines if r["message_id"] == "wamid.image3")
    assert image["attachment_sizes"] == [25]
    assert image["deleted"] is False
    assert image["version"] == 1
    system = next(r for r in lines if r["message_id"] == "wamid.system14")
    assert system["details"] == {"System event type": "user_changed_number"}
    assert "ações" in data.decode("utf-8")  # UTF-8 as is, not \\u escapes


def test_both_formats_are_byte_identical_when_written_twice():
    assert csv_rows()[0] == csv_rows()[0]
    assert jsonl_rows()[0] == jsonl_rows()[0]
