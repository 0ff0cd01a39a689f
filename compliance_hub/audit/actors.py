"""Who acted: the one value every service receives as ``actor``.

The edge (a view, an API view, a management command, a Celery task, a signal receiver that
answers a request) builds an :class:`Actor` once and passes it down; services, selectors and
the audit trail never see the request. The actor carries everything the audit trail and the
consent evidence write about the acting party: the person or API key, the label the trail
shows, and the client's address and user agent as the edge saw them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest

from compliance_hub.accounts.models import User, person_or_none

if TYPE_CHECKING:
    from compliance_hub.api.models import ApiKey

SYSTEM_LABEL = "system"
API_KEY_PREFIX = "api-key:"
COMMAND_PREFIX = "cli:"
EMPLOYEE_LINK_PREFIX = "employee:"  # consent.Employee.audit_label: the employee's own emailed links
# The audit trail's column widths (AuditEvent.actor_label, .user_agent).
LABEL_LENGTH = 254
USER_AGENT_LENGTH = 512


class ActorKind(StrEnum):
    USER = "user"  # a signed-in person (or a person on whose behalf a task runs)
    API_KEY = "api_key"  # a machine holding one of the tenant's API keys
    SYSTEM = "system"  # beat, a worker, a command run without a person
    LINK = "link"  # a person without an account, through an emailed link (an employee consenting)
    VISITOR = "visitor"  # someone not signed in: a login attempt, a throttled address


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: the one rule for the audit trail, the consent evidence and the
    login limits (allauth asks our adapter). X-Forwarded-For is trusted only when proxies in
    front of us are declared (settings.TRUSTED_PROXY_COUNT, which also sets allauth's
    ALLAUTH_TRUSTED_PROXY_COUNT), since a client can write the header itself: the client is
    the address the outermost of our proxies saw, the COUNT-th from the right."""
    if request is None:
        return None
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops and _valid_address(chain[-hops]):
            return chain[-hops]
    address = request.META.get("REMOTE_ADDR") or ""
    return address if _valid_address(address) else None


def _valid_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _user_agent(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_LENGTH]


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who acted, and from where. Build it with one of the constructors below, at the edge."""

    kind: ActorKind
    label: str  # what the audit trail shows: an email, ``api-key:PREFIX``, ``system``, ...
    user: User | None = None
    api_key: ApiKey | None = None
    ip_address: str | None = None
    user_agent: str = ""

    def __post_init__(self) -> None:
        # The trail's column is 254 characters; cut here so every reader sees what is stored.
        object.__setattr__(self, "label", self.label[:LABEL_LENGTH])

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        """The signed-in person or the API key of a view's or API view's request (for DRF,
        pass ``request._request``: ApiKeyAuthentication puts the key there)."""
        address, agent = client_ip(request), _user_agent(request)
        user = person_or_none(getattr(request, "user", None))
        if user is not None:
            return cls(
                kind=ActorKind.USER,
                label=user.email,
                user=user,
                ip_address=address,
                user_agent=agent,
            )
        api_key: ApiKey | None = getattr(request, "api_key", None)
        if api_key is not None:
            person = person_or_none(api_key.user) if api_key.user_id is not None else None
            return cls(
                kind=ActorKind.API_KEY,
                # A key issued for a member acts as them: the trail names both.
                label=f"{person}, through API key '{api_key.name}'"
                if person is not None
                else f"{API_KEY_PREFIX}{api_key.prefix}",
                user=person,
                api_key=api_key,
                ip_address=address,
                user_agent=agent,
            )
        raise ValueError("Nobody is signed in on this request: use Actor.visitor or link_visitor.")

    @classmethod
    def link_visitor(cls, request: HttpRequest | None, *, label: str) -> Actor:
        """A person without an account, acting through the token of an emailed link (an
        employee consenting at /consent/r/ or withdrawing at /consent/w/). ``label`` names them
        for the trail (``employee:E-123``); no account is theirs even if a user is signed in.
        Without a request (the demo's seeded answers) there is no address."""
        return cls(
            kind=ActorKind.LINK,
            label=label,
            ip_address=client_ip(request),
            user_agent=_user_agent(request),
        )

    @classmethod
    def visitor(cls, request: HttpRequest, *, label: str, user: User | None = None) -> Actor:
        """Someone not signed in (yet): a login attempt, labelled with the address typed, and
        ``user`` the account it named when there is one; a throttled address."""
        return cls(
            kind=ActorKind.VISITOR,
            label=label,
            user=person_or_none(user),
            ip_address=client_ip(request),
            user_agent=_user_agent(request),
        )

    @classmethod
    def system(cls) -> Actor:
        """The platform itself: beat, a worker, a signal no person caused."""
        return cls(kind=ActorKind.SYSTEM, label=SYSTEM_LABEL)

    @classmethod
    def command(cls, label: str = SYSTEM_LABEL) -> Actor:
        """A management command run from the shell. The platform commands (create_tenant,
        invite, create_api_key, ...) have always written ``system``; the archive and replay
        commands name themselves (``cli:rotate_log_key``, ``verify_archive``)."""
        return cls(kind=ActorKind.SYSTEM, label=label)

    @classmethod
    def task(cls, *, user: User | None) -> Actor:
        """A Celery task: on behalf of the person who queued the work when there was one (the
        trail shows them, without an address: the worker has none), else the system."""
        person = person_or_none(user)
        return cls.system() if person is None else cls.for_user(person)

    @classmethod
    def for_user(cls, user: User, request: HttpRequest | None = None) -> Actor:
        """A person the edge knows other than as the request's signed-in user: the signals of
        signing in and out and of two-factor changes (allauth sends the user along), a queued
        task, the demo seeded in the demo admin's name (no request: no address)."""
        return cls(
            kind=ActorKind.USER,
            label=user.email,
            user=person_or_none(user),
            ip_address=client_ip(request),
            user_agent=_user_agent(request),
        )


def describe_label(label: str) -> str:
    """An actor label as a page says it: ``api-key:1a2b3c`` reads "API key 1a2b3c",
    ``cli:dispose_records`` "the dispose_records command", ``system`` "Compliance Hub". The stored
    labels stay terse (they are matched and filtered on); only their display changes here."""
    if label.startswith(API_KEY_PREFIX):
        return f"API key {label.removeprefix(API_KEY_PREFIX)}"
    if label.startswith(COMMAND_PREFIX):
        return f"the {label.removeprefix(COMMAND_PREFIX)} command"
    if label.startswith(EMPLOYEE_LINK_PREFIX):
        return f"employee {label.removeprefix(EMPLOYEE_LINK_PREFIX)}, through their emailed link"
    if label == SYSTEM_LABEL:
        return "Compliance Hub"
    return label
