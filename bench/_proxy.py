"""nginx in front of a benchmark's web server, configured with the shipped template
(docker/nginx/default.conf.template), as production runs it (docs/operations.md): the buffering
proxy reads each request whole before the application server sees it.

Started in a folder of its own, stopped by its pid. No Django here.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import urllib.request
from pathlib import Path

from bench._stack import REPO, Started, free_port

TEMPLATE = REPO / "docker" / "nginx" / "default.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """``Nginx(upstream="127.0.0.1:PORT", max_body=...)`` listens on ``.port``; ``stop()``."""

    def __init__(self, *, upstream: str, max_body: int, workdir: Path) -> None:
        if not Path(NGINX).exists():
            raise RuntimeError(f"nginx not found at {NGINX}: apt-get install nginx")
        # Not under a private temp folder: nginx's workers (user nobody when started as root)
        # must reach their temp folders.
        self.prefix = Path(tempfile.mkdtemp(prefix="bench-nginx-", dir=workdir))
        self.prefix.chmod(0o755)
        self.max_body, self.upstream = max_body, upstream
        # A free port can be taken by someone else before nginx binds it (a shared machine):
        # then nginx exits, and another port is tried.
        for _ in range(5):
            if self._start():
                return
        raise RuntimeError(f"nginx did not start:\n{(self.prefix / 'error.log').read_text()}")

    def _start(self) -> bool:
        self.port = free_port()
        text = TEMPLATE.read_text()
        for name, value in {
            "NGINX_PORT": str(self.port),
            "UPSTREAM": self.upstream,
            # One server for pages and intake alike (the template can split them).
            "INTAKE_UPSTREAM": self.upstream,
            "WEBHOOK_MAX_BODY_BYTES": str(self.max_body),
        }.items():
            text = text.replace("${" + name + "}", value)
        (self.prefix / "default.conf").write_text(text)
        temp_paths = "\n".join(
            f"    {kind}_temp_path {self.prefix}/{kind}_temp;"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.prefix / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {self.prefix}/nginx.pid;\n"
            f"error_log {self.prefix}/error.log warn;\n"
            "events { worker_connections 4096; }\n"
            f"http {{\n    access_log off;\n{temp_paths}\n"
            f"    include {self.prefix}/default.conf;\n}}\n"
        )
        log = self.prefix / "error.log"
        self.process = Started(
            "nginx",
            [NGINX, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"), "-e", str(log)],
            {},
            self.prefix / "stdout.log",
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.process.poll() is not None:
                self.process.stop()
                return False
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return True
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"nginx did not answer within 60 s:\n{log.read_text()}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.stop()
