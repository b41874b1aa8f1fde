"""The store: the index as a process sees it, one snapshot at a time, reopened when it changes.

The twin of `whoosh.index` (open_dir, refresh): a cheap check per request (CURRENT and the
generation folder's mtime) tells whether a rebuild or an update made a new snapshot necessary.
"""

from __future__ import annotations

import os
import threading
import time

from kb.config import Settings
from kb.engine.generations import generation_of
from kb.engine.snapshot import Snapshot
from kb.errors import IndexMissing


class Store:
    """The index as the site sees it: one open snapshot per process, reopened when it changes."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._key: tuple | None = None

    def _change_key(self) -> tuple | None:
        """Cheap to read (a small file and a stat) and different after every rebuild or commit."""
        try:
            name = (self.settings.index_dir / "CURRENT").read_text().strip()
            return name, os.stat(self.settings.index_dir / name).st_mtime_ns
        except OSError:
            return None

    def snapshot(self) -> Snapshot:
        """The current snapshot; raises `IndexMissing` if no index was built."""
        key = self._change_key()
        current = self._snapshot
        if key is not None and key == self._key and current is not None:
            return current
        found = generation_of(self.settings.index_dir)
        if found is None:
            raise IndexMissing(f"no index at {self.settings.index_dir}; run `kb index` to build it")
        gen_dir, generation = found
        with self._lock:
            if self._snapshot is None or self._snapshot.generation != generation:
                self._snapshot = Snapshot(gen_dir, generation)
                # the old snapshot is left to the garbage collector: requests may still use it
            self._key = key
            return self._snapshot

    def info(self) -> dict:
        """Generation, age, size and location of the live index."""
        snap = self.snapshot()
        with os.scandir(snap.path) as entries:  # one pass: a generation has a few dozen files
            stats = [entry.stat() for entry in entries if entry.is_file()]
        size = sum(st.st_size for st in stats)
        age = time.time() - max(st.st_mtime for st in stats)
        return {"generation": snap.generation, "age_seconds": age, "size_bytes": size,
                "path": str(snap.path), "practices": snap.count}


def open_store(settings: Settings) -> Store:
    """A store for the configured index folder."""
    return Store(settings)
