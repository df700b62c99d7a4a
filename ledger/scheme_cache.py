"""A per-user cache, on disk, of the parsed TOML of large adopted schemes (a province scheme: 2 MB of TOML, which
`tomllib` takes 0.3 s to parse in every new process; its JSON here decodes in 20 ms).

An entry holds exactly what `tomllib.loads(text)` returned — plain data, never code or objects — as JSON, named by
the SHA-256 of the text and the Python version (whose `tomllib` made it). The scheme is still built from that data
by the same code as from the TOML. Only data that JSON holds exactly is cached (text, integers, booleans, arrays,
tables: the only kinds a valid scheme contains). The folder is private to the user and checked on every use; see
docs/security.md ("The scheme cache") for why, and LEDGER_SCHEME_CACHE to move or turn it off.
"""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

ENV = "LEDGER_SCHEME_CACHE"  # a folder, or "off"
MIN_TEXT = 64 * 1024  # smaller schemes parse in a few milliseconds: not worth a file
FORMAT = 1
_TAG = f"py{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}-f{FORMAT}"
_INT_RANGE = (-(2 ** 63), 2 ** 63 - 1)
MAX_ENTRY = 32 * 1024 * 1024  # a scheme file is at most 4 MB; its JSON is smaller than twice that


def cached_toml(digest: str) -> dict | None:
    """The cached TOML data of the text with this SHA-256, or None (no entry, or one that fails any check)."""
    folder = _open_folder(create=False)
    if folder is None:
        return None
    try:
        fd = os.open(_name(digest), os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=folder)
    except OSError:
        return None
    finally:
        os.close(folder)
    try:
        info = os.fstat(fd)
        if not _private(info, stat.S_ISREG) or info.st_size > MAX_ENTRY:
            return None
        with os.fdopen(fd, "rb") as file:
            fd = -1
            raw = file.read()
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    import orjson

    try:
        entry = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not (isinstance(entry, dict) and entry.get("sha256") == digest and entry.get("tag") == _TAG
            and isinstance(entry.get("data"), dict)):
        return None
    return entry["data"]


def store_toml(digest: str, data: dict) -> None:
    """Keep the TOML data of the text with this SHA-256 (silently nothing if it cannot be written)."""
    if not _exact_json(data):
        return
    import orjson

    try:
        raw = orjson.dumps({"sha256": digest, "tag": _TAG, "data": data})
    except (TypeError, orjson.JSONEncodeError):
        return
    folder = _open_folder(create=True)
    if folder is None:
        return
    temp = f".{_name(digest)}.{os.urandom(8).hex()}"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder)
        with os.fdopen(fd, "wb") as file:
            file.write(raw)
        os.replace(temp, _name(digest), src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:
        try:
            os.unlink(temp, dir_fd=folder)
        except OSError:
            pass
    finally:
        os.close(folder)


def cache_folder() -> Path | None:
    """Where entries are kept: LEDGER_SCHEME_CACHE, else $XDG_CACHE_HOME or ~/.cache, /kaohe-ledger/schemes;
    None when turned off, or when that is not an absolute path (no home folder: no cache in the working folder)."""
    value = os.environ.get(ENV)
    if value is not None:
        if value.strip().lower() in ("", "off", "0", "no"):
            return None
        folder = Path(value).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME", "")
        if not os.path.isabs(base):  # the XDG rule: a relative value is ignored
            base = os.path.join(os.path.expanduser("~"), ".cache")
        folder = Path(base) / "kaohe-ledger" / "schemes"
    return folder if folder.is_absolute() else None


def _name(digest: str) -> str:
    return f"{digest}-{_TAG}.json"


def _open_folder(create: bool) -> int | None:
    """A descriptor of the cache folder, once it is shown to be a real folder owned by this user that no one
    else may write to (every file is then opened relative to it, never through a path that could be swapped)."""
    folder = cache_folder()
    if folder is None:
        return None
    if create:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            return None
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        if _private(os.fstat(fd), stat.S_ISDIR):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _private(info: os.stat_result, kind) -> bool:
    """Of the expected kind, owned by this user, and writable by no one else."""
    return kind(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _exact_json(value, depth: int = 0) -> bool:
    """Whether JSON gives this value back exactly (no floats, dates or times; integers within 64 bits)."""
    if depth > 200:
        return False
    if isinstance(value, str):
        return True
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return _INT_RANGE[0] <= value <= _INT_RANGE[1]
    if isinstance(value, dict):
        return all(isinstance(k, str) and _exact_json(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_exact_json(v, depth + 1) for v in value)
    return False
