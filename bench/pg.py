"""A temporary PostgreSQL server for the benchmarks, started the way tests/run_suite.py starts the test server.

    with temporary_postgres() as base_url:      # postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
        url = new_database(base_url, "bench")  # an empty database on it

The server runs as the `postgres` user in a temporary directory on a free loopback port, with the same settings as
the test server (fsync off, synchronous_commit off: figures are for the code, not for the disk), and is stopped and
removed on exit, also after an error.
"""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.run_suite import temporary_postgres  # noqa: E402,F401  (the server, started as for the tests)

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
