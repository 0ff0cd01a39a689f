"""The simulated traffic itself: who writes to whom, in which language, and what (text both ways,
replies, reactions, edits, deletions, pictures, voice notes, documents, locations, contacts,
delivery and read receipts, and now and then a line a policy should catch). Pure and seeded:
the same seed and clock give the same webhooks, which is what the tests rely on."""

from __future__ import annotations

import base64
import hashlib
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from . import phrases, shapes
from .media_files import MediaFile, pdf, png, voice_note

# (what happens, weight): roughly a busy adviser's day in WhatsApp.
MIX = [
    ("client_text", 34), ("employee_text", 30), ("status", 10), ("reaction", 5),
    ("image", 4), ("voice", 4), ("edit", 3), ("document", 2), ("revoke", 2),
    ("location", 1), ("contacts", 1),
]  # fmt: skip
RISKY_SHARE = 0.06  # of the text lines
REPLY_SHARE = 0.2  # of the text lines, quoting an earlier message
LANGUAGE_BY_REGION = {"BR": ("pt",), "PT": ("pt",), "ES": ("es",), "MX": ("es",), "AR": ("es",),
                      "CO": ("es",), "IN": ("en", "hi")}  # fmt: skip
CLIENT_NAMES = {
    "pt": ["Carlos Silva", "Mariana Costa", "João Pereira", "Fernanda Alves"],
    "es": ["Lucas Martín", "Elena Torres", "Diego Romero", "Sofía Navarro"],
    "en": ["Anil Kapoor", "Meera Kumar", "Sarah Collins", "David Chen"],
    "hi": ["Rohit Verma", "Neha Gupta", "Vikram Singh", "Pooja Iyer"],
}
# Each language's clients get mobile numbers of a country that speaks it: the prefix and how
# many digits follow, so that every number is a valid one (São Paulo mobiles are 55 11 9 and
# eight digits, Spanish mobiles 34 6 and eight, Indian mobiles 91 and ten).
MOBILE_PLAN = {"pt": ("55119", 8), "es": ("346", 8), "en": ("91981", 7), "hi": ("91982", 7)}


def mobile_number(language: str, serial: int) -> str:
    """The digits of a valid mobile number for ``language``'s country, unique per ``serial``."""
    prefix, digits = MOBILE_PLAN[language]
    return f"{prefix}{serial % 10**digits:0{digits}d}"


@dataclass(frozen=True)
class Employee:
    phone_number_id: str
    display_number: str  # digits, as Meta's metadata gives it
    region: str
    weight: float = 1.0  # how often they write (the consented ones, mostly)


@dataclass(frozen=True)
class Event:
    payload: dict[str, Any]
    what: str
    media: MediaFile | None = None
    media_id: str = ""
    risky: str = ""  # the kind of risky line, if it is one


@dataclass
class _Conversation:
    employee: Employee
    client: tuple[str, str]
    language: str
    inbound: deque[str] = field(default_factory=lambda: deque(maxlen=8))
    outbound: deque[str] = field(default_factory=lambda: deque(maxlen=8))
    texts: dict[str, str] = field(default_factory=dict)


