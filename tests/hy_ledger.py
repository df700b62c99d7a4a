"""A small signed HY 2017 ledger for end-to-end tests: keys, signatories and the adopted scheme."""
from __future__ import annotations

import json
from pathlib import Path

from tests.cliharness import Cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
UNIT, OTHER = "办公室", "财政局"


def hy_text(year: int = 2017, approvers: str = '["组长"]') -> str:
    """The HY example scheme, optionally for another year or with other approvers."""
    text = (EXAMPLES / "hy-2017.toml").read_text(encoding="utf-8")
    text = text.replace("year = 2017", f"year = {year}", 1)
    return text.replace('default_approvers = ["组长"]', f"default_approvers = {approvers}", 1)


def build(run: Cli, tmp: Path, approvers: str = '["组长"]', extra_roles: str = "", text: str | None = None) -> dict:
    """Office, a 考核办 department officer (kh), a 财政局 officer (cz) and a 组长 (zz); the HY scheme adopted (or
    `text`, a scheme of HY's units and roles)."""
    keys = {name: run.key(name) for name in ("office", "kh", "cz", "zz")}
    run("--signed-at", "2017-01-01T09:00:00+08:00", "init", "--name", "高新区考核", "--office-key",
        keys["office"]).ok()
    add = ["signatory", "add", "--valid-from", "2017-01-01", "--sign-with", keys["office"]]
    run(*add, "--person", "李勇", "--department", "考核办", "--role", "department", "--public-key",
        keys["kh"] + ".pub").ok()
    run(*add, "--person", "张财", "--department", "财政局", "--role", "department", "--public-key",
        keys["cz"] + ".pub").ok()
    run(*add, "--person", "欧杏", "--role", "组长", "--public-key", keys["zz"] + ".pub").ok()
    scheme = tmp / "scheme.toml"
    text = hy_text(approvers=approvers) if text is None else text
    if extra_roles:
        text = text.replace('[roles]\n', f'[roles]\n{extra_roles}\n', 1)
    scheme.write_text(text, encoding="utf-8")
    run("scheme", "adopt", scheme, "--sign-with", keys["office"]).ok()
    return keys


def pending_ids(run: Cli) -> list[str]:
    return [w["id"] for w in json.loads(run("pending", "--format", "json").ok().out)]


def total(run: Cli, unit: str = UNIT, year: int = 2017, *extra: str) -> str:
    rows = json.loads(run("scores", "--year", str(year), "--format", "json", *extra).ok().out)["units"]
    return next(r["total"] for r in rows if r["unit"] == unit)
