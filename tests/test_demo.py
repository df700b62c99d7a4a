"""The README's first command: `ledger demo` builds a closed, verifiable BP 2017 year."""
from __future__ import annotations

import json

from tests.cliharness import Cli

FROZEN_2017_RESULT = "d7e9be9ab2dc54890666d145d0761ea45a05d3b94d58410eeb9ee6b91199459c"


def test_demo_builds_a_closed_verifiable_year(tmp_path):
    folder = tmp_path / "demo"
    run = Cli(str(folder / "ledger.db"), tmp_path)
    res = run("demo", "--dir", folder).ok()
    assert "2017 乡镇" in res.out and "2017 closed at position" in res.out
    # frozen: a closed year's result hash must not move when the scoring, grading or result-table code changes
    # (verify replays closed years against the hash their closers signed); a change here breaks every closed year
    assert f"2017 closed at position 1991; result sha256 {FROZEN_2017_RESULT}" in res.out
    grades = json.loads(run("grades", "--year", "2017", "--format", "json").ok().out)
    assert grades["closed"] and len(grades["units"]) == 135
    by_unit = {u["unit"]: u for u in grades["units"]}
    assert by_unit["经济开发区"]["grade"] == "好" and by_unit["大黑山景区"]["grade"] == "一般"
    assert by_unit["龙潭镇"]["grade"] in ("一般", "较差")  # the safety-accident veto caps it
    assert any("安全生产" in r for r in by_unit["龙潭镇"]["reasons"]) or by_unit["龙潭镇"]["grade"] == "较差"
    explain = run("explain", "--year", "2018", "--unit", "统计局").ok().out
    assert "carried over from 2017" in explain
    report = json.loads(run("verify", "--format", "json").ok().out)
    assert report["ok"] and report["closed_years_replayed"] == [2017]
    # every view of the whole year prints, in every format (BP 第四组's term divides: an exact quotient of 37 places)
    for command in ("scores", "grades", "consequences"):
        for fmt in ("table", "csv", "json"):
            run(command, "--year", "2017", "--format", fmt).ok()
