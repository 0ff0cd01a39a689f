"""The HTTP answer of an attachment download, shared by the page and the API: the bytes that
:func:`archive.services.download_attachment` verified, as a file to save."""

from __future__ import annotations

from django.http import FileResponse

from .services import AttachmentDownload


def attachment_response(download: AttachmentDownload) -> FileResponse:
    """The verified bytes as a file to save, never to show: a stored HTML or SVG file sent by a
    client must not run in our origin, so no sniffing, and a sandbox should a browser render it
    all the same."""
    response = FileResponse(
        download.content,
        as_attachment=True,
        filename=download.filename,
        content_type=download.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def preview_response(preview: AttachmentDownload) -> FileResponse:
    """The verified bytes shown in the page (an ``<img>``, ``<audio>`` or ``<video>``), under the
    type their own first bytes proved (:mod:`archive.media_kinds`). Opened on its own, the answer
    still allows nothing: no script, no sub-resource, a sandbox, no sniffing into another type."""
    response = FileResponse(
        preview.content,
        as_attachment=False,
        filename=preview.filename,
        content_type=preview.mime_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Kept by this reader's browser for the page's life only: archive content on a shared
    # computer must not outlive the session in a disk cache.
    response["Cache-Control"] = "private, no-store"
    return response
