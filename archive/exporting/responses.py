"""The HTTP answer of an export download, shared by the page and the API."""

from __future__ import annotations

from django.http import FileResponse

from .services import ExportDownload


def export_response(download: ExportDownload) -> FileResponse:
    """The zip as a file to save, never cached on the way (it is a bulk disclosure)."""
    response = FileResponse(
        download.content,
        as_attachment=True,
        filename=download.filename,
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
