"""Hostile inputs shared by the hostile-input tests: nasty numbers, look-alike names, mutated scheme files."""
from __future__ import annotations

import re

from hypothesis import HealthCheck
from hypothesis import strategies as st

from tests.hy_ledger import EXAMPLES, UNIT

SLOW = 20.0  # seconds: no single hostile input may take longer (a hang shows up as a failure, not a stuck suite)
EXAMPLE_TEXTS = {p.name: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.toml"))}
FAST = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}

NASTY_NUMBERS = ["1e400", "-1e400", "10" + "0" * 50, "1" + "0" * 5000, "-0", "-0.0", "+0", "NaN", "nan", "-NaN",
                 "Infinity", "-inf", "sNaN", "0x10", "1_000", "１２", "٣", "5.", ".5", "1e-400", "0.1e1", "00",
                 "1,5", " 5", "5 ", "5\n", "", "-", "+", "e5", "1" * 40 + "." + "1" * 40, "９９.５", "Ⅻ"]
LOOKALIKES = [UNIT + " ", " " + UNIT, UNIT + "\u3000", UNIT + "\u200b", "\u202e" + UNIT, "办公室\t", "財政局",
              "财政局\x00", "ｆ", "办 公室", UNIT.encode("utf-8").decode("latin-1"), "办公室" * 100, "\ufeff办公室"]



SPLICE = ["\n", "\r\n", "—", " ", "9" * 30, "-1", "1e3", "\ufeff", "\x00", "\x1b", "null", "[]", "{}", "[", "]]", "=",
          '"', "'''", "\n[groups.x]\n"]


@st.composite
def mutated(draw, original: str) -> bytes:
    """A text truncated, bit-flipped, with a hostile token spliced in, its lines shuffled, or replaced by bytes."""
    data = original.encode("utf-8")
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "lines", "random"]))
    if kind == "truncate":
        return data[:draw(st.integers(0, len(data)))]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 6))):
            out[draw(st.integers(0, len(out) - 1))] ^= 1 << draw(st.integers(0, 7))
        return bytes(out)
    if kind == "splice":
        at = draw(st.integers(0, len(original)))
        token = draw(st.one_of(st.text(max_size=12), st.sampled_from(SPLICE + NASTY_NUMBERS + LOOKALIKES)))
        return (original[:at] + token + original[at:]).encode("utf-8", "surrogatepass")
    if kind == "lines":
        return "\n".join(draw(st.permutations(original.split("\n")))).encode("utf-8")
    return draw(st.binary(max_size=300))


@st.composite
def mutated_scheme(draw) -> bytes:
    """An example scheme mutated as text, with a number made hostile, a name made a look-alike, or re-encoded."""
    text = EXAMPLE_TEXTS[draw(st.sampled_from(sorted(EXAMPLE_TEXTS)))]
    kind = draw(st.sampled_from(["text", "text", "number", "name", "encoding"]))
    if kind == "text":
        return draw(mutated(text))
    if kind == "number":
        spans = [m.span() for m in re.finditer(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])", text)]
        start, end = spans[draw(st.integers(0, len(spans) - 1))]
        number = draw(st.sampled_from(NASTY_NUMBERS))
        number = number if text[start - 1:start] == '"' or draw(st.booleans()) else f'"{number}"'
        return (text[:start] + number + text[end:]).encode("utf-8")
    if kind == "name":
        name = draw(st.sampled_from(sorted(set(re.findall(r'"([^"\n]{2,24})"', text)))))
        twin = draw(st.sampled_from([name + " ", " " + name, name + "\u3000", name + "\u200b", name + "\t",
                                     name.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}), name + "\x07"]))
        return (text.replace(name, twin) if draw(st.booleans()) else
                text.replace(f'"{name}"', f'"{twin}"', 1)).encode("utf-8")
    encoding = draw(st.sampled_from(["utf-16", "gbk", "gb18030", "big5", "utf-8-sig", "latin-1", "utf-32"]))
    return text.encode(encoding, errors="replace")
