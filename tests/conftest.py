"""Fixtures: every database test runs on a fresh SQLite file and on a fresh database of the real PostgreSQL server
that tests/run_suite.py starts (LEDGER_TEST_PG)."""
from __future__ import annotations

import os
import uuid

import pytest

PG = os.environ.get("LEDGER_TEST_PG")


def _pg_database() -> str:
    import psycopg

    base = PG.replace("postgresql+psycopg://", "postgresql://")
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path) -> str:
    """A URL of an empty database, once per backend."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    if not PG:
        if os.environ.get("CI"):
            pytest.fail("LEDGER_TEST_PG is not set: run the suite through tests/run_suite.py")
        pytest.skip("no PostgreSQL server (run through tests/run_suite.py)")
    return _pg_database()


@pytest.fixture(scope="module")
def bp():
    """The bp-2017.toml example scheme, loaded once per module."""
    from tests.scoring_cases import example

    return example("bp-2017.toml")


@pytest.fixture(scope="module")
def hy():
    """The hy-2017.toml example scheme, loaded once per module."""
    from tests.scoring_cases import example

    return example("hy-2017.toml")


@pytest.fixture(scope="module")
def dy():
    """The dy-2013.toml example scheme, loaded once per module."""
    from tests.scoring_cases import example

    return example("dy-2013.toml")
