"""Environment faults in plain words: a full disk or a permission problem becomes one line naming the
cause and the path, instead of a traceback from SQLite or Chroma's Rust core."""

from __future__ import annotations

import errno
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from common.errors import PapersError

_FULL = (errno.ENOSPC, errno.EDQUOT)
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
KEPT = "the previous index (if any) is still the live one"


def _free(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _megabytes(n: int | None) -> str:
    return "unknown" if n is None else f"{n / 1e6:.1f} MB"


def disk_full(path: Path) -> str:
    return (f"the disk holding {path} is full (it ran out of space during the ingest; {_megabytes(_free(path))} free "
            f"after cleaning up): free some space and re-run `papers ingest`; {KEPT}")


def denied(path: Path | str, what: str = "write to") -> str:
    return (f"permission denied: cannot {what} {path}: fix its permissions or set PAPERS_DATA_DIR to a folder you "
            f"can write; {KEPT}")


def explain(exc: BaseException, data_dir: Path) -> str | None:
    """One line for a write fault, or None when ``exc`` is not one."""
    if isinstance(exc, OSError) and exc.errno is not None:
        where = Path(exc.filename) if exc.filename else data_dir
        if exc.errno in _FULL:
            return disk_full(where if where.exists() else data_dir)
        if exc.errno in _DENIED:
            return denied(where)
        return f"cannot write {where}: {exc.strerror or exc}; {KEPT}"
    text = str(exc).lower()
    if "readonly database" in text or "read-only" in text or "permission denied" in text:
        return denied(data_dir / "chroma")
    if "disk is full" in text or "no space" in text or "failed to apply logs" in text or "compaction" in text:
        free = _free(data_dir)
        if "failed to apply logs" in text and free is not None and free > 256e6:
            return f"Chroma could not write its store in {data_dir / 'chroma'} ({str(exc)[:160]}); {KEPT}"
        return disk_full(data_dir)
    return None


@contextmanager
def plain_write_errors(data_dir: Path) -> Iterator[None]:
    """Turn disk-full and permission faults raised inside the block into a one-line PapersError."""
    try:
        yield
    except PapersError:
        raise
    except Exception as exc:
        line = explain(exc, data_dir)
        if line is None:
            raise
        raise PapersError(line) from None
