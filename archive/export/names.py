"""How things are named in exported files: a participant has one display name everywhere
(Relativity compares the manifest and the headers exactly), header-safe text, an e-mail address;
a conversation has one file stem and one event collection id in every format."""

from __future__ import annotations

from email.headerregistry import Address
from functools import lru_cache

from compliance_hub.digits import is_digits

from .records import Conversation, Participant


def one_line(text: str) -> str:
    """Header-safe: control characters (a newline would start a new header) become spaces."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())


def display_name(participant: Participant) -> str:
    """The one name a participant has in the manifest and in X-RSMF-Participants (Relativity
    compares them exactly)."""
    return (
        one_line(participant.display_name)
        or participant.phone
        or participant.wa_id
        or participant.key
    )


def whatsapp_jid(participant: Participant) -> str:
    return f"{participant.wa_id}@s.whatsapp.net" if is_digits(participant.wa_id) else ""


def mail_address(participant: Participant) -> Address:
    """An address for the e-mail headers: the employee's mailbox (eDiscovery tools map the
    custodian by it), else the WhatsApp id, else a name in the reserved .invalid domain."""
    addr = participant.email or whatsapp_jid(participant)
    if not addr:
        local = "".join(c for c in participant.key if c.isascii() and c.isalnum()) or "unknown"
        addr = f"{participant.role.value}-{local}@whatsapp.invalid"
    return _address(display_name(participant), addr)


@lru_cache(maxsize=1024)
def _address(display: str, addr_spec: str) -> Address:
    # Address parses its addr_spec with the email package's header parser (a tenth of an
    # export's CPU, per file: cProfile of bench/export.py); a conversation's people repeat on
    # each of its days. Address is immutable, so one object can serve every file.
    return Address(display_name=display, addr_spec=addr_spec)


def file_stem(conversation: Conversation) -> str:
    """A file-system-safe stem naming the tenant and conversation."""
    raw = f"{conversation.tenant}_{conversation.conversation_id}"
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in raw)


def collection_id(conversation: Conversation) -> str:
    """Stable for the conversation across days and parts: Relativity groups slices by it."""
    return f"{conversation.tenant}:whatsapp:{conversation.conversation_id}"
