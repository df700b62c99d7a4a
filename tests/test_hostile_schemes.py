"""Hostile scheme files (issue #8): mutated, oversized and pathological files are read or refused in one line,
never with a traceback and never slowly."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings

from ledger.errors import LedgerError
from ledger.schemefile import read_scheme_file
from tests.hostile_inputs import EXAMPLE_TEXTS, FAST, SLOW, mutated_scheme


@settings(max_examples=400, **FAST)
@given(data=mutated_scheme())
def test_mutated_scheme_files_are_read_or_refused_in_one_line(tmp_path, data):
    path = tmp_path / "scheme.toml"
    path.write_bytes(data)
    started = time.monotonic()
    try:
        read_scheme_file(path)
    except LedgerError as exc:
        assert "\n" not in str(exc).strip(), str(exc)
    assert time.monotonic() - started < SLOW


PATHOLOGICAL_SCHEMES = {  # name: (text, may it still be a valid scheme?)
    "10mb-string": (EXAMPLE_TEXTS["hy-2017.toml"].replace('name = "', 'name = "' + "长" * 3_500_000, 1), False),
    "3mb-comment": (EXAMPLE_TEXTS["hy-2017.toml"] + "\n# " + "x" * 3_000_000 + "\n", True),
    "3mb-name": (EXAMPLE_TEXTS["hy-2017.toml"].replace('"办公室"', '"' + "办" * 1_000_000 + '"', 1), False),
    "20000-units": (EXAMPLE_TEXTS["hy-2017.toml"].replace("units = [\n", "units = [\n" + "".join(
        f'"单位{i}", ' for i in range(20_000)), 1), True),
    "deep-arrays": (EXAMPLE_TEXTS["hy-2017.toml"] + "\nx = " + "[" * 5000 + "]" * 5000 + "\n", False),
    "deep-inline-tables": (EXAMPLE_TEXTS["hy-2017.toml"] + "\nx = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n", False),
    "deep-dotted-table": (EXAMPLE_TEXTS["hy-2017.toml"] + "\n[" + ".".join(["a"] * 3000) + "]\n", False),
    "5000-digit-year": (EXAMPLE_TEXTS["hy-2017.toml"].replace("year = 2017", "year = " + "9" * 5000, 1), False),
    "nul": ("\x00" * 1000, False),
    "bom-only": ("\ufeff", False),
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL_SCHEMES))
def test_oversized_and_pathological_scheme_files(tmp_path, name):
    text, may_be_valid = PATHOLOGICAL_SCHEMES[name]
    path = tmp_path / "scheme.toml"
    path.write_text(text, encoding="utf-8")
    started = time.monotonic()
    try:
        read_scheme_file(path)
    except LedgerError as exc:
        assert "\n" not in str(exc).strip(), str(exc)
    else:
        assert may_be_valid, name
    assert time.monotonic() - started < SLOW


def test_scheme_over_the_size_limit_is_refused_without_reading(tmp_path):
    path = tmp_path / "big.toml"
    with path.open("wb") as fh:
        fh.truncate(10 * 1024 * 1024)  # 10 MB of zeros, sparse
    with pytest.raises(LedgerError, match="larger than 4 MB"):
        read_scheme_file(path)
