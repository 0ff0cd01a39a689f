"""Slow clients and floods against the product behind nginx (issue 13), and what Meta and a
load balancer see meanwhile.

Three attacks, each from a few loopback addresses (127.0.0.2, .3, ...: Linux routes all of
127/8 to this machine, so nginx sees each as a different client):

- slow bodies: connections that announce a body and trickle it, a byte every few seconds (never
  long enough apart for nginx's per-read timeout);
- idle keep-alive: connections that make one request and then sit, open, doing nothing;
- a login flood: wrong passwords for existing and unknown email addresses, as fast as a few
  client threads can post them.

While each runs, a ``Watch`` sends a signed webhook delivery and a GET /healthz a few times a
second from 127.0.0.1, each on a new connection (a client arriving during the attack), and
records every answer's status and time. Used by tests/test_floods.py (small sizes) and
bench/floods.py (the issue's sizes); stdlib only, so both can run it.
"""

from __future__ import annotations

import http.client
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field

ATTACKERS = tuple(f"127.0.0.{n}" for n in range(2, 10))
WATCHER = "127.0.0.1"
TIMEOUT = 30.0  # seconds a watched request may take before it counts as unanswered


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


@dataclass
class Answers:
    """Every answer one watched endpoint gave: HTTP status (0: none in time) and seconds."""

    name: str
    statuses: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statuses)

    @property
    def success_share(self) -> float:
        return sum(200 <= s < 300 for s in self.statuses) / self.count if self.count else 0.0

    @property
    def failures(self) -> list[int]:
        """Statuses that were not 2xx (5xx, or 0 for no answer)."""
        return [s for s in self.statuses if not 200 <= s < 300]

    @property
    def p99_ms(self) -> float:
        return percentile(self.seconds, 99) * 1000

    def words(self) -> str:
        return (f"{self.name} {self.success_share:.1%} of {self.count} answered 2xx, "
                f"p99 {self.p99_ms:.0f} ms")  # fmt: skip


@dataclass(frozen=True)
class Delivery:
    """How the watch signs a webhook delivery: the path and a function making the n-th body and
    its headers."""

    path: str
    make: Callable[[int], tuple[bytes, dict[str, str]]]


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None, *,
             source: str = WATCHER) -> int:  # fmt: skip
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=TIMEOUT, source_address=(source, 0)
    )
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        response.read()
        return int(response.status)
    except OSError:
        return 0
    finally:
        conn.close()


class Watch:
    """Webhook deliveries and /healthz, each ``every`` seconds on a new connection, until
    stopped; ``webhook`` and ``health`` hold the answers."""

    def __init__(self, port: int, delivery: Delivery, *, every: float = 0.2) -> None:
        self.port, self.delivery, self.every = port, delivery, every
        self.webhook = Answers("webhook")
        self.health = Answers("/healthz")
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(self.webhook, self._post), daemon=True),
            threading.Thread(target=self._loop, args=(self.health, self._health), daemon=True),
        ]
        self._sent = 0

    def _post(self) -> int:
        self._sent += 1
        body, headers = self.delivery.make(self._sent)
        return _request(self.port, "POST", self.delivery.path, body, headers)

    def _health(self) -> int:
        return _request(self.port, "GET", "/healthz")

    def _loop(self, answers: Answers, call: Callable[[], int]) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            status = call()
            answers.statuses.append(status)
            answers.seconds.append(time.monotonic() - started)
            self._stop.wait(max(0.0, self.every - (time.monotonic() - started)))

    def wait(self, *, answers: int, at_least: float, timeout: float = 180.0) -> None:
        """Return when both endpoints have ``answers`` answers (answered or timed out) and
        ``at_least`` seconds have passed since the watch began; on a loaded machine the first
        takes longer than the second."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            enough = min(self.webhook.count, self.health.count) >= answers
            if enough and time.monotonic() - self._started >= at_least:
                return
            time.sleep(0.05)
        raise TimeoutError(f"fewer than {answers} answers from each watched endpoint in time")

    def __enter__(self) -> Watch:
        self._started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(TIMEOUT + 5)


@dataclass
class Outcome:
    """One probe's figures."""

    attack: str
    watch: Watch
    audit_rows: int
    seconds: float
    notes: str = ""

    def line(self) -> str:
        return (f"flood: {self.attack}: {self.watch.webhook.words()}; "
                f"{self.watch.health.words()}; audit trail +{self.audit_rows} rows; "
                f"{self.seconds:.0f} s{'; ' + self.notes if self.notes else ''}")  # fmt: skip


