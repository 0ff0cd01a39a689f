"""A fake of Meta's Graph API media endpoints: a real HTTP server on 127.0.0.1 (random port) in a
thread, so the client under test (or a Celery worker in another process) makes real requests
with real timeouts. pytest-httpserver serves it; what Meta answers is written here, in
:meth:`FakeGraph.answer`, since its expectations match requests to canned answers and the Graph
API's answers depend on state (URL generations, failures that count down).

    GET /{media_id}                     -> {"messaging_product", "url", "mime_type", "sha256",
                                            "file_size", "id"}  (sha256 base64, as Meta's examples)
    GET /download/{media_id}?gen=N      -> the bytes (a URL of an older generation has "expired")

Both want ``Authorization: Bearer <token>`` (401 otherwise). Switches, each to be set by a test:
``wrong_sha256`` (the bytes served are not the ones the hash describes), ``fail(status, ...)``
(answer 404, 500 ... on the lookup, the download or both, optionally only the next N times),
``delay`` (seconds before answering: a slow or timed-out Graph API), ``expire_urls()`` (every URL
handed out so far answers 404, as after Meta's 5 minutes).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


@dataclass
class Failure:
    status: int
    on: str  # "lookup", "download" or "both"
    times: int | None  # None: until cleared


@dataclass
class Seen:
    method: str
    path: str
    authorization: str


@dataclass
class FakeGraph:
    token: str
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    wrong_sha256: bool = False
    delay: float = 0.0
    generation: int = 1
    requests: list[Seen] = field(default_factory=list)
    failure: Failure | None = None
    base_url: str = ""
    _server: HTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- set-up by tests
    def add(self, media_id: str, data: bytes, mime_type: str = "image/jpeg") -> str:
        """Serve ``data`` as ``media_id``; returns its SHA-256 in base64, as a webhook has it."""
        self.media[media_id] = (data, mime_type)
        return base64.b64encode(hashlib.sha256(data).digest()).decode()

    def url_for(self, media_id: str) -> str:
        """A download URL as the webhook's ``url`` or the lookup would give it now."""
        return f"{self.base_url}/download/{media_id}?gen={self.generation}"

    def fail(self, status: int, *, on: str = "both", times: int | None = None) -> None:
        self.failure = Failure(status=status, on=on, times=times)

    def recover(self) -> None:
        self.failure = None
        self.delay = 0.0
        self.wrong_sha256 = False

    def expire_urls(self) -> None:
        self.generation += 1

    def paths(self) -> list[str]:
        return [seen.path.split("?")[0] for seen in self.requests]

    # --- the server
    def start(self) -> FakeGraph:
        # Threaded: a delayed answer (a timeout test) must not hold up the next request.
        self._server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self._server.expect_request(re.compile("/.*")).respond_with_handler(self._serve)
        self._server.start()
        self.base_url = self._server.url_for("/").rstrip("/")
        return self

    def stop(self) -> None:
        if self._server is not None and self._server.is_running():
            self._server.stop()

    def _serve(self, request: Request) -> Response:
        query = request.query_string.decode()
        path = f"{request.path}?{query}" if query else request.path
        self.requests.append(Seen(request.method, path, request.headers.get("Authorization", "")))
        if self.delay:
            time.sleep(self.delay)
        if request.method != "GET":
            status, body, content_type = _error(404, 100, "no such path")
        else:
            status, body, content_type = self.answer(path, request.headers)
        return Response(body, status=status, content_type=content_type)

    def _failing(self, step: str) -> int | None:
        with self._lock:
            failure = self.failure
            if failure is None or failure.on not in (step, "both"):
                return None
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self.failure = None
            return failure.status

    def answer(self, path: str, headers) -> tuple[int, bytes, str]:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, 190, "Invalid OAuth access token.")
        parts = urlsplit(path)
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) == 2 and segments[0] == "download":
            status = self._failing("download")
            if status:
                return _error(status, 100, "download failed")
            generation = parse_qs(parts.query).get("gen", [""])[0]
            found = self.media.get(segments[1])
            if found is None or generation != str(self.generation):
                return _error(404, 100, "URL expired or unknown")
            data, mime_type = found
            if self.wrong_sha256:
                data = data[:-1] + bytes([data[-1] ^ 0xFF])  # tampered on the way
            return 200, data, mime_type
        if len(segments) == 1:
            status = self._failing("lookup")
            if status:
                return _error(status, 131000, "Something went wrong")
            found = self.media.get(segments[0])
            if found is None:
                return _error(404, 100, "Unsupported get request. Object does not exist")
            data, mime_type = found
            body = {
                "messaging_product": "whatsapp",
                "url": self.url_for(segments[0]),
                "mime_type": mime_type,
                "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
                "file_size": str(len(data)),  # a string, as in Meta's syntax
                "id": segments[0],
            }
            return 200, json.dumps(body).encode(), "application/json"
        return _error(404, 100, "no such path")


def _error(status: int, code: int, message: str) -> tuple[int, bytes, str]:
    body = {"error": {"message": message, "type": "OAuthException", "code": code}}
    return status, json.dumps(body).encode(), "application/json"
