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
import re
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from kb.engine.manifest import MANIFEST, toc_generation
from kb.errors import IndexBusy, IndexDamaged

GENERATION_RE = re.compile(r"gen-[0-9T]+-[0-9]+")

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
    """The folder of the live index, or None if none was built; `IndexDamaged` if CURRENT
    cannot be read or names no generation folder."""
    path = index_dir / "CURRENT"
    try:
        name = path.read_bytes().decode("utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexDamaged(f"{path} cannot be read ({exc})") from None
    if not GENERATION_RE.fullmatch(name):
        raise IndexDamaged(f"{path} does not name a generation folder (gen-...)")
    if not (index_dir / name).is_dir():
        raise IndexDamaged(f"{path} names {name}, which is missing")
    return index_dir / name


def new_generation(index_dir: Path) -> Path:
    """A new, empty generation folder, named for the time (and unique)."""
    gen_dir = index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}"
    gen_dir.mkdir(parents=True)
    return gen_dir


def remove_partial_generations(index_dir: Path, live: Path | None) -> list[str]:
    """Delete the generation folders that a killed rebuild left unfinished (no manifest, not
    live); the writer lock is held, so no other rebuild is writing one. Returns their names."""
    removed = []
    for folder in sorted(index_dir.glob("gen-*")):
        if folder != live and folder.is_dir() and not (folder / MANIFEST).exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def schema_version(gen_dir: Path) -> str | None:
    """The schema version a generation was built with, or None if it cannot be read."""
    try:
        return (gen_dir / "SCHEMA_VERSION").read_text().strip()
    except OSError:
        return None


def switch(index_dir: Path, gen_dir: Path, previous: Path | None) -> None:
    """Point CURRENT at `gen_dir` atomically, then delete generations older than the previous one."""
    tmp = index_dir / f".CURRENT.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(gen_dir.name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
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
    return gen_dir, f"{gen_dir.name}.{toc_generation(gen_dir)}"


