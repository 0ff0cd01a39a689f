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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from . import eml, rsmf, tables, transcript
from .media import copy_media, distinct_media, media_name
from .records import Attachment, ConversationSlice

FORMATS = ("rsmf", "eml", "csv", "jsonl", "html", "media")

Writer = Callable[[IO[bytes]], object]


@dataclass(frozen=True)
class PayloadFile:
    """A file of the payload: its path under ``data/`` and how to write its bytes."""

    path: str
    write: Writer


@dataclass(frozen=True)
class Counts:
    conversations: int
    messages: int
    events: int  # edits, deletions for everyone and reactions (removals included)
    attachments: int  # distinct media files captured


def counts(selections: Sequence[ConversationSlice]) -> Counts:
    messages = [m for s in selections for m in s.messages]
    return Counts(
        conversations=sum(1 for s in selections if s.messages),
        messages=len(messages),
        events=sum(len(m.edits) + len(m.reactions) + (m.deletion is not None) for m in messages),
        attachments=len(distinct_media(m for s in selections for m in s.messages)),
    )


def payload_files(
    selections: Sequence[ConversationSlice], *, formats: Sequence[str], generator: str
) -> Iterator[PayloadFile]:
    """The payload of an export in the chosen formats, written lazily one file at a time."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown export formats: {', '.join(sorted(unknown))}")
    chosen = set(formats) | ({"media"} if "html" in formats else set())
    if "rsmf" in chosen:
        for selection in selections:
            for file in rsmf.rsmf_files(selection, generator=generator):
                yield PayloadFile(f"rsmf/{file.name}", _bytes(file.content))
    if "eml" in chosen:
        for selection in selections:
            for file in eml.eml_files(selection, generator=generator):
                yield PayloadFile(f"eml/{file.name}", _bytes(file.content))
    if "csv" in chosen:
        yield PayloadFile("messages.csv", lambda out: tables.write_csv(selections, out))
    if "jsonl" in chosen:
        yield PayloadFile("messages.jsonl", lambda out: tables.write_jsonl(selections, out))
    if "html" in chosen:
        for selection in selections:
            for file in transcript.html_files(selection, media_link=_bag_link):
                yield PayloadFile(f"html/{file.name}", _bytes(file.content))
    if "media" in chosen:
        for name, attachment in distinct_media(m for s in selections for m in s.messages):
            yield PayloadFile(f"media/{name}", _copy(attachment))


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
