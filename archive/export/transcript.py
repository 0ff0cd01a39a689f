"""An HTML transcript per conversation that reads like the chat: bubbles left (the client) and
right (the employee), times, quoted replies, reactions, every version of an edited message,
messages deleted for everyone marked with the original kept, media named and linked.

Opened offline from an export bag, years later, by someone who trusts nothing in it: one file,
inline CSS, no scripts and no external URL (a Content-Security-Policy forbids scripts even if
escaping ever failed), every text escaped. Media are linked relatively, ``media/<sha256>.<ext>``
by default (where the packaging puts the native files); the e-mail writer links ``cid:`` parts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC
from html import escape

from .media import media_name
from .names import display_name, file_stem
from .records import (
    Attachment,
    Conversation,
    ConversationSlice,
    Deletion,
    Direction,
    Edit,
    ExportFile,
    Message,
    Reaction,
    Role,
    utc_text,
)

MediaLink = Callable[[Attachment], str]

STYLE = """
body{margin:0;background:#efeae2;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,
 Helvetica,Arial,sans-serif;color:#111b21}
header{background:#075e54;color:#fff;padding:12px 16px}
header h1{margin:0 0 4px;font-size:18px}
header p{margin:2px 0;font-size:13px;opacity:.9}
main{max-width:820px;margin:0 auto;padding:12px}
.day{text-align:center;margin:16px 0 8px}
.day span{background:#e1f2fb;border-radius:8px;padding:4px 10px;font-size:12px}
.row{display:flex;margin:4px 0}
.row.out{justify-content:flex-end}
.row.system{justify-content:center}
.bubble{max-width:75%;border-radius:8px;padding:6px 8px 4px;background:#fff;
 box-shadow:0 1px .5px rgba(11,20,26,.13);overflow-wrap:anywhere}
.out .bubble{background:#d9fdd3}
.system .bubble{background:#fff5c4;font-size:13px}
.sender{font-size:12px;font-weight:600;color:#1f7aec}
.text{white-space:pre-wrap}
.meta{font-size:11px;color:#667781;text-align:right;margin-top:2px}
.quote{border-left:4px solid #06cf9c;background:rgba(0,0,0,.05);border-radius:4px;
 padding:4px 6px;margin-bottom:4px;font-size:13px}
.quote a{color:inherit;text-decoration:none}
.deleted{border:1px dashed #c0392b}
.flag{font-size:12px;font-weight:600;color:#c0392b}
.forwarded,.detail{font-size:12px;font-style:italic;color:#667781}
.media{font-size:13px;margin:4px 0}
.media img{display:block;max-width:260px;max-height:260px;border-radius:6px}
.missing{color:#c0392b}
.reactions{font-size:13px;margin-top:2px}
.reactions span{background:#fff;border-radius:10px;padding:1px 6px;margin-right:4px;
 box-shadow:0 1px .5px rgba(11,20,26,.13)}
details{font-size:12px;color:#3b4a54;margin-top:2px}
details ol{margin:4px 0;padding-left:20px}
"""
# Scripts, plugins, frames, forms and a <base> are refused whatever the file holds; images and
# media stay allowed so the relative links to the bag's media folder work offline.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' file:; media-src 'self' file:;"
    " script-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"
)


def bag_media_link(attachment: Attachment) -> str:
    return f"media/{media_name(attachment)}"


def html_files(
    selection: ConversationSlice, *, media_link: MediaLink = bag_media_link
) -> Iterator[ExportFile]:
    """One ``.html`` transcript for the conversation (all the selected days)."""
    if selection.messages:
        yield ExportFile(
            name=f"{file_stem(selection.conversation)}.html",
            content=render(
                selection.conversation, selection.messages, media_link=media_link
            ).encode("utf-8"),
        )


def render(
    conversation: Conversation,
    messages: Sequence[Message],
    *,
    media_link: MediaLink = bag_media_link,
) -> str:
    """The transcript as an HTML document (a string; the caller encodes it as UTF-8)."""
    names = {p.key: display_name(p) for p in conversation.participants}
    first = min((m.sent_at for m in messages), default=None)
    last = max((m.sent_at for m in messages), default=None)
    people = ", ".join(
        display_name(p) + (f" ({p.phone})" if p.phone else "")
        for p in conversation.others
        if p.role is not Role.SYSTEM
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>WhatsApp: {escape(conversation.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(conversation.title)}</h1>",
        f"<p>Employee: {escape(display_name(conversation.custodian))}"
        + (f" ({escape(conversation.custodian.phone)})" if conversation.custodian.phone else "")
        + "</p>",
        f"<p>With: {escape(people)}</p>",
        f"<p>{len(messages)} messages"
        + (f", {utc_text(first)} to {utc_text(last)}" if first and last else "")
        + ". Times are UTC.</p>",
        "</header>",
        "<main>",
    ]
    day = None
    for message in messages:
        sent = message.sent_at.astimezone(UTC)
        if sent.date() != day:
            day = sent.date()
            parts.append(f'<div class="day"><span>{day:%A, %d %B %Y}</span></div>')
        parts.append(_bubble(conversation, message, names, media_link))
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _bubble(
    conversation: Conversation,
    message: Message,
    names: dict[str, str],
    media_link: MediaLink,
) -> str:
    sender = conversation.participant(message.sender)
    if message.type == "system" or sender.role is Role.SYSTEM:
        side = "system"
    else:
        side = "out" if message.direction is Direction.OUTBOUND else "in"
    bubble_class = "bubble deleted" if message.deletion else "bubble"
    html = [
        f'<div class="row {side}" id="{_anchor(message.message_id)}">',
        f'<div class="{bubble_class}">',
        f'<div class="sender">{escape(names[message.sender])}</div>',
    ]
    if message.deletion is not None:
        html.append(
            f'<div class="flag">Deleted for everyone by {escape(names[message.deletion.by])}'
            f" at {_time(message.deletion)}. The original is kept below.</div>"
        )
    if message.forwarded:
        html.append('<div class="forwarded">Forwarded</div>')
    for name, value in message.details:
        html.append(f'<div class="detail">{escape(name)}: {escape(value)}</div>')
    if message.quote is not None:
        quoted = escape(message.quote.text) if message.quote.text else "(quoted message)"
        html.append(
            f'<div class="quote"><a href="#{_anchor(message.quote.message_id)}">{quoted}</a></div>'
        )
    for attachment in message.attachments:
        html.append(_attachment(attachment, media_link))
    if message.current_text:
        html.append(f'<div class="text">{escape(message.current_text)}</div>')
    if message.edits:
        versions = "".join(
            f"<li>{escape(text) or '(empty)'} <small>{when}</small></li>"
            for text, when in zip(
                message.versions,
                [f"sent {_clock(message)}"]
                + [f"edited {_time(edit)} by {escape(names[edit.by])}" for edit in message.edits],
                strict=True,
            )
        )
        html.append(
            f"<details><summary>Edited {len(message.edits)} time"
            f"{'s' if len(message.edits) > 1 else ''}: every version</summary>"
            f"<ol>{versions}</ol></details>"
        )
    reactions = message.current_reactions()
    if reactions:
        chips = "".join(
            f"<span>{escape(emoji)} {escape(names[key])}</span>"
            for key, emoji in sorted(reactions.items(), key=lambda item: names[item[0]])
        )
        html.append(f'<div class="reactions">{chips}</div>')
    if len(message.reactions) != len(reactions):
        history = "".join(
            f"<li>{escape(names[r.by])} "
            + (f"reacted {escape(r.emoji)}" if r.emoji else "removed their reaction")
            + f" <small>{_time(r)}</small></li>"
            for r in message.reactions
        )
        html.append(f"<details><summary>Reaction history</summary><ol>{history}</ol></details>")
    kind = "" if message.type == "text" else f"{escape(message.type)} · "
    html += [f'<div class="meta">{kind}{_clock(message)}</div>', "</div>", "</div>"]
    return "\n".join(html)


def _attachment(attachment: Attachment, media_link: MediaLink) -> str:
    mime = escape(attachment.mime_type or "unknown type")
    if not attachment.captured:
        label = escape(attachment.file_name or "unnamed file")
        return f'<div class="media missing">{label} ({mime}): not captured</div>'
    label = escape(attachment.file_name or "unnamed file")
    href = escape(media_link(attachment))
    preview = ""
    if attachment.mime_type.startswith("image/"):
        preview = f'<img src="{href}" alt="{label}">'
    return (
        f'<div class="media"><a href="{href}">{preview}{label}</a>'
        f" ({mime}, {_size(attachment.size)})</div>"
    )


def _anchor(message_id: str) -> str:
    return "m-" + escape(message_id)


def _clock(message: Message) -> str:
    return message.sent_at.astimezone(UTC).strftime("%H:%M:%S")


def _time(event: Edit | Reaction | Deletion) -> str:
    return escape(utc_text(event.at))


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
