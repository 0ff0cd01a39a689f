"""Where the simulated media messages can be downloaded: a small HTTP server on loopback that the
worker fetches from exactly as it fetches from Meta's download host (the webhook's ``url``;
loopback is accepted outside production only, see GRAPH_MEDIA_URL_HOSTS). The standard library's
server is enough for a demo's few files a second; it keeps the newest files only."""

from __future__ import annotations

import threading
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .media_files import MediaFile

KEPT = 2000  # files; the worker fetches within seconds, so older ones are not asked for


class MediaShelf:
    def __init__(self) -> None:
        self._files: OrderedDict[str, MediaFile] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, media_id: str, media: MediaFile) -> None:
        with self._lock:
            self._files[media_id] = media
            while len(self._files) > KEPT:
                self._files.popitem(last=False)

    def get(self, media_id: str) -> MediaFile | None:
        with self._lock:
            return self._files.get(media_id)


def serve(shelf: MediaShelf) -> ThreadingHTTPServer:
    """Start serving ``/media/<id>`` on 127.0.0.1 at a free port, in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            prefix = "/media/"
            media = shelf.get(self.path[len(prefix) :]) if self.path.startswith(prefix) else None
            if media is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", media.mime_type)
            self.send_header("Content-Length", str(len(media.data)))
            self.end_headers()
            self.wfile.write(media.data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the command reports what matters; a line per download is noise

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="simulated-media").start()
    return server
