"""``manage.py replay_deliveries SLUG [--since ISO] [--until ISO]
[--status processed|failed|unparseable|pending|all]``: process a tenant's stored deliveries
again, oldest first, and print what that added.

Idempotent: messages, events and calls are unique on their WhatsApp ids, refusals and notices
on their keys, so replaying what was already processed adds nothing. A delivery whose refused
content was redacted replays safely: the redacted items have no content left and are skipped.
A delivery a worker is processing at this moment is skipped (and counted), never waited for.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.management.commands._helpers import tenant_by_slug
from compliance_hub.tenancy.context import tenant_scope
from ingestion.models import Delivery
from ingestion.processing import process_claimed

STATUSES = [*Delivery.Status.values, "all"]
# Summary keys of process_delivery that count what a run added.
ADDED = {
    "archived_messages": "messages",
    "archived_events": "events",
    "archived_calls": "calls",
    "notices": "notices raised",
}


def moment(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 date or date-time; without a zone it is UTC."""
    if value is None:
        return None
    value = value.strip()
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(f"{option}: {value!r} is not an ISO 8601 date or date-time.")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Process a tenant's stored WhatsApp deliveries again (idempotent: nothing is archived "
        "twice) and print what was added."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--since", help="Received at or after (ISO 8601; UTC if no zone)")
        parser.add_argument("--until", help="Received before (ISO 8601; UTC if no zone)")
        parser.add_argument(
            "--status", choices=STATUSES, default="all", help="Which deliveries (default: all)"
        )

    def handle(self, *args, slug: str, **options) -> None:
        since = moment(options.get("since"), "--since")
        until = moment(options.get("until"), "--until")
        if since and until and since >= until:
            raise CommandError("--since must be before --until.")
        status = options["status"]
        tenant = tenant_by_slug(slug)

        with tenant_scope(tenant):
            chosen = Delivery.objects.filter(tenant=tenant)
            if status != "all":
                chosen = chosen.filter(status=status)
            if since:
                chosen = chosen.filter(received_at__gte=since)
            if until:
                chosen = chosen.filter(received_at__lt=until)
            ids = list(chosen.order_by("received_at", "id").values_list("pk", flat=True))

        replayed: Counter[str] = Counter()  # status before the replay
        added: Counter[str] = Counter()
        refused = redacted = busy = errors = 0
        for pk in ids:
            with tenant_scope(tenant):
                delivery = (
                    Delivery.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
                )
                if delivery is None:
                    busy += 1  # a worker holds it right now (or it is gone)
                    continue
                before = delivery.status
                # The drain's own service: the same savepoint and the same failure record.
                outcome = process_claimed(tenant=tenant, claim=delivery)
            if outcome.summary is None:
                errors += 1
                self.stderr.write(f"Delivery {pk} failed: {outcome.error}")
                continue
            summary = outcome.summary
            replayed[before] += 1
            for key, label in ADDED.items():
                added[label] += int(summary.get(key, 0))
            refused += int(summary.get("refused", 0))
            redacted += int(summary.get("redacted_skipped", 0))

        total = sum(replayed.values())
        details = {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "status": status,
            "replayed": total,
            "by_status": dict(replayed),
            "added": dict(added),
            "skipped_busy": busy,
            "errors": errors,
        }
        record_event(
            "ingestion.deliveries_replayed",
            tenant=tenant,
            actor=Actor.command("cli:replay_deliveries"),
            target_label=f"{total} deliveries",
            details=details,
        )
        by_status = ", ".join(f"{name} {n}" for name, n in sorted(replayed.items())) or "none"
        self.stdout.write(
            f"Replayed {total} of {len(ids)} deliveries of {tenant.slug} ({by_status})."
        )
        self.stdout.write(
            "Added: "
            + ", ".join(f"{added[label]} {label}" for label in ADDED.values())
            + f". Refused by the consent gate: {refused} (metadata only, never twice)."
        )
        if redacted:
            self.stdout.write(
                f"Skipped {redacted} redacted items (refused before; no content left)."
            )
        if busy:
            self.stdout.write(f"Skipped {busy} deliveries being processed by a worker right now.")
        if errors:
            raise CommandError(f"{errors} deliveries failed; see above.")
