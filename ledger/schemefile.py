"""Reading a scheme file from disk with one-line errors for every way the file itself can be wrong."""
from __future__ import annotations

from pathlib import Path

from .errors import SchemeError
from .scheme import Scheme
from .years import scheme_from_text

MAX_SCHEME_FILE = 4 * 1024 * 1024


def read_scheme_file(path: str | Path) -> tuple[str, Scheme]:
    """The file's text and the validated scheme; SchemeError names the file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SCHEME_FILE:
            raise SchemeError("larger than 4 MB; not a scheme file", file=str(path))
        raw = path.read_bytes()
    except OSError as exc:
        raise SchemeError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SchemeError("not UTF-8 text (save the scheme as UTF-8)", file=str(path)) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    # validated once per process per content: the adoption's own check then finds it done (0.6 s for a province)
    return text, scheme_from_text(text, str(path))
