"""The servers behind nginx, all real, as production runs them: gunicorn for pages as
scripts/run.sh starts it (2 gthread workers x 4 threads), granian for the webhook intake as
docker-compose.yml's intake starts it (ingestion/serve.py), and nginx with the shipped
configuration (docker/nginx/nginx.conf and default.conf.template, rendered with local ports and
folders).

Shared by tests/test_reverse_proxy.py, tests/test_floods.py and bench/floods.py; the caller
gives the servers their environment (the test database, or the local stack for a benchmark).
"""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from ingestion.serve import intake_command

ROOT = Path(__file__).resolve().parent.parent
NGINX_DIR = ROOT / "docker" / "nginx"
TEMPLATE = NGINX_DIR / "default.conf.template"
MAIN_CONFIG = NGINX_DIR / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BIND_ATTEMPTS = 5


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """A process started here, stopped by its own pid (TERM, then KILL)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str] | None, log: Path,
                 port: int, cwd: Path = ROOT) -> None:  # fmt: skip
        self.name, self.log, self.port = name, log, port
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited during start-up:\n{self.tail()}")
            try:
                # Generous: the first request loads the application, and an abandoned one
                # would still hold a thread on a loaded machine.
                if get(self.port, "/healthz", timeout=15)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(
            f"{self.name} gave no answer on port {self.port} in time:\n{self.tail()}"
        )

    def stop(self) -> None:
        stop_all([self])


def stop_all(servers: list[Server]) -> None:
    """TERM to every one first, then wait for each (KILL after 20 s): servers stopping side by
    side take the longest one's time, not the sum."""
    for server in servers:
        if server.alive():
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def start_gunicorn(*, env: dict[str, str], log: Path, workers: int = 2, threads: int = 4,
                   access_log: bool = False) -> Server:  # fmt: skip
    """gunicorn as scripts/run.sh starts it, on a free port, answering /healthz when returned.
    ``access_log``: a line per request in ``log`` (which paths reached this server)."""
    port = free_port()
    extra = ["--access-logfile", "-"] if access_log else []
    help_text = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"], capture_output=True, text=True, check=False
    ).stdout
    if "--no-control-socket" in help_text:
        extra.append("--no-control-socket")
    server = Server("gunicorn", [
        sys.executable, "-m", "gunicorn", "ingestion.wsgi",
        "-c", "python:compliance_hub.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads), *extra,
    ], env, log, port)  # fmt: skip
    return _healthy(server)


def start_intake(*, env: dict[str, str], log: Path, workers: int = 2, threads: int = 4,
                 access_log: bool = False) -> Server:  # fmt: skip
    """The webhook intake's server as production starts it (ingestion/serve.py: granian), on a
    free port, answering /healthz when returned."""
    port = free_port()
    argv = intake_command(
        port=port, workers=workers, threads=threads, access_log=access_log, python=sys.executable
    )
    return _healthy(Server("granian", argv, env, log, port))


def _healthy(server: Server) -> Server:
    try:
        server.wait_healthy()
    except BaseException:
        server.stop()
        raise
    return server


