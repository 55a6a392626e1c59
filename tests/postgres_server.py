"""A real PostgreSQL server for tests: Debian's `postgresql` package, started in a temporary data folder on a
free loopback port, or one already running that AISLE_TEST_POSTGRES_DSN names.

PostgreSQL refuses to run as root, so when the tests run as root initdb and pg_ctl run as the `postgres`
user (runuser). Each test gets its own schema (`fresh_dsn`), so tests never see each other's rows.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from server_process import free_port

DSN_ENV = "AISLE_TEST_POSTGRES_DSN"


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


@dataclass
class PostgresServer:
    dsn: str
    folder: Path | None = None  # None: a server this helper did not start
    user: list[str] | None = None

    def fresh_dsn(self) -> str:
        """The DSN of a new, empty schema on this server (the tables are made in it on first use)."""
        import psycopg
        schema = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return f"{self.dsn} options='-c search_path={schema}'"

    def stop(self) -> None:
        if self.folder is not None:
            subprocess.run([*self.user, str(postgres_bin() / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast",
                            "-w", "stop"], capture_output=True, timeout=60)
            shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """The server AISLE_TEST_POSTGRES_DSN names, else a new one in a new temporary folder that the `postgres`
    user can reach (RuntimeError when neither can be had)."""
    if os.environ.get(DSN_ENV):
        return PostgresServer(os.environ[DSN_ENV])
    binaries = postgres_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql) and AISLE_TEST_POSTGRES_DSN "
                           "names no running server")
    user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="aisle-postgres-"))
    if user:
        shutil.chown(folder, "postgres", "postgres")
        folder.chmod(0o700)
    data, port = folder / "data", free_port()
    subprocess.run([*user, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                    "--no-sync", "-E", "UTF8"], check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    subprocess.run([*user, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
                    "-w", "start"], check=True, capture_output=True, timeout=120)
    return PostgresServer(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", folder, user)
