"""A scheme read back from the log (built as used, its TOML from the user's cache) is the scheme validated at
adoption; the cache is used only from a private folder, and never for the check of an adoption."""
from __future__ import annotations

import hashlib
import os
import tomllib
from pathlib import Path

import orjson
import pytest

from bench.schemes import province_scheme, to_toml
from ledger import scheme_cache
from ledger.errors import SchemeError
from ledger.scheme import adopted_scheme, load_scheme, parse_toml
from ledger.years import YearState, adopted_scheme_from_text, scheme_from_text

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def province_text() -> str:
    text = to_toml(province_scheme(6))
    assert len(text) >= scheme_cache.MIN_TEXT
    return text


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(scheme_cache.ENV, str(folder))
    return folder


def _same(validated, adopted) -> None:
    assert [(g.name, g.units) for g in validated.groups] == [(g.name, g.units) for g in adopted.groups]
    for mine, theirs in zip(validated.groups, adopted.groups):
        assert mine.body == theirs.body, mine.name
    for name in ("year", "name", "text", "roles", "units", "closing_roles", "components", "rules", "caps",
                 "consequences"):
        assert getattr(validated, name) == getattr(adopted, name), name
    assert dict(validated.decision_roles) == dict(adopted.decision_roles)
    assert {u: g.name for u, g in validated.unit_groups.items()} == {u: g.name for u, g in adopted.unit_groups.items()}


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_an_example_read_back_is_the_scheme_validated(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    _same(load_scheme(text), adopted_scheme(text, parse_toml(text)))


def test_a_province_read_back_is_the_scheme_validated_and_builds_only_what_is_used(province_text):
    adopted = adopted_scheme(province_text, parse_toml(province_text))
    assert not any("body" in vars(g) for g in adopted.groups)
    unit = adopted.groups[3].units[0]
    adopted.rule_problem(adopted.rule(next(iter(adopted.rules))), unit)
    assert [g.name for g in adopted.groups if "body" in vars(g)] == [adopted.groups[3].name]
    _same(load_scheme(province_text), adopted)


def test_the_cache_keeps_exactly_what_tomllib_gave(cache, province_text):
    digest = _digest(province_text)
    assert scheme_cache.cached_toml(digest) is None
    scheme = adopted_scheme_from_text(province_text + "\n# 1\n")  # a text of its own: the process memo is empty
    assert scheme.year == 2017
    again = scheme_cache.cached_toml(_digest(province_text + "\n# 1\n"))
    assert again == tomllib.loads(province_text + "\n# 1\n")
    assert list(again["groups"]) == list(tomllib.loads(province_text)["groups"])  # order kept
    assert os.stat(cache).st_mode & 0o777 == 0o700
    assert all(os.stat(p).st_mode & 0o777 == 0o600 for p in cache.iterdir())


def test_the_cache_is_not_used_from_a_folder_others_may_write(cache, province_text):
    digest = _digest(province_text)
    scheme_cache.store_toml(digest, {"year": 2017})
    assert scheme_cache.cached_toml(digest) == {"year": 2017}
    cache.chmod(0o770)
    assert scheme_cache.cached_toml(digest) is None
    cache.chmod(0o700)
    entry = next(cache.iterdir())
    entry.chmod(0o666)
    assert scheme_cache.cached_toml(digest) is None


def test_the_cache_follows_no_symbolic_link(tmp_path, monkeypatch, province_text):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    monkeypatch.setenv(scheme_cache.ENV, str(real))
    digest = _digest(province_text)
    scheme_cache.store_toml(digest, {"year": 2017})
    link = tmp_path / "link"
    link.symlink_to(real)
    monkeypatch.setenv(scheme_cache.ENV, str(link))
    assert scheme_cache.cached_toml(digest) is None  # the folder is a link
    monkeypatch.setenv(scheme_cache.ENV, str(real))
    entry = next(real.iterdir())
    other = tmp_path / "other.json"
    entry.rename(other)
    (real / entry.name).symlink_to(other)
    assert scheme_cache.cached_toml(digest) is None  # the entry is a link


def test_an_entry_must_name_its_text_and_hold_only_exact_data(cache, province_text):
    digest = _digest(province_text)
    scheme_cache.store_toml(digest, {"year": 2017, "weight": 0.5})  # a float: not cached
    scheme_cache.store_toml(digest, {"year": 2017, "big": 2 ** 70})  # beyond 64 bits: not cached
    assert scheme_cache.cached_toml(digest) is None
    cache.mkdir(mode=0o700, exist_ok=True)
    (cache / scheme_cache._name(digest)).write_bytes(orjson.dumps({"sha256": "0" * 64, "tag": scheme_cache._TAG,
                                                                   "data": {"year": 2017}}))
    assert scheme_cache.cached_toml(digest) is None


def test_the_cache_can_be_turned_off(monkeypatch):
    monkeypatch.setenv(scheme_cache.ENV, "off")
    assert scheme_cache.cache_folder() is None


def test_an_adoption_is_checked_from_its_own_text_whatever_the_cache_holds(cache, province_text):
    doc = province_scheme(6)
    group = next(iter(doc["groups"].values()))
    group["indicators"][0]["weight"] = "99"  # the children no longer add up: refused inside one group
    broken = to_toml(doc)
    digest = _digest(broken)
    scheme_cache.store_toml(digest, tomllib.loads(province_text))  # a forged entry: a valid scheme's data
    with pytest.raises(SchemeError):
        scheme_from_text(broken)
    fine = province_text + "\n# 2\n"
    scheme_cache.store_toml(_digest(fine), {**tomllib.loads(province_text), "name": "伪造"})
    assert scheme_from_text(fine).name == tomllib.loads(province_text)["name"]


def test_a_year_state_reads_its_scheme_back_lazily(cache, province_text):
    text = province_text + "\n# 3\n"
    state = YearState(2017)
    state.apply({"type": "scheme.adopted", "act": {"text": text}}, "e1", "考核办")
    assert state.scheme is state.scheme and not any("body" in vars(g) for g in state.scheme.groups)
    assert scheme_cache.cached_toml(_digest(text)) == tomllib.loads(text)