def _connect(port: int, source: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT,
                                    source_address=(source, 0))  # fmt: skip


def _still_open(sock: socket.socket) -> bool:
    """True while the server has neither closed nor answered the connection."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)  # b"": closed; anything else: answered (408, 413...)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)
    return False


@contextmanager
def slow_bodies(port: int, path: str, *, count: int, announced: int, addresses: int = 4,
                trickle_every: float = 3.0) -> Iterator[Callable[[], int]]:  # fmt: skip
    """``count`` connections that announce ``announced`` bytes of body to ``path`` and send one
    byte every ``trickle_every`` seconds for as long as the block runs. Yields a function that
    counts the ones the server still holds open."""
    sources = ATTACKERS[:addresses]
    with ExitStack() as stack:
        socks: list[socket.socket] = []
        for n in range(count):
            try:
                sock = stack.enter_context(_connect(port, sources[n % len(sources)]))
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {announced}\r\n\r\n{{"
                    .encode()
                )  # fmt: skip
            except OSError:
                continue  # refused: the server protected itself; counted as not held
            socks.append(sock)
        stop = threading.Event()

        def trickle() -> None:
            while not stop.wait(trickle_every):
                for sock in socks:
                    with suppress(OSError):  # dropped by the server: it protected itself
                        sock.send(b" ")

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        try:
            yield lambda: sum(_still_open(sock) for sock in socks)
        finally:
            stop.set()
            thread.join(trickle_every + 5)


@contextmanager
def idle_keepalive(port: int, *, count: int, addresses: int = 4) -> Iterator[Callable[[], int]]:
    """``count`` connections that each make one keep-alive request (GET /healthz) and then sit
    idle for as long as the block runs. Yields a function counting those still open."""
    sources = ATTACKERS[:addresses]
    with ExitStack() as stack:
        socks: list[socket.socket] = []
        for n in range(count):
            source = sources[n % len(sources)]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT,
                                              source_address=(source, 0))  # fmt: skip
            stack.callback(conn.close)
            try:
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                continue
            if conn.sock is not None:  # kept alive
                socks.append(conn.sock)
        yield lambda: sum(_still_open(sock) for sock in socks)


@dataclass
class LoginFlood:
    """What the login flood's own requests got: status -> count."""

    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def attempts(self) -> int:
        return sum(self.statuses.values())

    def words(self) -> str:
        parts = ", ".join(f"{n} x {s or 'no answer'}" for s, n in sorted(self.statuses.items()))
        return (f"{self.attempts} attempts in {self.seconds:.0f} s "
                f"({self.attempts / max(self.seconds, 1e-9):.0f}/s): {parts}")  # fmt: skip


