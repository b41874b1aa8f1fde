"""The store: the index as a process sees it, one snapshot at a time, reopened when it changes.

The twin of `whoosh.index` (open_dir, refresh): a cheap check per request (CURRENT and the
generation folder's mtime) tells whether a rebuild or an update made a new snapshot necessary.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from kb.config import Settings
from kb.engine.generations import generation_of
from kb.engine.manifest import check_sizes, verify
from kb.engine.snapshot import Snapshot
from kb.errors import IndexDamaged, IndexMissing

RECHECK_SECONDS = 0.05  # a stat per index file, so cheap it could be every request


class Store:
    """The index as the site sees it: one open snapshot per process, reopened when it changes."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._checked = 0.0  # when the open snapshot's file sizes were last checked

    def _change_key(self) -> tuple | None:
        """Cheap to read (a small file and a stat) and different after every rebuild or commit."""
        try:
            name = (self.settings.index_dir / "CURRENT").read_bytes().decode("utf-8").strip()
            return name, os.stat(self.settings.index_dir / name).st_mtime_ns
        except (OSError, ValueError):
            return None

    def snapshot(self) -> Snapshot:
        """The current snapshot; `IndexMissing` if no index was built, `IndexDamaged` if the live
        generation's files are not those it was written with (it is then never mapped)."""
        key = self._change_key()
        current = self._snapshot
        if key is not None and key == self._key and current is not None:
            self._recheck(current)
            return current
        found = generation_of(self.settings.index_dir)
        if found is None:
            raise IndexMissing(f"no index at {self.settings.index_dir}; run `kb index` to build it")
        gen_dir, generation = found
        with self._lock:
            if self._snapshot is None or self._snapshot.generation != generation:
                self._snapshot = None  # the old one is left to the garbage collector: requests may still use it
                self._snapshot = _open_checked(gen_dir, generation)
                self._checked = time.monotonic()
            elif self._snapshot.sizes is None:  # opened before its commit's manifest was written
                self._snapshot.sizes = verify(gen_dir)
            self._key = key
            return self._snapshot

    def _recheck(self, snap: Snapshot) -> None:
        """Every RECHECK_SECONDS, the open snapshot's file sizes against its manifest: a file cut
        short under the server is found before a search touches its missing pages (SIGBUS)."""
        now = time.monotonic()
        if snap.sizes is None or now - self._checked < RECHECK_SECONDS:
            return
        self._checked = now
        try:
            check_sizes(snap.path, snap.sizes)
        except IndexDamaged:
            with self._lock:
                self._snapshot, self._key = None, None
            raise

    def info(self) -> dict:
        """Generation, age, size and location of the live index."""
        snap = self.snapshot()
        with os.scandir(snap.path) as entries:  # one pass: a generation has a few dozen files
            stats = [entry.stat() for entry in entries if entry.is_file()]
        size = sum(st.st_size for st in stats)
        age = time.time() - max(st.st_mtime for st in stats)
        return {"generation": snap.generation, "age_seconds": age, "size_bytes": size,
                "path": str(snap.path), "practices": snap.count, "last_good": snap.last_good}


def _open_checked(gen_dir: Path, generation: str) -> Snapshot:
    """A snapshot of a generation whose files have the sizes its manifest recorded."""
    try:
        sizes = verify(gen_dir)
    except OSError as exc:
        raise IndexDamaged(f"{gen_dir} cannot be read ({exc})") from None
    try:
        snap = Snapshot(gen_dir, generation)
    except Exception as exc:  # sizes were right (or unrecorded), yet Whoosh cannot open it
        raise IndexDamaged(f"{gen_dir} cannot be opened ({type(exc).__name__}: {exc})") from None
    snap.sizes = sizes
    return snap


def open_store(settings: Settings) -> Store:
    """A store for the configured index folder."""
    return Store(settings)
