"""Browser pages of the archive: the list of conversations and one conversation read as in
WhatsApp. Views parse and call; every page that shows content records its read through the same
service as the API (:func:`archive.services.record_archive_read`)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_required
from compliance_hub.tenancy.walls import request_wall, walled_page

from .downloads import attachment_response, preview_response
from .exporting.selectors import EXPORT_ROLES
from .forms import ConversationFilterForm, MessageSearchForm
from .history import message_history
from .holds.selectors import held_by, holds_on
from .ledger.services import LogIntegrityError, NotInLog, inclusion_proof
from .models import Message
from .retention.selectors import conversation_restricted
from .search.cursors import open_cursor, seal_cursor
from .search.query import QueryError
from .search.selectors import search_messages
from .search.services import record_search
from .selectors import (
    READ_ROLES,
    attachment_conversation,
    conversation_list,
    conversation_messages,
    conversations,
    preview_kinds,
)
from .services import (
    AttachmentNotAvailable,
    AttachmentNotPreviewable,
    AttachmentTampered,
    download_attachment,
    preview_attachment,
    record_archive_read,
)
from .thread import bubbles, type_label

PAGE_SIZE = 50
SEARCH_PAGE_SIZE = 50


def _start_of(day) -> datetime:
    """Midnight of ``day`` in the user's time zone (the dates they typed are theirs)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _walled_attachment(request: TenantRequest, pk: int) -> bool:
    """Whether a masked officer asks for media outside the conversations they unmasked (a
    missing attachment is left to the view's 404, as for everyone)."""
    wall = request_wall(request)
    if not wall.closed:
        return False
    conversation_id = attachment_conversation(tenant=request.tenant, attachment_id=pk)
    return conversation_id is not None and not wall.opens(conversation_id)


