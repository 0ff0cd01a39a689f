"""Post realistic, signed WhatsApp webhooks for a tenant's employees through the real endpoint,
so a demo fills up with conversations, alerts and dashboards as a newcomer watches. Not in
production: it signs with the tenant's own app secret."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent.models import Employee
from consent.selectors import is_covered_now
from ingestion.models import WhatsAppSettings
from ingestion.simulation.media_server import MediaShelf, serve
from ingestion.simulation.script import Employee as Simulated
from ingestion.simulation.script import Event, Simulation
from ingestion.whatsapp.signature import sign

MAX_RATE = 200.0  # webhooks a second; a demo needs a few, a benchmark has its own tools
REPORT_EVERY = 10.0  # seconds


def _positive(kind: Callable[[str], float], name: str, top: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = kind(value)
        except ValueError:
            raise CommandError(f"{name} must be a number, not {value!r}") from None
        if not 0 < number <= top:
            raise CommandError(f"{name} must be above 0 and at most {top:g}")
        return number

    return parse


class Command(BaseCommand):
    help = (
        "Send realistic signed WhatsApp webhooks for the tenant's employees to the running "
        "server (texts both ways in Portuguese, Spanish, English and Hinglish, replies, "
        "reactions, edits, deletions, pictures, voice notes, documents, locations, contacts, "
        "receipts, and a few risky lines). Not in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the tenant, e.g. demo")
        parser.add_argument("--rate", type=_positive(float, "--rate", MAX_RATE), default=5.0,
                            help="webhooks a second (default 5)")  # fmt: skip
        parser.add_argument("--count", type=_positive(int, "--count", 10_000_000),
                            help="stop after this many (default: run until Ctrl-C)")  # fmt: skip
        parser.add_argument("--url", default="http://127.0.0.1:8000",
                            help="the running server (default http://127.0.0.1:8000)")  # fmt: skip
        parser.add_argument(
            "--seed", type=int, default=None,
            help="the same seed sends the same traffic (default: the clock)",
        )  # fmt: skip
        parser.add_argument(
            "--no-media", action="store_true", help="send no pictures, voice notes or documents"
        )
        parser.add_argument(
            "--linger", type=float, default=30.0,
            help="seconds to keep serving media after the last webhook",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.IS_PRODUCTION:
            raise CommandError("simulate sends made-up messages; it refuses to run in production.")
        if not options["url"].startswith(("http://", "https://")):
            raise CommandError("--url must start with http:// or https://")
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"There is no tenant {options['slug']!r}.")
        secret, employees = _tenant_setup(tenant)
        shelf = MediaShelf()
        server = None if options["no_media"] else serve(shelf)
        media_base = None if server is None else f"http://127.0.0.1:{server.server_address[1]}"
        seed = options["seed"] if options["seed"] is not None else int(time.time())
        simulation = Simulation(employees, seed=seed, media_base_url=media_base)
        endpoint = f"{options['url'].rstrip('/')}/webhooks/whatsapp/{tenant.slug}/"
        self.stdout.write(
            f"Sending {options['rate']:g} webhooks a second for {len(employees)} employees of "
            f"{tenant.name} to {endpoint} (seed {seed}; Ctrl-C stops)."
        )
        sender = _Sender(endpoint, secret, shelf)
        try:
            self._run(simulation, sender, options["rate"], options["count"])
        except KeyboardInterrupt:
            pass
        finally:
            self.stdout.write(sender.summary())
            if server is not None and sender.media:
                self.stdout.write(f"Serving media {options['linger']:g} s more for the worker.")
                with contextlib.suppress(KeyboardInterrupt):
                    time.sleep(max(0.0, options["linger"]))
                server.shutdown()

    def _run(self, simulation: Simulation, sender: _Sender, rate: float, count: int | None) -> None:
        interval = 1.0 / rate
        next_at = time.monotonic()
        last_report = next_at
        while count is None or sender.sent < count:
            sender.send(simulation.next(int(time.time())))
            now = time.monotonic()
            if now - last_report >= REPORT_EVERY:
                self.stdout.write(sender.summary())
                last_report = now
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))


def _tenant_setup(tenant: Tenant) -> tuple[str, list[Simulated]]:
    with tenant_scope(tenant):
        whatsapp = WhatsAppSettings.objects.filter(tenant=tenant).first()
        secret = whatsapp.app_secret if whatsapp else ""
        rows = list(
            Employee.objects.filter(active=True).exclude(whatsapp_phone_number_id="")
            .order_by("pk")
        )  # fmt: skip
        # Mostly those who consented (their messages are archived and scanned); now and then
        # the others, whose messages the gate refuses, as it would in a real firm.
        employees = [
            Simulated(
                phone_number_id=row.whatsapp_phone_number_id,
                display_number="".join(ch for ch in row.phone_number if "0" <= ch <= "9"),
                region=row.region or "",
                weight=1.0 if is_covered_now(row) else 0.05,
            )
            for row in rows
        ]
    if not secret:
        raise CommandError(
            f"{tenant.name} has no WhatsApp app secret yet: set it on the WhatsApp settings page "
            "(or with set_whatsapp) first, so the webhooks can be signed."
        )
    if not employees:
        raise CommandError(f"No active employee of {tenant.name} has a WhatsApp number.")
    return secret, employees


class _Sender:
    def __init__(self, endpoint: str, secret: str, shelf: MediaShelf) -> None:
        self.endpoint, self.secret, self.shelf = endpoint, secret, shelf
        self.sent = self.acknowledged = self.refused = self.unreachable = 0
        self.media = self.risky = 0

    def send(self, event: Event) -> None:
        if event.media is not None:
            self.shelf.put(event.media_id, event.media)
            self.media += 1
        self.risky += bool(event.risky)
        body = json.dumps(event.payload, ensure_ascii=False, separators=(",", ":")).encode()
        request = urllib.request.Request(  # noqa: S310 (--url is checked to be http(s))
            self.endpoint, data=body, method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "facebookexternalua",
                     "X-Hub-Signature-256": sign(body, self.secret)},
        )  # fmt: skip
        self.sent += 1
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310  # --url is checked to be http(s)
                response.read()
            self.acknowledged += 1
        except urllib.error.HTTPError as error:
            self.refused += 1
            if self.refused <= 3:
                print(f"the server answered {error.code} to a webhook ({event.what})")
        except (urllib.error.URLError, OSError):
            self.unreachable += 1
            time.sleep(1.0)  # the server may be starting or restarting

    def summary(self) -> str:
        return (
            f"sent {self.sent}, acknowledged {self.acknowledged}, refused {self.refused}, "
            f"unreachable {self.unreachable} (media {self.media}, risky lines {self.risky})"
        )
