"""Tenants created before the consent app existed get the default notice as version 1, as every
new tenant does."""

import hashlib
import json

from django.db import migrations
from django.utils import timezone

from consent.notice_templates import DEFAULT_NOTICE, LANGUAGES, render_notice


def publish_default_notices(apps, schema_editor):
    Tenant = apps.get_model("compliance_hub", "Tenant")
    ConsentNotice = apps.get_model("consent", "ConsentNotice")
    connection = schema_editor.connection
    for tenant in Tenant.objects.all():
        with connection.cursor() as cursor:
            # Row-level security binds the owner too (FORCE): act as this tenant.
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
        if ConsentNotice.objects.filter(tenant=tenant, status="published").exists():
            continue
        texts = {
            lang: render_notice(DEFAULT_NOTICE[lang], firm_name=tenant.name) for lang in LANGUAGES
        }
        canonical = json.dumps(texts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        ConsentNotice.objects.create(
            tenant=tenant,
            status="published",
            version=1,
            texts=texts,
            content_sha256=hashlib.sha256(canonical.encode()).hexdigest(),
            published_at=timezone.now(),
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial"), ("compliance_hub", "0001_initial")]

    operations = [migrations.RunPython(publish_default_notices, migrations.RunPython.noop)]
