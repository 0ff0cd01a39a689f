"""Where each format's files go inside an export, and the counts the bag reports.

Layout (paths inside the bag's ``data/`` folder)::

    rsmf/<tenant>_<conversation>_<day>[_partNNN].rsmf
    eml/<tenant>_<conversation>_<day>.eml
    messages.csv                      (every conversation, one row per message and event)
    messages.jsonl
    html/<tenant>_<conversation>.html (links media as ../media/<name>)
    media/<sha256>.<ext>              (the native files, each once)

The HTML transcripts link the native files, so choosing ``html`` brings ``media`` along.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from . import eml, rsmf, tables, transcript
from .media import copy_media, distinct_media, media_name
from .records import Attachment, ConversationSlice

FORMATS = ("rsmf", "eml", "csv", "jsonl", "html", "media")

Writer = Callable[[IO[bytes]], object]


@dataclass(frozen=True)
class PayloadFile:
    """A file of the payload: its path under ``data/`` and how to write its bytes. A file written
    in parts (the CSV and JSON Lines, one part per conversation) has ``append`` set: each part is
    added to what the earlier parts wrote."""

    path: str
    write: Writer
    append: bool = False


@dataclass(frozen=True)
class Counts:
    conversations: int
    messages: int
    events: int  # edits, deletions for everyone and reactions (removals included)
    attachments: int  # distinct media files captured


class Tally:
    """Counts kept while the selections stream past (the export never holds them all)."""

    def __init__(self) -> None:
        self.conversations = 0
        self.messages = 0
        self.events = 0
        self.media: set[str] = set()

    def add(self, selection: ConversationSlice) -> list[tuple[str, Attachment]]:
        """Count one selection; returns its media files not seen in an earlier one."""
        if selection.messages:
            self.conversations += 1
        self.messages += len(selection.messages)
        self.events += sum(
            len(m.edits) + len(m.reactions) + (m.deletion is not None) for m in selection.messages
        )
        new = [(n, a) for n, a in distinct_media(selection.messages) if n not in self.media]
        self.media.update(name for name, _ in new)
        return new

    def merge(self, other: Tally) -> None:
        """Add the counts of another part of the same export (its media may repeat ours)."""
        self.conversations += other.conversations
        self.messages += other.messages
        self.events += other.events
        self.media.update(other.media)

    def counts(self) -> Counts:
        return Counts(self.conversations, self.messages, self.events, len(self.media))


def counts(selections: Iterable[ConversationSlice]) -> Counts:
    tally = Tally()
    for selection in selections:
        tally.add(selection)
    return tally.counts()


def payload_files(
    selections: Iterable[ConversationSlice],
    *,
    formats: Sequence[str],
    generator: str,
    tally: Tally | None = None,
    first: bool = True,
) -> Iterator[PayloadFile]:
    """The payload of an export in the chosen formats, written lazily in ONE pass over
    ``selections`` (a stream: a database cursor in production), one conversation at a time:
    its RSMF, e-mail and HTML files, its rows appended to the CSV and JSON Lines, and the media
    files it is the first to name. ``tally`` (when given) holds the counts once the files have
    been written. ``first`` is false for a later part of an export written in parts: the CSV's
    header row is the first part's."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown export formats: {', '.join(sorted(unknown))}")
    chosen = set(formats) | ({"media"} if "html" in formats else set())
    tally = tally if tally is not None else Tally()
    header = first
    for selection in selections:
        new_media = tally.add(selection)
        if "rsmf" in chosen:
            for file in rsmf.rsmf_files(selection, generator=generator):
                yield PayloadFile(f"rsmf/{file.name}", _bytes(file.content))
        if "eml" in chosen:
            for file in eml.eml_files(selection, generator=generator):
                yield PayloadFile(f"eml/{file.name}", _bytes(file.content))
        if "csv" in chosen:
            yield PayloadFile("messages.csv", _csv([selection], header=header), append=True)
        if "jsonl" in chosen:
            yield PayloadFile("messages.jsonl", _jsonl([selection]), append=True)
        header = False
        if "html" in chosen:
            for file in transcript.html_files(selection, media_link=_bag_link):
                yield PayloadFile(f"html/{file.name}", _bytes(file.content))
        if "media" in chosen:
            for name, attachment in new_media:
                yield PayloadFile(f"media/{name}", _copy(attachment))
    if header and first:  # nothing selected: the tables still exist, with their header
        if "csv" in chosen:
            yield PayloadFile("messages.csv", _csv([], header=True), append=True)
        if "jsonl" in chosen:
            yield PayloadFile("messages.jsonl", _jsonl([]), append=True)


def _csv(selections: list[ConversationSlice], *, header: bool) -> Writer:
    return lambda out: tables.write_csv(selections, out, header=header)


def _jsonl(selections: list[ConversationSlice]) -> Writer:
    return lambda out: tables.write_jsonl(selections, out)


def _bag_link(attachment: Attachment) -> str:
    return f"../media/{media_name(attachment)}"


def _bytes(content: bytes) -> Writer:
    return lambda out: out.write(content)


def _copy(attachment: Attachment) -> Writer:
    return lambda out: copy_media(attachment, out)


def payload_bytes(file: PayloadFile) -> bytes:
    """A payload file's bytes in memory (for tests and small files)."""
    buffer = io.BytesIO()
    file.write(buffer)
    return buffer.getvalue()
