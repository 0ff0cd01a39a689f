"""Open-loop load generator for the webhook benchmarks: signed, unique WhatsApp deliveries at a
fixed rate over HTTP/1.1 keep-alive connections, standard library only.

Open loop: request ``i`` is due at ``start + i / rate`` whatever happened to earlier requests,
so a slow server makes latencies grow instead of silently lowering the offered load (no
coordinated omission). A request is sent on an idle connection if there is one, else on a new
connection (up to ``max_connections``), else it waits for a connection to come back; that wait
counts in its latency, which is measured from the moment it was due.

Run as its own process (``python bench/_loadgen.py SPEC.json RESULT.json [--wait-for-go]``), so
that its CPU time is its own and can be reported apart from the server's. Every body is built
and signed before the clock starts: Meta signs on its side, so signing is not the server's work.

The spec (JSON): host, port, path, app_secret, phone_number_id, wamid_prefix, rate, count,
first_index, max_connections, preopen, timeout, and optionally texts (request i carries
texts[i % len(texts)]). The result (JSON): per request its status
(0 = no answer: connection error or timeout), due, sent and answered times (time.monotonic(),
the same clock in every process of this machine), and the generator's own CPU seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingestion.whatsapp.signature import sign
from tests.ingestion import payloads


def wamid(prefix: str, index: int) -> str:
    return f"wamid.{prefix}.{index:08d}"


def build_body(
    *, prefix: str, index: int, phone_number_id: str, timestamp: int, text: str | None = None
) -> bytes:
    return payloads.body(
        payloads.inbound_text(
            phone_number_id=phone_number_id,
            wamid=wamid(prefix, index),
            text=f"Benchmark message {index}: bom dia, ol\u00e1" if text is None else text,
            timestamp=timestamp,
            wa_id=f"55119{index % 100_000:08d}",  # a spread of counterparties, as in real life
        )
    )


def build_request(*, host: str, port: int, path: str, body: bytes, app_secret: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "User-Agent: facebookexternalua\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Hub-Signature-256: {sign(body, app_secret)}\r\n"
        "\r\n"
    )
    return head.encode() + body


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    def __init__(self, generator: _Generator) -> None:
        self.generator = generator
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.index = -1  # the request in flight, -1 when idle
        self.need = -1  # bytes of the whole response once its head is parsed
        self.status = 0
        self.close_after = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, index: int, request: bytes) -> None:
        self.index = index
        self.generator.sent[index] = time.monotonic()
        assert self.transport is not None
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if self.need < 0:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end]).lower()
            self.status = int(head[9:12])
            self.close_after = b"\r\nconnection: close" in head
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 17)
                length = int(head[at + 17 : stop if stop > 0 else None])
                self.need = end + 4 + length
            elif b"\r\ntransfer-encoding: chunked" in head:
                self.need = 0  # ends at the last chunk, found below
            else:
                self.need = end + 4
        if self.need == 0:
            if not buffer.endswith(b"0\r\n\r\n"):
                return
            done = len(buffer)
        elif len(buffer) < self.need:
            return
        else:
            done = self.need
        del buffer[:done]
        index, status = self.index, self.status
        self.index, self.need = -1, -1
        self.generator.answered(self, index, status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.generator.lost(self)


class _Generator:
    def __init__(self, spec: dict[str, Any], requests: list[bytes]) -> None:
        self.spec = spec
        self.requests = requests
        count = len(requests)
        self.due = [0.0] * count
        self.sent = [0.0] * count
        self.done = [0.0] * count
        self.status = [0] * count
        self.errors: dict[str, int] = {}
        self.idle: list[_Connection] = []  # LIFO: hot connections are reused, cold ones idle out
        self.waiting: deque[int] = deque()
        self.open = 0
        self.opening = 0
        self.outstanding = 0
        self.max_open = 0
        self.finished = asyncio.Event()
        self.all_fired = False
        self.closing = False
        self.loop = asyncio.get_running_loop()

    async def _connect(self) -> _Connection:
        _, protocol = await self.loop.create_connection(
            lambda: _Connection(self), self.spec["host"], self.spec["port"]
        )
        return protocol

    async def preopen(self, count: int) -> None:
        if not count:
            return
        connections = await asyncio.gather(*(self._connect() for _ in range(count)))
        self.idle.extend(connections)
        self.open = len(connections)
        self.max_open = self.open

    def _error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def fire(self, index: int) -> None:
        self.outstanding += 1
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed:
                connection.send(index, self.requests[index])
                return
        if self.open + self.opening < self.spec["max_connections"]:
            self.opening += 1
            self.loop.create_task(self._open_and_send(index))
        else:
            self.waiting.append(index)

    async def _open_and_send(self, index: int) -> None:
        try:
            connection = await self._connect()
        except OSError as error:
            self.opening -= 1
            self._error(f"connect: {type(error).__name__}")
            self._finish(index, 0)
            return
        self.opening -= 1
        self.open += 1
        self.max_open = max(self.max_open, self.open)
        connection.send(index, self.requests[index])

    def _finish(self, index: int, status: int) -> None:
        if self.closing:  # the client gave up on it: an answer now does not count
            return
        self.done[index] = time.monotonic()
        self.status[index] = status
        self.outstanding -= 1
        if self.outstanding == 0 and self.all_fired:
            self.finished.set()

    def answered(self, connection: _Connection, index: int, status: int) -> None:
        self._finish(index, status)
        if connection.close_after:
            assert connection.transport is not None
            connection.transport.close()
            return
        self._reuse(connection)

    def _reuse(self, connection: _Connection) -> None:
        if self.waiting:
            index = self.waiting.popleft()
            connection.send(index, self.requests[index])
            return
        self.idle.append(connection)

    def lost(self, connection: _Connection) -> None:
        self.open -= 1
        if connection.index >= 0:  # the server went away in the middle of a request
            self._error("connection lost during a request")
            index = connection.index
            connection.index = -1
            self._finish(index, 0)
        if self.waiting and not self.closing:
            index = self.waiting.popleft()
            self.outstanding -= 1
            self.fire(index)

    async def run(self) -> None:
        rate, count = self.spec["rate"], len(self.requests)
        interval = 1.0 / rate
        start = time.monotonic() + 0.05
        for index in range(count):
            self.due[index] = start + index * interval
        index = 0
        while index < count:
            now = time.monotonic()
            if self.due[index] > now:
                await asyncio.sleep(self.due[index] - now)
                continue
            while index < count and self.due[index] <= now:
                self.fire(index)
                index += 1
        self.all_fired = True
        if self.outstanding == 0:
            self.finished.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.finished.wait(), timeout=self.spec["timeout"])
        self.closing = True
        for index in range(count):
            if self.done[index] == 0.0:
                self._error("no answer before the timeout")
                self.status[index] = 0
        for connection in self.idle:
            if connection.transport is not None:
                connection.transport.close()


async def _main(spec: dict[str, Any], *, wait_for_go: bool) -> dict[str, Any]:
    first = spec.get("first_index", 0)
    timestamp = int(time.time()) + 1  # just after the consent the fixture recorded
    texts = spec.get("texts") or []
    requests = [
        build_request(
            host=spec["host"],
            port=spec["port"],
            path=spec["path"],
            app_secret=spec["app_secret"],
            body=build_body(
                prefix=spec["wamid_prefix"],
                index=first + n,
                phone_number_id=spec["phone_number_id"],
                timestamp=timestamp,
                # Optional: the texts to send, the request of index i carrying texts[i % len].
                text=texts[(first + n) % len(texts)] if texts else None,
            ),
        )
        for n in range(spec["count"])
    ]
    generator = _Generator(spec, requests)
    await generator.preopen(spec.get("preopen", 0))
    if wait_for_go:  # the caller starts its CPU meters between these two lines
        print("ready", flush=True)
        sys.stdin.readline()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_before = time.monotonic()
    await generator.run()
    wall = time.monotonic() - wall_before
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "first_index": first,
        "due": generator.due,
        "sent": generator.sent,
        "done": generator.done,
        "status": generator.status,
        "errors": generator.errors,
        "max_connections_open": generator.max_open,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "request_bytes": sum(len(r) for r in requests) / max(len(requests), 1),
    }


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(_main(spec, wait_for_go="--wait-for-go" in sys.argv[3:]))
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
