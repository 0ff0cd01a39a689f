"""The webhook intake's server: granian's WSGI mode serving ingestion.wsgi, started one way
everywhere (docker-compose.yml's intake, the fault drills, the proxied tests, the benchmarks).

    python -m ingestion.serve --port 8000 --workers 2 --threads 4 --access-log

Why granian and not gunicorn here: issue 13 asks for at most 1.0 ms of server CPU per
acknowledged delivery. With the lean path, gunicorn gthread's own HTTP work was about half of
the web process's CPU per delivery; granian parses HTTP in Rust and called the same application
with a quarter less web CPU, in the same runs behind the same proxy (bench/webhook_servers.py,
docs/benchmarks.md, headroom on the webhook). Pages stay on gunicorn (compose's ``web`` and
``make run``'s one server): they are not where the rate is.

Like gunicorn, granian reads a request's body on the application's threads' behalf only as
fast as the client sends it, so it too must only ever be reached through the buffering proxy
(docs/operations.md, slow clients).
"""

from __future__ import annotations

import argparse
import os
import sys

APPLICATION = "ingestion.wsgi:application"

# The request's path only: a query string can carry a secret (the handshake's
# hub.verify_token) or a reader's search terms, and neither belongs in a log. Written out
# rather than left to granian's default, so a change of that default cannot start logging them.
ACCESS_LOG_FORMAT = (
    '[%(time)s] %(addr)s "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1fms'
)

# A stopping worker finishes the requests it has (each is milliseconds); one that hangs is
# killed after this, as gunicorn's graceful timeout would.
STOP_GRACE_SECONDS = 30


def intake_command(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 2,
    threads: int = 4,
    access_log: bool = False,
    python: str = sys.executable,
    application: str = APPLICATION,
) -> list[str]:
    """The argv that starts the intake server: one definition for every place that starts it.

    ``threads``: the application's threads per worker process (gunicorn gthread's --threads).
    ``application``: another WSGI callable only for a benchmark's A/B of older code."""
    argv = [
        python, "-m", "granian",
        "--interface", "wsgi",
        "--host", host,
        "--port", str(port),
        "--workers", str(workers),
        "--blocking-threads", str(threads),
        # Only HTTP/1.1 reaches it (from the proxy): no HTTP/2 or websocket machinery.
        "--http", "1",
        "--no-ws",
        "--backlog", "2048",
        # A worker that dies is replaced, as gunicorn's arbiter does.
        "--respawn-failed-workers",
        "--workers-kill-timeout", str(STOP_GRACE_SECONDS),
    ]  # fmt: skip
    if access_log:
        argv += ["--access-log", "--access-log-fmt", ACCESS_LOG_FORMAT]
    return [*argv, application]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--access-log", action="store_true")
    return parser.parse_args(argv)


def command_from_arguments(argv: list[str] | None = None) -> list[str]:
    """The argv that ``python -m ingestion.serve ARGUMENTS`` runs."""
    args = parse_args(argv)
    return intake_command(
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        access_log=args.access_log,
    )


def main(argv: list[str] | None = None) -> None:
    command = command_from_arguments(argv)
    # Replaced, not wrapped: the container's or harness's signals reach granian itself.
    os.execv(command[0], command)  # noqa: S606 - our own interpreter and arguments


if __name__ == "__main__":
    main()
