"""A local S3 for tests (the real one is an outside service): the few calls the Object Lock
anchor makes, path-style, as S3 answers them. PutObject (with ``If-None-Match: *`` and
``Content-MD5`` honoured and the Object Lock headers recorded), GetObject, ListObjectsV2 with
prefix and delimiter, and DeleteObject, refused while an object is locked, as Object Lock does.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse
from xml.sax.saxutils import escape


@dataclass
class StoredObject:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def retain_until(self) -> datetime | None:
        value = self.headers.get("x-amz-object-lock-retain-until-date")
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error>"
    ).encode()


def _dechunk(body: bytes) -> bytes:
    """aws-chunked bodies: ``<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n`` ... ``0``."""
    out, rest = b"", body
    while rest:
        header, _, rest = rest.partition(b"\r\n")
        size = int(header.split(b";")[0], 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


class FakeS3:
    def __init__(self, bucket: str = "archive-anchors") -> None:
        self.bucket = bucket
        self.objects: dict[str, StoredObject] = {}
        self.down = False
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeS3:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status: int, body: bytes = b"", ctype: str = "application/xml"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _target(self) -> tuple[str, str, dict[str, list[str]]]:
                parsed = urlparse(self.path)
                bucket, _, key = parsed.path.lstrip("/").partition("/")
                return bucket, unquote(key), parse_qs(parsed.query)

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    raw = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        raw += self.rfile.read(size)
                        self.rfile.readline()
                else:
                    raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "aws-chunked" in self.headers.get("Content-Encoding", ""):
                    raw = _dechunk(raw)
                return raw

            def _check(self, bucket: str) -> bool:
                if fake.down:
                    self._send(503, _error("ServiceUnavailable", "down for the test"))
                    return False
                if bucket != fake.bucket:
                    self._send(404, _error("NoSuchBucket", bucket))
                    return False
                return True

            def do_PUT(self) -> None:
                bucket, key, _ = self._target()
                body = self._read_body()
                if not self._check(bucket):
                    return
                md5 = self.headers.get("Content-MD5")
                if md5 and base64.b64decode(md5) != hashlib.md5(body).digest():
                    self._send(400, _error("BadDigest", "Content-MD5 does not match"))
                    return
                if self.headers.get("If-None-Match") == "*" and key in fake.objects:
                    self._send(412, _error("PreconditionFailed", "the object exists"))
                    return
                existing = fake.objects.get(key)
                if existing and existing.retain_until and existing.retain_until > datetime.now(UTC):
                    self._send(403, _error("AccessDenied", "the object is locked"))
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.objects[key] = StoredObject(body=body, headers=headers)
                self.send_response(200)
                self.send_header("ETag", f'"{hashlib.md5(body).hexdigest()}"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                bucket, key, query = self._target()
                if not self._check(bucket):
                    return
                if not key:
                    self._list(query)
                    return
                stored = fake.objects.get(key)
                if stored is None:
                    self._send(404, _error("NoSuchKey", key))
                    return
                self._send(200, stored.body, "application/json")

            def do_DELETE(self) -> None:
                bucket, key, _ = self._target()
                if not self._check(bucket):
                    return
                stored = fake.objects.get(key)
                if stored and stored.retain_until and stored.retain_until > datetime.now(UTC):
                    self._send(403, _error("AccessDenied", "the object is under Object Lock"))
                    return
                fake.objects.pop(key, None)
                self._send(204)

            def _list(self, query: dict[str, list[str]]) -> None:
                prefix = query.get("prefix", [""])[0]
                delimiter = query.get("delimiter", [""])[0]
                contents, prefixes = [], set()
                for key in sorted(fake.objects):
                    if not key.startswith(prefix):
                        continue
                    rest = key[len(prefix) :]
                    if delimiter and delimiter in rest:
                        prefixes.add(prefix + rest.split(delimiter)[0] + delimiter)
                    else:
                        contents.append(key)
                xml = [
                    '<?xml version="1.0" encoding="UTF-8"?>',
                    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
                    f"<Name>{fake.bucket}</Name><Prefix>{escape(prefix)}</Prefix>",
                    f"<KeyCount>{len(contents) + len(prefixes)}</KeyCount>",
                    "<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>",
                ]
                for key in contents:
                    size = len(fake.objects[key].body)
                    xml.append(f"<Contents><Key>{escape(key)}</Key><Size>{size}</Size></Contents>")
                for common in sorted(prefixes):
                    xml.append(
                        f"<CommonPrefixes><Prefix>{escape(common)}</Prefix></CommonPrefixes>"
                    )
                xml.append("</ListBucketResult>")
                self._send(200, "".join(xml).encode())

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
