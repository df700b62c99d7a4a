"""A temporary PostgreSQL server for the benchmarks, started the way tests/run_suite.py starts the test server.

    with temporary_postgres() as base_url:      # postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
        url = new_database(base_url, "bench")  # an empty database on it

The server runs as the `postgres` user in a temporary directory on a free loopback port, with the same settings as
the test server (fsync off, synchronous_commit off: figures are for the code, not for the disk), and is stopped and
removed on exit, also after an error.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.run_suite import as_postgres, ensure_postgres_user, find_pg_bin, free_port  # noqa: E402

SETTINGS = "-c fsync=off -c max_connections=200 -c synchronous_commit=off"


@contextmanager
def temporary_postgres():
    """Start a throw-away server; yield its base URL; stop it and remove its directory."""
    bindir = find_pg_bin()
    ensure_postgres_user()
    workdir = tempfile.mkdtemp(prefix="kaohe-bench-pg-")
    os.chmod(workdir, 0o755)
    data = os.path.join(workdir, "data")
    os.makedirs(data)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(data, "postgres")
    port, started = free_port(), False
    try:
        subprocess.run(as_postgres([os.path.join(bindir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
                                    "-E", "UTF8", "--locale=C"]), check=True, stdout=subprocess.DEVNULL)
        opts = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 {SETTINGS}"
        subprocess.run(as_postgres([os.path.join(bindir, "pg_ctl"), "-D", data, "-o", opts, "-l",
                                    os.path.join(workdir, "log"), "-w", "start"]), check=True,
                       stdout=subprocess.DEVNULL)
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(as_postgres([os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "immediate", "stop"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)


def new_database(base_url: str, prefix: str = "bench") -> str:
    """Create an empty database on the server of `base_url`; return its URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + "/" + name


def server_version(base_url: str) -> str:
    import psycopg

    with psycopg.connect(base_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


if __name__ == "__main__":  # start a server for manual runs: prints its URL, stops on Enter
    with temporary_postgres() as url:
        print(url, flush=True)
        input("PostgreSQL running; press Enter to stop\n")
