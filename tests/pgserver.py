"""Find a PostgreSQL for the tests: the named one, the local one, or a throw-away server.

Order: ``LIMITWISE_TEST_POSTGRES_URL``; the server this machine kind runs on 127.0.0.1:5432
(trust auth, user postgres); a temporary cluster started from the installed binaries (as the
``postgres`` user when running as root). Returns None only when none can be had.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.net import free_port

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class PgServer:
    admin_url: str
    """URL of the maintenance database (``postgres``) with rights to create databases."""
    data_dir: Path | None = None
    run_as: list[str] | None = None

    def url_for(self, database: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + f"/{database}"

    def stop(self) -> None:
        if self.data_dir is None:
            return
        pg_ctl = _binary("pg_ctl")
        if pg_ctl:
            subprocess.run(
                [*(self.run_as or []), pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "stop"],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _binary(name: str) -> str | None:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else shutil.which(name)


def _start_throwaway() -> PgServer | None:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        return None
    root = Path(tempfile.mkdtemp(prefix="limitwise-pg-"))
    data_dir = root / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        os.chmod(root, 0o755)
    port = free_port()
    init = subprocess.run(
        [*run_as, initdb, "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        capture_output=True,
        check=False,
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        return None
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = subprocess.run(
        [
            *run_as,
            pg_ctl,
            "-D",
            str(data_dir),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        capture_output=True,
        check=False,
    )
    server = PgServer(f"postgresql://postgres@127.0.0.1:{port}/postgres", data_dir, run_as)
    if started.returncode != 0:
        server.stop()
        return None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _reachable(server.admin_url):
            return server
        time.sleep(0.2)
    server.stop()
    return None


def find_server() -> PgServer | None:
    named = os.environ.get("LIMITWISE_TEST_POSTGRES_URL")
    if named:
        return PgServer(named) if _reachable(named) else None
    if _reachable(LOCAL_URL):
        return PgServer(LOCAL_URL)
    return _start_throwaway()


def create_database(server: PgServer, name: str, template: str | None = None) -> str:
    clause = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{clause}')
    return server.url_for(name)


def drop_database(server: PgServer, name: str) -> None:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
