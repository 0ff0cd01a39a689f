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