class Simulation:
    """Call ``next(at)`` for each webhook to send; ``media_url(media_id)`` tells the simulation
    where its media can be downloaded (None: no media messages)."""

    def __init__(
        self, employees: list[Employee], *, seed: int = 0, media_base_url: str | None = None
    ) -> None:
        if not employees:
            raise ValueError("no employee has a WhatsApp number to simulate")
        self.random = random.Random(seed)  # noqa: S311 (made-up traffic, seeded on purpose)
        self.seed = seed
        self.media_base_url = media_base_url
        self.counter = 0
        self.conversations: list[_Conversation] = []
        for employee in employees:
            languages = LANGUAGE_BY_REGION.get(employee.region.upper(), ("en",))
            for index in range(3):
                language = languages[index % len(languages)]
                name = CLIENT_NAMES[language][(index + len(self.conversations)) % 4]
                wa_id = mobile_number(language, (seed % 1000) * 10_000 + len(self.conversations))
                self.conversations.append(_Conversation(employee, (wa_id, name), language))
        self.weights = [c.employee.weight for c in self.conversations]

    def _wamid(self) -> str:
        self.counter += 1
        return f"wamid.sim.{self.seed}.{self.counter}"

    def _media_id(self) -> str:
        self.counter += 1
        return f"{9_000_000_000 + self.seed * 1_000_000 + self.counter}"

    def next(self, at: int) -> Event:
        conversation = self.random.choices(self.conversations, self.weights)[0]
        kinds = [k for k, _ in MIX if self._possible(k, conversation)]
        weights = [w for k, w in MIX if k in kinds]
        what = self.random.choices(kinds, weights)[0]
        return getattr(self, f"_{what}")(conversation, at)

    def _possible(self, what: str, c: _Conversation) -> bool:
        if what in ("image", "voice", "document"):
            return self.media_base_url is not None
        if what in ("status", "revoke"):
            return bool(c.outbound)
        if what == "reaction":
            return bool(c.outbound or c.inbound)
        if what == "edit":
            return bool(c.inbound)
        return True

    # --- text both ways
    def _line(self, c: _Conversation, outbound: bool) -> tuple[str, str]:
        if self.random.random() < RISKY_SHARE:
            fitting = [r for r in phrases.RISKY[c.language] if r.outbound == outbound]
            if fitting:
                line = self.random.choice(fitting)
                return line.text, line.kind
        pool = phrases.EMPLOYEE if outbound else phrases.CLIENT
        return self.random.choice(pool[c.language]), ""

    def _context(self, c: _Conversation) -> dict[str, str] | None:
        earlier = list(c.inbound) + list(c.outbound)
        if not earlier or self.random.random() >= REPLY_SHARE:
            return None
        return {"from": c.client[0], "id": self.random.choice(earlier)}

    def _client_text(self, c: _Conversation, at: int) -> Event:
        wamid = self._wamid()
        text, risky = self._line(c, outbound=False)
        e = c.employee
        payload = shapes.inbound(e.phone_number_id, e.display_number, wamid, at, c.client,
                                 "text", {"body": text}, self._context(c))  # fmt: skip
        c.inbound.append(wamid)
        c.texts[wamid] = text
        return Event(payload, "text from a client", risky=risky)

    def _employee_text(self, c: _Conversation, at: int) -> Event:
        wamid = self._wamid()
        text, risky = self._line(c, outbound=True)
        e = c.employee
        payload = shapes.echo(e.phone_number_id, e.display_number, wamid, at, c.client[0],
                              "text", {"body": text}, self._context(c))  # fmt: skip
        c.outbound.append(wamid)
        c.texts[wamid] = text
        return Event(payload, "text from the employee", risky=risky)

    # --- what happens to earlier messages
    def _status(self, c: _Conversation, at: int) -> Event:
        target = self.random.choice(list(c.outbound))
        state = self.random.choice(("delivered", "read"))
        e = c.employee
        payload = shapes.status(e.phone_number_id, e.display_number, target, at, c.client[0],
                                state)  # fmt: skip
        return Event(payload, f"{state} receipt")

    def _reaction(self, c: _Conversation, at: int) -> Event:
        target = self.random.choice(list(c.outbound) or list(c.inbound))
        e = c.employee
        body = {"message_id": target, "emoji": self.random.choice(phrases.REACTIONS)}
        payload = shapes.inbound(e.phone_number_id, e.display_number, self._wamid(), at,
                                 c.client, "reaction", body)  # fmt: skip
        return Event(payload, "reaction")

    def _edit(self, c: _Conversation, at: int) -> Event:
        target = c.inbound[-1]
        before = c.texts.get(target, "")
        after = (before + " (corrigido)") if c.language == "pt" else (before + " *")
        c.texts[target] = after
        e = c.employee
        body = {"original_message_id": target,
                "message": {"type": "text", "text": {"body": after}}}  # fmt: skip
        payload = shapes.inbound(e.phone_number_id, e.display_number, self._wamid(), at,
                                 c.client, "edit", body)  # fmt: skip
        return Event(payload, "edit")

    def _revoke(self, c: _Conversation, at: int) -> Event:
        target = c.outbound.pop()
        e = c.employee
        payload = shapes.echo(e.phone_number_id, e.display_number, self._wamid(), at,
                              c.client[0], "revoke", {"original_message_id": target})  # fmt: skip
        return Event(payload, "deleted for everyone")

    # --- media and the rest
    def _media_event(self, c: _Conversation, at: int, media: MediaFile, what: str) -> Event:
        media_id = self._media_id()
        digest = base64.b64encode(hashlib.sha256(media.data).digest()).decode()
        body: dict[str, Any] = {"mime_type": media.mime_type, "sha256": digest, "id": media_id,
                                "url": f"{self.media_base_url}/media/{media_id}"}  # fmt: skip
        if media.kind == "audio":
            body["voice"] = True
        elif media.kind == "document":
            body["filename"] = media.filename
        if media.kind in ("image", "document"):
            body["caption"] = self.random.choice(phrases.CAPTIONS[c.language])
        e = c.employee
        payload = shapes.inbound(e.phone_number_id, e.display_number, self._wamid(), at,
                                 c.client, media.kind, body)  # fmt: skip
        return Event(payload, what, media=media, media_id=media_id)

    def _image(self, c: _Conversation, at: int) -> Event:
        colour = (self.random.randrange(256), self.random.randrange(256), 160)
        return self._media_event(c, at, MediaFile("image", "image/png", png(48, 32, colour)),
                                 "picture")  # fmt: skip

    def _voice(self, c: _Conversation, at: int) -> Event:
        data = voice_note(self.counter, seconds=self.random.randint(2, 6))
        return self._media_event(c, at, MediaFile("audio", "audio/ogg; codecs=opus", data),
                                 "voice note")  # fmt: skip

    def _document(self, c: _Conversation, at: int) -> Event:
        number = self.random.randint(1000, 9999)
        media = MediaFile("document", "application/pdf", pdf(f"Statement {number}"),
                          f"statement-{number}.pdf")  # fmt: skip
        return self._media_event(c, at, media, "document")

    def _location(self, c: _Conversation, at: int) -> Event:
        address, latitude, longitude, name = phrases.CITIES[c.language]
        body = {"address": address, "latitude": latitude, "longitude": longitude, "name": name}
        e = c.employee
        payload = shapes.inbound(e.phone_number_id, e.display_number, self._wamid(), at,
                                 c.client, "location", body)  # fmt: skip
        return Event(payload, "location")

    def _contacts(self, c: _Conversation, at: int) -> Event:
        other = self.random.choice([n for n in CLIENT_NAMES[c.language] if n != c.client[1]])
        first, _, last = other.partition(" ")
        phone = f"+{mobile_number(c.language, 5_550_101)}"
        card = {"name": {"first_name": first, "last_name": last, "formatted_name": other},
                "phones": [{"phone": phone, "type": "CELL"}]}  # fmt: skip
        e = c.employee
        payload = shapes.inbound(e.phone_number_id, e.display_number, self._wamid(), at,
                                 c.client, "contacts", [card])  # fmt: skip
        return Event(payload, "contact card")
