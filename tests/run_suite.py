"""Run the whole test suite on SQLite and on a real PostgreSQL server that this script starts and stops itself.

Usage: python tests/run_suite.py [pytest args…]   (one worker per core; pass -n 0 to run in one process)

It installs Debian's PostgreSQL when `initdb` is missing (apt-get, as root), runs the server as the unprivileged
`postgres` user in a temporary data directory on a free loopback port, exports LEDGER_TEST_PG for the tests, and
removes everything afterwards, also when the tests fail.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager


def find_pg_bin() -> str:
    for name in ("initdb", "pg_ctl"):
        if shutil.which(name) is None:
            break
    else:
        return os.path.dirname(shutil.which("pg_ctl"))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if candidates:
        return os.path.dirname(candidates[-1])
    print("PostgreSQL not found: installing Debian's package", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=True, env=env)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not candidates:
        sys.exit("PostgreSQL could not be installed")
    return os.path.dirname(candidates[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def ensure_postgres_user() -> None:
    if os.geteuid() == 0:
        if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)


SETTINGS = "-c fsync=off -c max_connections=200 -c synchronous_commit=off"


@contextmanager
def temporary_postgres(prefix: str = "kaohe-pg-"):
    """Start a throw-away server as user postgres on a free loopback port; yield its base URL; stop and remove it."""
    bindir = find_pg_bin()
    ensure_postgres_user()
    workdir = tempfile.mkdtemp(prefix=prefix)
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


def parallel(args: list[str]) -> list[str]:
    """One pytest worker per core; an idle worker takes tests from the other's queue (`worksteal`). Keeping each file on
    one worker (`loadfile`) built module fixtures once, but left one worker alone with the longest files at the end:
    466 s against 404 s for the whole suite here, run one after the other in the same hour."""
    if any(a.startswith(("-n", "--numprocesses", "--dist")) for a in args):
        return []
    return ["-n", "auto", "--dist", "worksteal"]


def main() -> int:
    with temporary_postgres() as url:
        env = dict(os.environ, LEDGER_TEST_PG=url)
        print(f"PostgreSQL started on {url.rsplit('@', 1)[1].rsplit('/', 1)[0]}", flush=True)
        t0 = time.monotonic()
        code = subprocess.call([sys.executable, "-m", "pytest", *parallel(sys.argv[1:]), *sys.argv[1:]], env=env)
        print(f"suite finished in {time.monotonic() - t0:.0f} s", flush=True)
        return code


if __name__ == "__main__":
    sys.exit(main())
