"""Real servers for the team-deployment tests, each in a temporary folder on loopback: PostgreSQL (Debian's
packages, initdb and pg_ctl), a Chroma server (`chroma run` from the venv) and nginx in front of the
workers (tests/web/webpage.py's Server, each a `steady serve` process).

scripts/setup.sh test installs Debian's postgresql and nginx; nothing here downloads anything.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from app.server import free_port

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is missing: scripts/setup.sh test installs Debian's postgresql")
    return found[-1]


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class Postgres:
    """A throwaway cluster: trust authentication on 127.0.0.1 only, one database per `database()`."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="steady-pg-"))
        self.port = free_port()
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self.data = self.folder / "data"
        self._run(_postgres_bin("initdb"), "-D", str(self.data), "-U", "steady", "--auth=trust", "-E", "UTF8",
                  "--no-instructions")
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-t", "60",
                  "-o", f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.folder} "
                  "-c max_connections=200 -c fsync=off", "start")
        self._count = 0

    def _run(self, *command: str) -> None:
        subprocess.run([*_as_postgres_user(), *command], check=True, capture_output=True, timeout=120)

    def url(self, name: str = "postgres") -> str:
        return f"postgresql://steady@127.0.0.1:{self.port}/{name}"

    def database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        self._count += 1
        name = f"steady_{self._count}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([*_as_postgres_user(), _postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def _wait_http(url: str, *, seconds: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered at {url} in {seconds:.0f} s")


class ChromaServer:
    """`chroma run` on a free loopback port, its data in a temporary folder."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="steady-chroma-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        self.process = subprocess.Popen(
            [str(VENV_BIN / "chroma"), "run", "--path", str(self.folder), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=(self.folder / "log").open("wb"), env=env)
        _wait_http(f"{self.url}/api/v2/heartbeat", seconds=60, process=self.process)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


class Nginx:
    """Debian's nginx with deploy/nginx.conf's site, pointed at the given workers, on a free loopback port."""

    def __init__(self, *, workers: list) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="steady-nginx-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        site = (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8")
        site = site.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{self.port};")
        # Which worker answered, for the tests only (a real site keeps its internal addresses to itself).
        site = site.replace("        proxy_pass http://steady_workers;", "        proxy_pass http://steady_workers;\n"
                            "        add_header X-Test-Worker $upstream_addr always;")
        servers = "\n".join(f"    server 127.0.0.1:{w.port} max_fails=1 fail_timeout=30s;" for w in workers)
        start, end = site.index("    # workers: begin"), site.index("    # workers: end")
        site = site[:start] + servers + "\n" + site[end:]
        (self.folder / "steady.conf").write_text(site, encoding="utf-8")
        # The main configuration nginx needs around the site when it runs as this user, in this folder.
        (self.folder / "nginx.conf").write_text(
            f"worker_processes 1;\npid {self.folder}/nginx.pid;\nerror_log {self.folder}/error.log warn;\n"
            "daemon off;\nevents { worker_connections 1024; }\n"
            f"http {{\n  access_log off;\n  client_body_temp_path {self.folder}/body;\n"
            f"  proxy_temp_path {self.folder}/proxy;\n  include {self.folder}/steady.conf;\n}}\n", encoding="utf-8")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen([nginx, "-c", str(self.folder / "nginx.conf"), "-p", str(self.folder)],
                                        stdout=subprocess.DEVNULL, stderr=(self.folder / "stderr").open("wb"))
        _wait_http(self.url + "api/sessions", seconds=30, process=self.process)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        shutil.rmtree(self.folder, ignore_errors=True)
