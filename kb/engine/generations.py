"""Generations: the index folder's layout, its single-writer lock and the atomic switch.

    CURRENT            name of the live generation folder (replaced atomically)
    .lock              locked by the one running writer; released by the OS if it dies
    gen-<time>-<pid>/  a complete Whoosh index; the live one and the previous one are kept

Whoosh's own lock and TOC generations work inside one folder; a rebuild writes a new folder
beside the live one, so searches never see half an index and a failed rebuild changes nothing.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from whoosh import index
from whoosh.filedb.filestore import FileStorage

from kb.errors import IndexBusy

_HELD: set[Path] = set()  # POSIX locks do not exclude the same process, so track our own
_HELD_LOCK = threading.Lock()


@contextmanager
def writer_lock(index_dir: Path):
    """Hold the single-writer lock; a second writer gets a clear `IndexBusy`."""
    index_dir.mkdir(parents=True, exist_ok=True)
    key = index_dir.resolve()
    with _HELD_LOCK:
        # checked before opening the file: closing any descriptor of it would drop our POSIX lock
        if key in _HELD:
            raise IndexBusy(f"the index at {index_dir} is being written by this process; "
                            "try again when it finishes")
        _HELD.add(key)
    try:
        with _posix_lock(index_dir / ".lock", index_dir):
            yield
    finally:
        with _HELD_LOCK:
            _HELD.discard(key)


@contextmanager
def _posix_lock(path: Path, index_dir: Path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            # a POSIX record lock, not flock(): it belongs to this process alone, so the worker
            # processes of a multi-process rebuild do not inherit it and a killed indexer frees it
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise IndexBusy(f"the index at {index_dir} is being written by {holder}; "
                            "try again when it finishes") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"kb index (pid {os.getpid()}, started {time.strftime('%H:%M:%S')})".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def live_generation(index_dir: Path) -> Path | None:
    """The folder of the live index, or None if none was built."""
    try:
        name = (index_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    path = index_dir / name
    return path if name and index.exists_in(path) else None


def schema_version(gen_dir: Path) -> str | None:
    """The schema version a generation was built with, or None if it cannot be read."""
    try:
        return (gen_dir / "SCHEMA_VERSION").read_text().strip()
    except OSError:
        return None


def switch(index_dir: Path, gen_dir: Path) -> None:
    """Point CURRENT at `gen_dir` atomically, then delete generations older than the previous one."""
    previous = live_generation(index_dir)
    tmp = index_dir / f".CURRENT.{os.getpid()}"
    tmp.write_text(gen_dir.name + "\n")
    os.replace(tmp, index_dir / "CURRENT")
    keep = {gen_dir.name, previous.name if previous else ""}
    for old in index_dir.glob("gen-*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


def generation_of(index_dir: Path) -> tuple[Path, str] | None:
    """The live generation folder and a label that changes on every rebuild or commit."""
    gen_dir = live_generation(index_dir)
    if gen_dir is None:
        return None
    return gen_dir, f"{gen_dir.name}.{_toc_generation(gen_dir)}"


def _toc_generation(gen_dir: Path) -> int:
    return index.FileIndex(FileStorage(str(gen_dir))).latest_generation()


