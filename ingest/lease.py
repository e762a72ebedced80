"""Reader leases: a generation stays on disk while any process still reads it.

Every generation folder holds an empty ``reader.lock``. A reader takes a shared ``flock`` on it before it
loads the generation and keeps it for as long as it uses that generation (a CLI call: the whole process;
the UI or an API server: until the last request that started on it has finished and the loaded
assistant is garbage-collected). The writer removes an old generation only after taking an exclusive,
non-blocking lock on the same file; when a reader holds it the generation is kept and removed by a later
ingest. The kernel drops a dead process's locks, so a reader killed with ``kill -9`` never pins a
generation. A shared lock needs only read access, so a read-only index is leased the same way.
"""

from __future__ import annotations

import fcntl
import os
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

LOCK_FILE = "reader.lock"


class Lease:
    """A shared lock on one generation folder; released by ``close()`` or when its owner is collected."""

    def __init__(self, gen_dir: Path) -> None:
        path = gen_dir / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            if not gen_dir.is_dir():
                raise
            fd = _create(path)  # a generation written before leases existed
        if fd is None:
            self.fd = None
            return
        fcntl.flock(fd, fcntl.LOCK_SH)  # blocks only while a writer is removing this very generation
        self.fd = fd

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def bind(self, owner: Any) -> None:
        """Release the lease when ``owner`` is garbage-collected (an in-flight request keeps it alive)."""
        fd, self.fd = self.fd, None
        if fd is not None:
            weakref.finalize(owner, os.close, fd)


def _create(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        return None  # read-only and unleased: an old index nobody writes to


def write_lock_file(gen_dir: Path) -> None:
    (gen_dir / LOCK_FILE).touch()


@contextmanager
def exclusive(gen_dir: Path) -> Iterator[bool]:
    """Yield True when no reader holds ``gen_dir`` (the caller may remove it), False when one does."""
    try:
        fd = os.open(gen_dir / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        yield True  # no lock file: a half-written generation no reader can have opened
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
