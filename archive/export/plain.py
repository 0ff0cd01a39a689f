"""A plain-text transcript of a conversation: the body of the RSMF and EML files, which
eDiscovery tools index as the document's extracted text (Relativity warns when it is empty)."""

from __future__ import annotations

from collections.abc import Sequence

from .records import Conversation, Message, utc_text


def transcript(conversation: Conversation, messages: Sequence[Message], *, heading: str) -> str:
    """One block per message, oldest first, every version and event written out."""
    names = {
        p.key: p.display_name or p.phone or p.wa_id or p.key for p in conversation.participants
    }
    lines = [
        f"WhatsApp conversation: {conversation.title}",
        f"Custodian: {names[conversation.custodian.key]}",
        f"Participants: {', '.join(names[p.key] for p in conversation.participants)}",
        f"Slice: {heading} (times in UTC)",
        f"Messages: {len(messages)}",
        "",
    ]
    for message in messages:
        lines.append(f"[{utc_text(message.sent_at)}] {names[message.sender]} ({message.type}):")
        if message.quote is not None:
            quoted = f": {message.quote.text}" if message.quote.text else ""
            lines.append(f"  > replying to {message.quote.message_id}{quoted}")
        if message.forwarded:
            lines.append("  (forwarded)")
        lines.extend(f"  ({name}: {value})" for name, value in message.details)
        lines.extend(f"  {line}" for line in message.text.splitlines())
        for attachment in message.attachments:
            state = "" if attachment.captured else " (not captured)"
            lines.append(
                f"  [attachment {attachment.file_name or 'unnamed'}, {attachment.mime_type},"
                f" {attachment.size} bytes, SHA-256 {attachment.sha256 or '-'}{state}]"
            )
        for number, edit in enumerate(message.edits, start=1):
            lines.append(f"  [edit {number} at {utc_text(edit.at)} by {names[edit.by]}]")
            lines.extend(f"  {line}" for line in edit.new_text.splitlines() or [""])
        for reaction in message.reactions:
            what = f"reacted {reaction.emoji}" if reaction.emoji else "removed their reaction"
            lines.append(f"  [{utc_text(reaction.at)} {names[reaction.by]} {what}]")
        if message.deletion is not None:
            lines.append(
                f"  [deleted for everyone at {utc_text(message.deletion.at)}"
                f" by {names[message.deletion.by]}; the original is kept above]"
            )
        lines.append("")
    return "\n".join(lines)
