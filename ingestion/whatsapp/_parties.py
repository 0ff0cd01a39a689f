"""Who the client is and who sent what: the counterparty of an item and the direction of a
history message, from ``value.contacts``, ``from``/``to`` and the business number.

Since April 2026 Meta identifies clients by a business-scoped ``user_id`` (BSUID) as well as
``wa_id``; a user with a username may arrive with ``wa_id``/``from`` empty. Both ids are kept.
"""

from __future__ import annotations

from typing import Any

from compliance_hub.digits import only_digits

from ._scalars import ident_of, text_of
from .events import Counterparty, Envelope


class Counterparties:
    """``value.contacts[]`` of one change, looked up by wa_id and by BSUID (``user_id``)."""

    __slots__ = ("by_user_id", "by_wa_id", "count", "first")

    def __init__(self) -> None:
        self.by_wa_id: dict[str, Counterparty] = {}
        self.by_user_id: dict[str, Counterparty] = {}
        self.count = 0
        self.first: Counterparty | None = None

    def add(self, contact: dict[str, Any]) -> None:
        profile = contact.get("profile")
        if not isinstance(profile, dict):
            profile = {}
        party = Counterparty(
            wa_id=ident_of(contact.get("wa_id")),
            user_id=text_of(contact.get("user_id")),
            name=text_of(profile.get("name")),
            username=text_of(profile.get("username")),
        )
        self.count += 1
        if self.first is None:
            self.first = party
        if party.wa_id:
            self.by_wa_id.setdefault(party.wa_id, party)
        if party.user_id:
            self.by_user_id.setdefault(party.user_id, party)

    def resolve(self, wa_id: str, user_id: str) -> Counterparty:
        """The client with these ids, named from ``contacts`` when Meta listed them."""
        known = (self.by_user_id.get(user_id) if user_id else None) or (
            self.by_wa_id.get(wa_id) if wa_id else None
        )
        if known is None:
            if not wa_id and not user_id and self.count == 1 and self.first is not None:
                # A username user may arrive with from: "" and no from_user_id: the change's
                # only contact is then the sender.
                return self.first
            return Counterparty(wa_id=wa_id, user_id=user_id)
        if (not wa_id or wa_id == known.wa_id) and (not user_id or user_id == known.user_id):
            return known
        return Counterparty(
            wa_id=wa_id or known.wa_id,
            user_id=user_id or known.user_id,
            name=known.name,
            username=known.username,
        )


def thread_party(thread: dict[str, Any], thread_id: str, contacts: Counterparties) -> Counterparty:
    """The client of a history thread: ``id`` is their number; ``context`` (2026) adds the
    BSUID and username."""
    context = thread.get("context")
    if not isinstance(context, dict):
        return contacts.resolve(thread_id, "")
    party = contacts.resolve(
        thread_id or ident_of(context.get("wa_id")), text_of(context.get("user_id"))
    )
    username = text_of(context.get("username"))
    if username and not party.username:
        return Counterparty(
            wa_id=party.wa_id, user_id=party.user_id, name=party.name, username=username
        )
    return party


def sent_by_business(obj: dict[str, Any], envelope: Envelope, thread_id: str) -> bool:
    """History items: ``from`` is "the business customer's phone number, or the WhatsApp user's
    phone number"; ``to`` is "only included if SMB message echo"."""
    sender = ident_of(obj.get("from"))
    if sender and envelope.display_phone_number:
        return same_number(sender, envelope)
    return "to" in obj and sender != thread_id


def same_number(number: str, envelope: Envelope) -> bool:
    # Meta documents display_phone_number as digits only; comparing digits keeps a "+" or a
    # space added on either side from flipping a message's direction.
    display = envelope.display_phone_number
    if number == display:
        return True
    return only_digits(number) == only_digits(display) != ""