@role_required(*READ_ROLES)
@require_GET
def conversation_list_page(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    if request_wall(request).closed:  # the list names employees and clients
        return walled_page(request)
    form = ConversationFilterForm(request.GET or None, tenant=tenant)
    filters: dict = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "employee_id": data["employee"].pk if data.get("employee") else None,
            "since": _start_of(data["since"]) if data.get("since") else None,
            "until": _start_of(data["until"] + timedelta(days=1)) if data.get("until") else None,
        }
    rows = conversation_list(tenant=tenant, **filters)
    if form.errors:
        rows = rows.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    record_archive_read(
        tenant=tenant,
        actor=Actor.from_request(request),
        endpoint=request.path,
        kind="conversation",
        ids=[row.pk for row in page.object_list],
        filters={k: str(v) for k, v in request.GET.items() if k != "page"},
        where="on the archive page",
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "archive/conversations.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@role_required(*READ_ROLES)
@require_GET
def conversation_page(request: TenantRequest, pk: int) -> HttpResponse:
    tenant = request.tenant
    conversation = conversations(tenant=tenant).filter(pk=pk).first()
    if conversation is None:
        raise Http404("No such conversation.")
    wall = request_wall(request)
    if not wall.opens(conversation.pk):
        return walled_page(request)
    rows = conversation_messages(tenant=tenant, conversation=conversation)
    holding = held_by(tenant=tenant, message_ids=[row.pk for row in rows])
    for row in rows:
        # Read by the template only ("Under legal hold: ..."), not a column.
        setattr(row, "legal_holds", holding.get(row.pk, []))  # noqa: B010
    attachments = [a for row in rows for a in row.attachments.all()]
    shown = preview_kinds(attachments)
    for attachment in attachments:
        # Read by the template only: which element shows it (None: the name and a download).
        setattr(attachment, "preview", shown.get(attachment.pk))  # noqa: B010
    client = conversation.counterparty_name or conversation.counterparty_wa_id or "The client"
    thread = bubbles(rows, employee_name=conversation.employee.full_name, client_name=client)
    record_archive_read(
        tenant=tenant, actor=Actor.from_request(request), endpoint=request.path, kind="message",
        ids=[row.pk for row in rows], filters={},
        # A masked officer is here through an alert they unmasked (its unmasking is audited).
        where="on a conversation page, through an alert they unmasked"
        if wall.closed
        else "on a conversation page",
    )  # fmt: skip
    return render(
        request,
        "archive/conversation.html",
        {
            "conversation": conversation,
            "client": client,
            "bubbles": thread,
            "restricted": conversation_restricted(tenant=tenant, conversation=conversation),
            "held_count": len(holding),
        },
    )


@role_required(*READ_ROLES)
@require_GET
def message_proof_page(request: TenantRequest, pk: int) -> HttpResponse:
    """The message's inclusion proof against the latest signed checkpoint (hashes, no content)."""
    tenant = request.tenant
    message = Message.objects.filter(tenant=tenant, pk=pk).first()
    if message is None:
        raise Http404("No such message.")
    if not request_wall(request).opens(message.conversation_id):
        return walled_page(request)
    proof, problem = None, ""
    try:
        proof = inclusion_proof(
            tenant=tenant, record_table=Message._meta.label_lower, record_id=message.pk
        )
    except NotInLog:
        problem = (
            "This message is not covered by a signed checkpoint yet. Checkpoints are signed "
            "every minute; try again shortly."
        )
    except LogIntegrityError:
        problem = (
            "The archive log no longer matches what it signed, so no proof can be shown. "
            "An operator must run the archive verification."
        )
    return render(
        request,
        "archive/proof.html",
        {
            "message": message,
            "proof": proof,
            "problem": problem,
            "holds": holds_on(tenant=tenant, message=message),
        },
    )


@role_required(*READ_ROLES)
@require_GET
def search_page(request: TenantRequest) -> HttpResponse:
    """The archive searched with the query language and filters; every search run (each page of
    it) is one ``archive.search`` event, through the same service as the API."""
    tenant = request.tenant
    if request_wall(request).closed:  # results name people; auditors search the archive
        return walled_page(request)
    form = MessageSearchForm(request.GET or None, tenant=tenant)
    found, next_link = None, ""
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"]
        criteria = form.criteria()
        given = {k: v for k, v in criteria.items() if v not in (None, "")}
        fingerprint = {"q": query, **given}
        token = request.GET.get("cursor")
        try:
            cursor = open_cursor(token, search=fingerprint) if token else None
        except QueryError as error:
            form.add_error(None, error.message)  # a page link, not the query, is at fault
            cursor = None
        try:
            if not form.errors:
                found = search_messages(
                    tenant=tenant,
                    query=query,
                    cursor=cursor,
                    page_size=SEARCH_PAGE_SIZE,
                    **criteria,
                )
        except QueryError as error:
            # Most of the parser's messages name the character themselves; say it once.
            named = "character" in error.message
            where = f" (at character {error.position})" if error.position and not named else ""
            form.add_error("q", error.message + where)
        if found is not None:
            record_search(
                tenant=tenant,
                actor=Actor.from_request(request),
                query=query,
                filters={
                    k: v.isoformat() if isinstance(v, datetime) else v for k, v in given.items()
                },
                count=found.count,
                message_ids=[hit.message.pk for hit in found.hits],
                endpoint=request.path,
            )
            if found.next_cursor:
                following = request.GET.copy()
                following["cursor"] = seal_cursor(found.next_cursor, search=fingerprint)
                next_link = following.urlencode()
    export_link = ""
    if found is not None and found.count and request.membership.role in EXPORT_ROLES:
        criteria_only = request.GET.copy()
        for name in ("cursor", "order"):
            criteria_only.pop(name, None)
        export_link = reverse("archive:export_new") + "?" + criteria_only.urlencode()
    return render(
        request,
        "archive/search.html",
        {"form": form, "found": found, "next_link": next_link,
         "first_page": not request.GET.get("cursor"), "export_link": export_link},
    )  # fmt: skip


@role_required(*READ_ROLES)
@require_GET
def message_history_page(request: TenantRequest, pk: int) -> HttpResponse:
    """One message's re-creation: as captured, every later change, and who has seen it."""
    tenant = request.tenant
    message = Message.objects.filter(tenant=tenant, pk=pk).select_related("conversation").first()
    if message is None:
        raise Http404("No such message.")
    if not request_wall(request).opens(message.conversation_id):
        return walled_page(request)
    history = message_history(tenant=tenant, message=message)
    record_archive_read(
        tenant=tenant, actor=Actor.from_request(request), endpoint=request.path, kind="message",
        ids=[message.pk], filters={}, where="on a message's history page",
    )  # fmt: skip
    return render(
        request,
        "archive/history.html",
        {
            "message": message,
            "history": history,
            "type_label": type_label(message.type),
            "holds": holds_on(tenant=tenant, message=message),
        },
    )


@role_required(*READ_ROLES)
@require_GET
def attachment_download(request: TenantRequest, pk: int) -> HttpResponse | FileResponse:
    tenant = request.tenant
    if _walled_attachment(request, pk):
        return walled_page(request)
    try:
        download = download_attachment(
            tenant=tenant, actor=Actor.from_request(request), attachment_id=pk,
            endpoint=request.path,
        )  # fmt: skip
    except AttachmentNotAvailable:
        raise Http404("No such attachment, or it is not stored yet.") from None
    except AttachmentTampered:
        # An answer, not an exception: the refusal's audit entry commits with the request.
        return render(request, "archive/download_refused.html", status=409)
    return attachment_response(download)


@role_required(*READ_ROLES)
@require_GET
def attachment_preview(request: TenantRequest, pk: int) -> HttpResponse | FileResponse:
    """The attachment shown in the conversation page, when its bytes are an image, a sound or a
    video; anything else (whatever the sender declared) gets the download page's answer."""
    if _walled_attachment(request, pk):
        return walled_page(request)
    try:
        preview = preview_attachment(
            tenant=request.tenant, actor=Actor.from_request(request), attachment_id=pk,
            endpoint=request.path,
        )  # fmt: skip
    except AttachmentNotAvailable:
        raise Http404("No such attachment, or it is not stored yet.") from None
    except AttachmentNotPreviewable:
        return render(
            request, "archive/preview_refused.html",
            # 415: the file's own type is not one a page may show; it can still be downloaded.
            {"download_url": reverse("archive:attachment_download", args=[pk])}, status=415,
        )  # fmt: skip
    except AttachmentTampered:
        return render(request, "archive/download_refused.html", status=409)
    return preview_response(preview)
