"""An export written by several processes, one per range of conversations, is the same bag,
byte for byte, as one process writes; its progress still reaches the caller."""

from __future__ import annotations

import hashlib
import io

import billiard
import pytest
from django.db.models import Count

from archive.exporting.build import write_export
from archive.exporting.parts import conversation_ranges, detach_inherited_connections
from archive.models import Message
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.export_db import archive_for_export, request

pytestmark = pytest.mark.usefixtures("anchor_dir")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def export(tenant):
    out = io.BytesIO()
    with tenant_scope(tenant):
        rows = Message.objects.filter(tenant=tenant)
    calls = []
    result = write_export(
        tenant=tenant,
        request=request(("rsmf", "eml", "csv", "jsonl", "html")),
        messages=rows,
        out=out,
        progress=lambda done, total: calls.append((done, total)),
    )
    return result, out.getvalue(), calls


# The children read committed rows with their own connections: no test transaction around.
def test_an_export_in_two_processes_is_the_bag_one_process_writes(
    transactional_db, tenant_a, settings
):
    archive_for_export(tenant_a, messages=9)
    with tenant_scope(tenant_a):
        assert len(conversation_ranges(Message.objects.filter(tenant=tenant_a), 2)) == 2
    settings.EXPORT_PARTS, settings.EXPORT_PARTS_FROM = 1, 0
    alone, one, _ = export(tenant_a)
    settings.EXPORT_PARTS = 2
    split, two, calls = export(tenant_a)

    assert two == one
    assert split == alone
    assert calls[-1] == (9, 9)


def _export_in_a_daemon(tenant, results) -> None:
    detach_inherited_connections()
    try:
        _, data, _ = export(tenant)
        results.put(hashlib.sha256(data).hexdigest())
    except Exception as error:
        results.put(f"{type(error).__name__}: {error}")


def test_an_export_in_parts_runs_in_a_celery_prefork_worker(transactional_db, tenant_a, settings):
    # Celery's prefork pool runs tasks in daemonic processes, which multiprocessing forbids to
    # start children ("daemonic processes are not allowed to have children").
    archive_for_export(tenant_a, messages=9)
    settings.EXPORT_PARTS, settings.EXPORT_PARTS_FROM = 2, 0
    _, expected, _ = export(tenant_a)
    context = billiard.get_context("fork")
    results = context.Queue()
    pool_worker = context.Process(target=_export_in_a_daemon, args=(tenant_a, results))
    pool_worker.daemon = True
    pool_worker.start()
    answer = results.get(timeout=300)
    pool_worker.join()

    assert answer == hashlib.sha256(expected).hexdigest()


def test_ranges_cut_whole_conversations_of_about_equal_size(transactional_db, tenant_a):
    archive_for_export(tenant_a, messages=9)
    with tenant_scope(tenant_a):
        selected = Message.objects.filter(tenant=tenant_a)
        sizes = dict(selected.values_list("conversation_id").annotate(n=Count("id")))
        ranges = conversation_ranges(selected, 2)
        alone = conversation_ranges(selected, 1)

    assert alone == [(min(sizes), max(sizes))]
    assert [first for first, _ in ranges] == sorted(sizes)
