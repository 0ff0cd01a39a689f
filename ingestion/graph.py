"""A small client of Meta's Graph API for WhatsApp media: look a media id up, download its bytes.

Two calls, both with ``Authorization: Bearer <access token>`` (Meta: "If you omit your token,
the request will fail"); ../shared/reference/whatsapp-webhooks.md section 7:

    GET {GRAPH_API_BASE_URL}/{media-id}  ->  {"url", "mime_type", "sha256", "file_size", "id"}
    GET {url}                            ->  the bytes (the URL lives 5 minutes)

The token travels only in that header: never in a URL, an exception message or a log line, and
a redirect to another origin drops it (httpx's rule). Downloads are streamed into a file object
with a size cap (Meta delivers nothing over 100 MB) and an overall deadline, so a slow or
oversized answer cannot hold a worker. Every failure is a :class:`GraphError` that says what
happened in words an admin can act on; ``permanent`` ones are not worth retrying.

Built on httpx (pinned in pyproject.toml) rather than urllib: separate connect/read timeouts,
streaming with ``iter_bytes``, no redirect that forwards the bearer token to another host, and
typed exceptions for timeouts and network errors.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx
from django.conf import settings

from compliance_hub.digits import parse_count

MAX_MEDIA_BYTES = 100 * 1024 * 1024  # Meta's cap for received media (error 131052)
DEFAULT_TIMEOUT_SECONDS = 30.0
DOWNLOAD_DEADLINE_SECONDS = 300.0  # a trickling answer is cut off after this, whatever its pace
CHUNK_BYTES = 64 * 1024
# Meta's media ids are digits; anything with a slash or a dot could walk the Graph API's paths.
MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")  # fullmatch: "$" would let a final "\n" in


class GraphError(Exception):
    """A Graph API call failed. ``status`` is the HTTP status when there was an answer."""

    permanent = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GraphTimeout(GraphError):
    """No (complete) answer in time."""


class GraphUnavailable(GraphError):
    """The network failed, or the Graph API answered 5xx or 429: try again later."""


class GraphRefused(GraphError):
    """A 4xx answer: a bad or expired token (401/403), an unknown or expired media id or
    download URL (404/410)."""


class GraphBadAnswer(GraphError):
    """An answer we cannot use (metadata that is not JSON or has no URL)."""


class MediaTooLarge(GraphError):
    """Over the size cap: Meta never delivers such media, so there is nothing to retry."""

    permanent = True


class InvalidMediaId(GraphError):
    permanent = True


@dataclass(frozen=True)
class MediaInfo:
    """The Graph API's description of a media id."""

    id: str
    url: str
    mime_type: str
    sha256: str
    file_size: int | None


@dataclass(frozen=True)
class Download:
    size: int
    sha256: bytes  # digest of the bytes written
    content_type: str


def _meta_error(response: httpx.Response) -> str:
    """Meta's own words from an error answer (``{"error": {"message", "code"}}``), if any."""
    try:
        body = response.json()
    except (ValueError, httpx.ResponseNotRead):  # a streamed download's body is not read
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ""
    message = str(error.get("message", ""))[:200]
    code = error.get("code")
    return f" (Meta error {code}: {message})" if code is not None else f" ({message})"


def _file_size(value: Any) -> int | None:
    """``file_size`` is a string in Meta's syntax and an int in some libraries: accept both."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    return parse_count(value)


class GraphClient:
    """``with GraphClient(access_token=...) as graph: graph.media_info(id); graph.download(...)``"""

    def __init__(
        self,
        *,
        access_token: str,
        base_url: str | None = None,
        timeout: float | None = None,
        max_bytes: int = MAX_MEDIA_BYTES,
        deadline: float = DOWNLOAD_DEADLINE_SECONDS,
    ) -> None:
        base = base_url if base_url is not None else settings.GRAPH_API_BASE_URL
        self.base_url = base.rstrip("/")
        seconds = timeout
        if seconds is None:
            seconds = float(getattr(settings, "GRAPH_API_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
        self.max_bytes = max_bytes
        self.deadline = deadline
        self._http = httpx.Client(
            headers={"Authorization": f"Bearer {access_token}", "User-Agent": "ComplianceHub"},
            timeout=httpx.Timeout(seconds, connect=min(seconds, 10.0)),
            follow_redirects=True,
            max_redirects=3,
        )

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def media_info(self, media_id: str) -> MediaInfo:
        """Look a media id up: a fresh download URL (5 minutes), its MIME type, SHA-256, size."""
        if not MEDIA_ID.fullmatch(media_id):
            raise InvalidMediaId(f"not a media id Meta would send: {media_id[:40]!r}")
        what = "media lookup"
        try:
            response = self._http.get(f"{self.base_url}/{quote(media_id, safe='')}")
        except httpx.TimeoutException as error:
            raise GraphTimeout(f"Graph API {what} timed out ({type(error).__name__})") from None
        except httpx.HTTPError as error:
            raise GraphUnavailable(f"Graph API {what} failed: {type(error).__name__}") from None
        self._check(response, what)
        try:
            body = response.json()
        except ValueError:
            raise GraphBadAnswer(f"Graph API {what} did not answer JSON") from None
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise GraphBadAnswer(f"Graph API {what} gave no download URL")
        size = _file_size(body.get("file_size"))
        if size is not None and size > self.max_bytes:
            raise MediaTooLarge(f"media of {size} bytes is over the {self.max_bytes}-byte cap")
        return MediaInfo(
            id=str(body.get("id") or media_id),
            url=url,
            mime_type=str(body.get("mime_type") or ""),
            sha256=str(body.get("sha256") or ""),
            file_size=size,
        )

    def download(self, url: str, *, into: BinaryIO) -> Download:
        """Stream the bytes at ``url`` into ``into`` (written from its current position),
        hashing them on the way. Raises before or as soon as the cap is passed."""
        what = "media download"
        digest = hashlib.sha256()
        size = 0
        started = time.monotonic()
        try:
            with self._http.stream("GET", url) as response:
                self._check(response, what)
                declared = _file_size(response.headers.get("Content-Length"))
                if declared is not None and declared > self.max_bytes:
                    raise MediaTooLarge(
                        f"media of {declared} bytes is over the {self.max_bytes}-byte cap"
                    )
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise MediaTooLarge(f"media is over the {self.max_bytes}-byte cap")
                    if time.monotonic() - started > self.deadline:
                        raise GraphTimeout(f"{what} took longer than {self.deadline:.0f} s")
                    digest.update(chunk)
                    into.write(chunk)
                content_type = response.headers.get("Content-Type", "")
        except httpx.TimeoutException as error:
            raise GraphTimeout(f"{what} timed out ({type(error).__name__})") from None
        except httpx.HTTPError as error:
            raise GraphUnavailable(f"{what} failed: {type(error).__name__}") from None
        return Download(size=size, sha256=digest.digest(), content_type=content_type)

    @staticmethod
    def _check(response: httpx.Response, what: str) -> None:
        status = response.status_code
        if status < 400:
            return
        if status == 429 or status >= 500:
            raise GraphUnavailable(f"Graph API {what} answered {status}", status=status)
        hint = {
            401: ": the access token was refused (expired or revoked?)",
            403: ": the access token may not read this media",
            404: ": unknown media id, or the download URL expired",
            410: ": the media is gone",
        }.get(status, "")
        raise GraphRefused(f"Graph API {what} answered {status}{hint}{_meta_error(response)}",
                           status=status)  # fmt: skip
