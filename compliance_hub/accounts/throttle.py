"""Failed-login limits and their lock-outs.

allauth counts failed passwords per address and per account (its ``login_failed`` action); we add
a limit per address and account together (``login_failed_address_account``), so the person who
keeps mistyping their own password is stopped early while colleagues behind the same office
address are not: the per-address ceiling alone is set much higher (settings.ACCOUNT_RATE_LIMITS).

The counting stays allauth's (its Redis-backed sliding windows); this module only reads those
windows back to say *until when* an attempt is refused, which allauth does not expose. It uses
allauth's internal rate-limit helpers for that (pinned version; tests/test_login_throttle.py
fails if they change).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from allauth.core.internal.ratelimit import RateLimitUsage, consume, get_cache_key, get_rates
from django.core.cache import cache
from django.http import HttpRequest

from compliance_hub.audit.actors import Actor, client_ip
from compliance_hub.audit.services import record_event

APP = "allauth.account"
LOGIN_FAILED = "login_failed"  # allauth's: per address ("ip") and per account ("key")
LOGIN_FAILED_ADDRESS_ACCOUNT = "login_failed_address_account"  # ours: key = address + account


# What each limit counts, as the audit trail shows it.
LIMIT_WORDS = {
    "address_account": "failed sign-ins of this account from one address",
    "account": "failed sign-ins of this account from any address",
    "address": "failed sign-ins from one address, whatever the account",
}


@dataclass(frozen=True)
class Lockout:
    """Why an attempt was refused: ``scope`` is "address_account", "account" or "address"."""

    scope: str
    until: datetime
    failed_attempts: int

    def message(self) -> str:
        whom = {
            "address_account": "this account from your network",
            "account": "this account",
            "address": "your network",
        }[self.scope]
        minutes = max(1, round((self.until.timestamp() - time.time()) / 60))
        return (
            f"Sign-in for {whom} is paused for a few minutes after too many wrong passwords, "
            f"to protect the account. Please try again at {self.until:%H:%M} UTC (in about "
            f"{minutes} minute{'s' if minutes != 1 else ''})."
        )


def address_account_key(request: HttpRequest, email: str) -> str:
    return f"{client_ip(request) or ''}|{email}"


def consume_address_account(request: HttpRequest, *, email: str) -> RateLimitUsage | None:
    """Count one attempt against the address+account limit; None when it is used up."""
    return consume(
        request,
        app=APP,
        action=LOGIN_FAILED_ADDRESS_ACCOUNT,
        key=address_account_key(request, email),
    )


def _refused_until(
    request: HttpRequest, *, action: str, key: str | None, pers: tuple[str, ...]
) -> list[tuple[float, int, str]]:
    """(free-again timestamp, attempts in the window, rate's per) of each used-up rate."""
    now = time.time()
    found = []
    for rate in get_rates(app=APP, action=action):
        if rate.per not in pers:
            continue
        cache_key = get_cache_key(request, app=APP, action=action, rate=rate, key=key)
        # allauth keeps each window's timestamps newest first.
        history = [ts for ts in cache.get(cache_key, []) if ts > now - rate.duration]
        if len(history) >= rate.amount:
            found.append((history[rate.amount - 1] + rate.duration, len(history), rate.per))
    return found


def lockout(request: HttpRequest, *, email: str, account_key: str) -> Lockout:
    """The limit that refuses ``email``'s next attempt from this address, and until when."""
    candidates = [
        (until, count, "address_account")
        for until, count, _ in _refused_until(
            request,
            action=LOGIN_FAILED_ADDRESS_ACCOUNT,
            key=address_account_key(request, email),
            pers=("key",),
        )
    ]
    candidates += [
        (until, count, "account" if per == "key" else "address")
        for until, count, per in _refused_until(
            request, action=LOGIN_FAILED, key=account_key, pers=("key", "ip")
        )
    ]
    if not candidates:  # the window closed in between: a short pause is the honest answer
        candidates = [(time.time() + 60, 0, "address_account")]
    until, count, scope = max(candidates)
    return Lockout(scope=scope, until=datetime.fromtimestamp(until, tz=UTC), failed_attempts=count)


def record_lockout(request: HttpRequest, *, lock: Lockout, email: str) -> None:
    """One audit entry per lock-out window (per address, account, or both), however many
    attempts the window refuses: the trail is append-only, and anyone on the internet can
    make attempts."""
    from .adapter import record_for_user_tenants

    address = client_ip(request) or ""
    subject = {"address": address, "account": email, "address_account": f"{address}|{email}"}
    digest = hashlib.sha256(subject[lock.scope].encode()).hexdigest()
    seconds = max(1, int(lock.until.timestamp() - time.time()) + 1)
    if not cache.add(f"ch:lockout-audited:{lock.scope}:{digest}", 1, timeout=seconds):
        return
    details = {
        "limit": LIMIT_WORDS[lock.scope],
        "failed_attempts": lock.failed_attempts,
        "locked_until": lock.until.isoformat(timespec="seconds"),
    }
    if lock.scope == "address":
        # The whole address is paused, whoever it was trying: the platform's trail.
        record_event(
            "auth.login_throttled",
            tenant=None,
            actor=Actor.visitor(request, label=f"address {address}"),
            details=details,
        )
    else:
        record_for_user_tenants(
            "auth.login_throttled",
            email=email,
            actor=Actor.visitor(request, label=email),
            details=details,
        )


def paused_until(request: HttpRequest) -> datetime:
    """For allauth's 429 page: when the used-up limits of this address (or signed-in person)
    free up. Limits counted per email address cannot be told from here; they all last a minute
    or less, which is the answer when nothing else is found."""
    from allauth.account import app_settings

    pers = ("ip", "user") if request.user.is_authenticated else ("ip",)
    ends = [
        until
        for action in app_settings.RATE_LIMITS
        for until, _, _ in _refused_until(request, action=action, key=None, pers=pers)
    ]
    return datetime.fromtimestamp(max(ends, default=time.time() + 60), tz=UTC)
