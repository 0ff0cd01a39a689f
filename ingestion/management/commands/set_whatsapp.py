"""``manage.py set_whatsapp SLUG [--app-secret S] [--verify-token T] [--access-token A]
[--waba-id ID ...]``: connect a tenant's Meta app from the shell. Prints the callback path and
which settings changed; never a secret."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from compliance_hub.audit.actors import Actor
from compliance_hub.management.commands._helpers import tenant_by_slug
from ingestion.services import (
    changed_settings,
    save_whatsapp_settings,
    saved_settings,
    whatsapp_settings,
)

# The command line's name of each setting (SETTING_LABELS names them in words).
OPTIONS = {
    "app_secret": "--app-secret",
    "verify_token": "--verify-token",
    "access_token": "--access-token",
    "waba_ids": "--waba-id",
}


class Command(BaseCommand):
    help = (
        "Set a tenant's WhatsApp connection (Meta app secret, verify token, access token, "
        "WhatsApp Business Account ids). Options left out keep their saved value."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--app-secret", dest="app_secret", help="Meta app secret")
        parser.add_argument("--verify-token", dest="verify_token", help="Webhook verify token")
        parser.add_argument(
            "--access-token", dest="access_token", help="System user access token (media)"
        )
        parser.add_argument(
            "--waba-id",
            dest="waba_ids",
            action="append",
            metavar="ID",
            help="WhatsApp Business Account id; repeat for several (replaces the saved list)",
        )

    def handle(self, *args, slug: str, **options) -> None:
        given = {name: options[name] for name in OPTIONS if options.get(name) is not None}
        if not given:
            raise CommandError(
                f"Give at least one of {', '.join(OPTIONS.values())}; the others keep their "
                "saved value."
            )
        for name, value in given.items():
            if name != "waba_ids" and value == "":
                raise CommandError(
                    f"{OPTIONS[name]} is empty; leave it out to keep the saved value."
                )
        tenant = tenant_by_slug(slug)
        before = saved_settings(whatsapp_settings(tenant=tenant))
        try:
            row = save_whatsapp_settings(tenant=tenant, actor=Actor.command(), **given)
        except ValidationError as error:
            problems = [
                f"{OPTIONS.get(name, name)}: {' '.join(messages)}"
                for name, messages in error.message_dict.items()
            ]
            raise CommandError("Nothing was changed. " + "; ".join(problems)) from None
        changed = changed_settings(before, saved_settings(row))
        self.stdout.write(
            f"Callback path for {tenant.slug}: "
            f"{reverse('ingestion:whatsapp_webhook', args=[tenant.slug])}"
        )
        self.stdout.write(
            "Prefix it with this server's https address and paste it into Meta's App Dashboard "
            "(WhatsApp → Configuration → Callback URL)."
        )
        if changed:
            self.stdout.write(f"Changed: {', '.join(changed)}.")
        else:
            self.stdout.write("Nothing changed: the given values were already saved.")
        if row.waba_ids:
            self.stdout.write(f"WhatsApp Business Account ids: {', '.join(row.waba_ids)}")