_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def _sign_in_form(port: int, source: str) -> tuple[str, str]:
    """(csrftoken cookie, form token) from the login page, as a browser gets them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT,
                                      source_address=(source, 0))  # fmt: skip
    try:
        conn.request("GET", "/accounts/login/", headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        page = response.read()
        cookie = ""
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("csrftoken="):
                cookie = value.split(";", 1)[0].split("=", 1)[1]
        match = _TOKEN.search(page)
        if response.status != 200 or not cookie or not match:
            raise RuntimeError(f"no sign-in form from the login page ({response.status})")
        return cookie, match.group(1).decode()
    finally:
        conn.close()


def login_flood(port: int, *, attempts: int, existing: list[str], addresses: int = 4,
                threads: int = 16, seconds: float | None = None) -> LoginFlood:  # fmt: skip
    """``attempts`` wrong-password sign-ins from ``addresses`` addresses over ``threads``
    keep-alive connections: every other one for an address in ``existing``, the rest for
    addresses nobody has. ``seconds``: no new attempt after that long (each thread waits for
    its answer, so on a loaded machine the attempts can take hours)."""
    from urllib.parse import urlencode

    sources = ATTACKERS[:addresses]
    forms = {source: _sign_in_form(port, source) for source in sources}
    result = LoginFlood()
    lock = threading.Lock()
    counter = iter(range(attempts))
    started = time.monotonic()

    def worker(source: str) -> None:
        cookie, token = forms[source]
        conn: http.client.HTTPConnection | None = None
        for n in counter:
            if seconds is not None and time.monotonic() - started > seconds:
                break
            email = existing[n % len(existing)] if n % 2 == 0 else f"nobody{n}@flood.example"
            body = urlencode({"login": email, "password": f"wrong-password-{n}",
                              "csrfmiddlewaretoken": token}).encode()  # fmt: skip
            status = 0
            for _ in range(2):  # a kept-alive connection the server closed: once more, anew
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                                      source_address=(source, 0))  # fmt: skip
                try:
                    conn.request("POST", "/accounts/login/", body=body, headers={
                        "Host": "127.0.0.1", "Cookie": f"csrftoken={cookie}",
                        "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
                    response = conn.getresponse()
                    response.read()
                    status = int(response.status)
                    if response.will_close:
                        conn.close()
                        conn = None
                    break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = None
            with lock:
                result.statuses[status] = result.statuses.get(status, 0) + 1
        if conn is not None:
            conn.close()

    workers = [threading.Thread(target=worker, args=(sources[n % len(sources)],), daemon=True)
               for n in range(threads)]  # fmt: skip
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    result.seconds = time.monotonic() - started
    return result


def posts(port: int, path: str, *, count: int, source: str, threads: int = 10) -> LoginFlood:
    """``count`` bare POSTs (no form, no cookie) to ``path`` from ``source``, ``threads`` at a
    time, each on a new connection: what nginx lets through, and what it refuses."""
    from concurrent.futures import ThreadPoolExecutor

    result = LoginFlood()
    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(lambda _n: _request(port, "POST", path, b"", source=source),
                                 range(count)))  # fmt: skip
    result.seconds = time.monotonic() - started
    for status in statuses:
        result.statuses[status] = result.statuses.get(status, 0) + 1
    return result


def audit_bound(*, addresses: int, seconds: float, rates: dict[str, str],
                limits: dict[str, int] | None = None,
                tenants_per_account: int = 1) -> int:  # fmt: skip
    """The most rows a sign-in flood from ``addresses`` addresses lasting ``seconds`` may add to
    the audit trail. Two walls, the smaller bound wins:

    - the application's limits (settings.ACCOUNT_RATE_LIMITS, compliance_hub/accounts/
      throttle.py): a failed sign-in writes a row (one per firm of the account) only while its
      address is under its ceiling, ``ip`` failures a window; past a limit an attempt is refused
      before the password is checked and written once per lock-out, not once per attempt: per
      address and window one lock-out of the address, at most ``ip / address_account`` of one
      account from it and ``ip / account`` of an account (each needs that many failures);
    - nginx's (``limits``, tests/proxied.py nginx_limits): it passes on at most ``burst + rate x
      seconds`` sign-in POSTs per address and overall, and each writes at most one row per firm.
    429 pages, nginx's refusals and the sign-in page itself write nothing."""
    from allauth.core.internal.ratelimit import parse_rates

    per_address = next(r for r in parse_rates(rates["login_failed"]) if r.per == "ip")
    per_account = next(r for r in parse_rates(rates["login_failed"]) if r.per == "key")
    [per_pair] = parse_rates(rates["login_failed_address_account"])
    windows = math.ceil(max(seconds, 1.0) / per_address.duration)
    failures = per_address.amount
    lockouts = 1 + failures // per_pair.amount + failures // per_account.amount
    application = windows * addresses * tenants_per_account * (failures + lockouts)
    if limits is None:
        return application
    return min(application, passed_on(addresses=addresses, seconds=seconds, limits=limits)
               * tenants_per_account)  # fmt: skip


def passed_on(*, addresses: int, seconds: float, limits: dict[str, int]) -> int:
    """The most sign-in POSTs nginx passes on to the application from ``addresses`` addresses
    in ``seconds``: its buckets let the first burst + 1 through at once, then ``rate`` a
    second, per address and overall."""
    return min(
        addresses * (limits["sign_in_burst_per_address"] + 1
                     + math.ceil(limits["sign_in_rate_per_address"] * seconds)),
        limits["sign_in_burst_overall"] + 1
        + math.ceil(limits["sign_in_rate_overall"] * seconds),
    )  # fmt: skip