def start_pages_and_intake(*, env: dict[str, str], pages_log: Path, intake_log: Path,
                           access_log: bool = False) -> tuple[Server, Server]:  # fmt: skip
    """The pages' gunicorn and the intake's granian, started side by side (a loaded machine
    takes seconds to start each); both answer /healthz when returned, or neither is left
    running."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(start_gunicorn, env=env, log=pages_log, access_log=access_log),
            pool.submit(start_intake, env=env, log=intake_log, access_log=access_log),
        ]
    started, errors = [], []
    for future in futures:
        try:
            started.append(future.result())
        except BaseException as error:  # the others are stopped, then it is raised
            errors.append(error)
    if errors:
        stop_all(started)
        raise errors[0]
    web, intake = started
    return web, intake


def render_template(*, listen_port: int, upstream: str, webhook_max_body_bytes: int,
                    intake_upstream: str | None = None) -> str:  # fmt: skip
    """docker/nginx/default.conf.template as the nginx image renders it (envsubst of the names
    it is given; nginx's own $variables stay). Without ``intake_upstream``, webhook intake and
    /healthz go to ``upstream`` too (one gunicorn for everything)."""
    text = TEMPLATE.read_text()
    values = {
        "NGINX_PORT": str(listen_port),
        "UPSTREAM": upstream,
        "INTAKE_UPSTREAM": intake_upstream or upstream,
        "WEBHOOK_MAX_BODY_BYTES": str(webhook_max_body_bytes),
    }
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return text


def render_main_config(prefix: Path) -> str:
    """docker/nginx/nginx.conf with this run's folders instead of the image's: no daemon, no
    user switch, pid, logs and temp files under ``prefix``, and the rendered server block."""
    text = MAIN_CONFIG.read_text()
    replacements = {
        "user  nginx;": "",
        "/var/run/nginx.pid": str(prefix / "nginx.pid"),
        "/var/log/nginx/error.log": str(prefix / "error.log"),
        "/var/log/nginx/access.log main": "off",
        "/etc/nginx/mime.types": "/etc/nginx/mime.types",
        "/etc/nginx/conf.d/*.conf": str(prefix / "conf.d" / "*.conf"),
    }
    for old, new in replacements.items():
        text = text.replace(old, new)
    temp_paths = "\n".join(
        f"    {kind}_temp_path {prefix}/{kind}_temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return "daemon off;\n" + text.replace("http {", "http {\n" + temp_paths, 1)


def start_nginx(*, upstream_port: int, webhook_max_body_bytes: int,
                without: tuple[str, ...] = (),
                intake_port: int | None = None) -> tuple[Server, Path]:  # fmt: skip
    """nginx with the shipped configuration in front of ``upstream_port`` (pages) and
    ``intake_port`` (webhook intake and /healthz; without one, ``upstream_port`` serves them
    too); returns the server and its folder (removed by ``stop_nginx``). ``without``: directives
    to leave out, by the start of their line (a benchmark's "before")."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"nginx not found at {NGINX}: apt-get install nginx (scripts/stack.sh)")
    # A port free_port() found free can be taken before nginx binds it (an outgoing connection
    # of any process gets its local port from the same range): then another port is tried.
    for attempt in range(1, BIND_ATTEMPTS + 1):
        try:
            return _start_nginx_on(free_port(), upstream_port=upstream_port,
                                   webhook_max_body_bytes=webhook_max_body_bytes,
                                   without=without, intake_port=intake_port)  # fmt: skip
        except RuntimeError as error:
            if "Address already in use" not in str(error) or attempt == BIND_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _start_nginx_on(
    port: int, *, upstream_port: int, webhook_max_body_bytes: int, without: tuple[str, ...],
    intake_port: int | None,
) -> tuple[Server, Path]:  # fmt: skip
    # Not under pytest's private tmp folder: nginx's workers (user nobody when started as root)
    # must reach their temp folders.
    prefix = Path(tempfile.mkdtemp(prefix="ch-nginx-"))
    prefix.chmod(0o755)
    (prefix / "conf.d").mkdir()
    server_block = render_template(
        listen_port=port,
        upstream=f"127.0.0.1:{upstream_port}",
        webhook_max_body_bytes=webhook_max_body_bytes,
        intake_upstream=f"127.0.0.1:{intake_port}" if intake_port else None,
    )
    kept = [line for line in server_block.splitlines() if not line.strip().startswith(without)]
    (prefix / "conf.d" / "default.conf").write_text("\n".join(kept) + "\n")
    (prefix / "nginx.conf").write_text(render_main_config(prefix))
    log = prefix / "error.log"
    log.touch()
    server = Server(
        "nginx", [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(log)],
        None, log, port,
    )  # fmt: skip
    try:
        server.wait_healthy()
    except BaseException:
        stop_nginx(server, prefix)
        raise
    return server, prefix


def stop_nginx(server: Server, prefix: Path) -> None:
    server.stop()
    shutil.rmtree(prefix, ignore_errors=True)


def nginx_limits() -> dict[str, int]:
    """The limits the shipped server block sets, read from it: requests in progress per address,
    and the sign-in POST rates (a second) and bursts per address and overall."""
    import re

    text = TEMPLATE.read_text()

    def number(pattern: str) -> int:
        match = re.search(pattern, text)
        if match is None:
            raise RuntimeError(f"{TEMPLATE.name} no longer says {pattern!r}")
        return int(match.group(1))

    return {
        "requests_per_address": number(r"limit_conn requests_per_address (\d+);"),
        "sign_in_rate_per_address": number(r"zone=sign_in_per_address:\S+ rate=(\d+)r/s;"),
        "sign_in_burst_per_address": number(r"zone=sign_in_per_address burst=(\d+)"),
        "sign_in_rate_overall": number(r"zone=sign_in_overall:\S+ rate=(\d+)r/s;"),
        "sign_in_burst_overall": number(r"zone=sign_in_overall burst=(\d+)"),
    }
