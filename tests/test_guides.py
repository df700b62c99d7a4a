"""The guides are executable: every ```console block in docs/guide/*.md runs, and its output must match.

In a block, a line starting with `$ ` is a command (a trailing backslash continues it); the lines after it, up to
the next command, are its expected output. `...` alone on a line matches any number of lines; `...` inside a line
matches any text. Each page runs in a fresh folder with `PASS=demo`, `LEDGER_PASSPHRASE_ENV=PASS` and
`LEDGER_DB=ledger.db`, and the repository's examples/ at `examples/`.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDES = sorted((ROOT / "docs" / "guide").glob("*.md"))


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) pairs of every console block, in order."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                raise AssertionError(f"output before a command in a console block: {lines[i]!r}")
            command = lines[i][2:]
            while command.endswith("\\"):
                i += 1
                command = command + "\n" + lines[i]  # bash continues the line at the backslash
            i += 1
            expected = []
            while i < len(lines) and not lines[i].startswith("$ "):
                expected.append(lines[i])
                i += 1
            steps.append((command, expected))
    return steps


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line patterns with `...` wildcards against the actual lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[k:]) for k in range(len(actual) + 1))
    if not actual:
        return False
    pattern = ".*".join(re.escape(part) for part in head.rstrip().split("..."))
    return re.fullmatch(pattern, actual[0].rstrip()) is not None and matches(rest, actual[1:])


@pytest.mark.parametrize("page", GUIDES, ids=[p.stem for p in GUIDES])
def test_guide_runs(page, tmp_path):
    steps = blocks(page.read_text(encoding="utf-8"))
    assert steps, f"{page.name} has no console blocks"
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = dict(os.environ, PASS="demo", LEDGER_PASSPHRASE_ENV="PASS", LEDGER_DB="ledger.db", COLUMNS="160",
               TERM="dumb")
    env.pop("LEDGER_KEY", None)
    for command, expected in steps:
        proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        actual = (proc.stdout + proc.stderr).splitlines()
        if expected and expected[-1].startswith("[exit "):
            code = int(expected[-1][6:-1])
            expected = expected[:-1]
        else:
            code = 0
        assert proc.returncode == code, f"{page.name}: `{command}` exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        assert matches(expected, actual), (f"{page.name}: `{command}` printed:\n" + "\n".join(actual) +
                                           "\n--- expected:\n" + "\n".join(expected))
