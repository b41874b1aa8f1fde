"""Parallel rebuilds: one worker process per core, each indexing its share of the files.

The twin of `whoosh.multiproc` (MpWriter): each worker reads, checks and indexes its files into
its own segment of the new generation, and the parent commits the segments unmerged.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from whoosh import index

from kb.engine.codec import Terms, add_document, codec, write_segment
from kb.engine.schema import document
from kb.engine.spelling import spelling_words
from kb.engine.whoosh_internals import close_empty_segment, new_segment_writer
from kb.errors import KbError
from kb.practice import Problem
from kb.source_files import Unreadable, read_source
from kb.translation import read_unit, stale_warnings

PARALLEL_FROM = 400  # files from which a rebuild uses one writer process per core


def file_bytes(path: Path) -> bytes | None:
    """A file's bytes, or None if it cannot be read (read_practice says why)."""
    try:
        return read_source(path)  # no FIFO, device, link out of the folder or oversized file
    except Unreadable:
        return None


def sha_of(raw: bytes | None) -> str:
    """The SHA-1 of a file's bytes, which tells an update whether it changed."""
    return hashlib.sha1(raw).hexdigest() if raw is not None else "unreadable"


def unit_sha(sha: str, siblings: list[tuple[str, str]]) -> str:
    """The SHA-1 of a practice as indexed: its file's, combined with each translation file's
    (path, SHA-1), so that adding, changing or deleting a translation re-indexes the practice."""
    if not siblings:
        return sha
    return hashlib.sha1("\n".join([sha, *(f"{rel} {s}" for rel, s in sorted(siblings))]).encode()).hexdigest()


def indexed_sha(sha: str, rel: str, problems: list[Problem]) -> str:
    """The SHA-1 stored for a practice: marked when one of its translations was left out as
    invalid, so that the next update reads it again (and reports the problem again)."""
    return f"{sha}-partial" if any(p.path != rel for p in problems) else sha


def read_files(rel: str, path: Path, siblings: dict[str, tuple[str, Path]]) -> tuple[object, list[Problem], str]:
    """Read a practice and its translation files once each: (practice or None, problems, SHA-1 of the unit)."""
    raw = file_bytes(path)
    read = {lang: (spath, srel, file_bytes(spath)) for lang, (srel, spath) in siblings.items()}
    practice, problems = read_unit(path, rel, raw, read)
    sha = unit_sha(sha_of(raw), [(srel, sha_of(sraw)) for _, srel, sraw in read.values()])
    return practice, problems, sha


@dataclass
class _Part:
    """What indexing a share of the files produced: a segment, and what the whole needs to know."""

    segment: object
    count: int
    problems: list[Problem]
    warnings: list[Problem]  # stale translations
    links: list[SimpleNamespace]  # path, slug, related and lines of each indexed practice
    words: set[str]


@contextmanager
def _cycle_collector_paused():
    """Pause Python's cycle collector: with a part's postings alive, every full collection
    scanned all of them again (a tenth of a rebuild); nothing made here needs it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build_part(gen_dir: Path, files: list[tuple[str, Path, str, dict]], tick: Callable[[], None]) -> _Part:
    """Read, check and index some practice files into one new segment of a generation."""
    with _cycle_collector_paused():
        return _index_files(gen_dir, files, tick)


def _index_files(gen_dir: Path, files: list[tuple[str, Path, str, dict]], tick: Callable[[], None]) -> _Part:
    ix = index.open_dir(gen_dir)
    writer = new_segment_writer(ix, codec())
    terms: Terms = {}
    part = _Part(None, 0, [], [], [], set())
    try:
        for rel, path, _sha, siblings in files:
            # each file read once, to hash (a rebuild's parts hash their own files) and parse
            practice, found, sha = read_files(rel, path, siblings)
            part.problems += found
            if practice:
                part.warnings += stale_warnings([practice])
                doc = document(practice, rel, indexed_sha(sha, rel, found))
                add_document(writer, terms, doc, part.words)
                part.count += 1
                part.links.append(SimpleNamespace(path=rel, slug=practice.slug, related=practice.related,
                                                  lines={"related": practice.lines.get("related", 0)}))
            tick()
        part.words = spelling_words(" ".join(part.words))
        if not part.count:
            close_empty_segment(writer)
            return part
        part.segment = write_segment(writer, terms)
    except BaseException:
        writer.cancel()
        raise
    # no writer._finish(): it deletes the temporary folder the other parts are still using;
    # the writer that commits the parts' segments deletes it at the end
    return part



def _part_process(gen_dir: Path, files: list, done, results, number: int, parent: int) -> None:
    """A worker process of a parallel rebuild: one part, its result or its error sent back."""
    _die_with(parent)

    def tick():
        with done.get_lock():
            done.value += 1

    try:
        results.put((number, True, _build_part(gen_dir, files, tick)))
    except OSError as exc:
        results.put((number, False, f"cannot write the index at {exc.filename or gen_dir}: {exc.strerror or exc}"))
    except BaseException as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        results.put((number, False, f"{type(exc).__name__}: {exc} at {frame.filename}:{frame.lineno}"))


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with(parent: int) -> None:
    """End this worker when the process that started it ends, even by `kill -9`: otherwise it
    would wait forever to hand over its part, holding the caller's output open. Linux kills it
    at once (PR_SET_PDEATHSIG); elsewhere a thread notices the new parent within a second."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def build_parts(gen_dir: Path, files: list, progress) -> list[_Part]:
    """Index the files in one part, or, for larger collections, one worker process per core.

    Each worker reads and checks its own share of the files, so no step of a rebuild is left
    to a single core; each writes its own segment, and none is merged.
    """
    total = len(files)
    procs = min(os.cpu_count() or 1, 8) if total >= PARALLEL_FROM else 1
    if procs == 1:
        count = iter(range(1, total + 1))
        return [_build_part(gen_dir, files, lambda: progress and progress(next(count), total))]
    ctx = multiprocessing.get_context("fork")
    done, results = ctx.Value("i", 0), ctx.Queue()
    size = -(-total // procs)
    workers = [ctx.Process(target=_part_process, args=(gen_dir, files[i * size:(i + 1) * size], done, results, i, os.getpid()),
                           daemon=True) for i in range(procs)]
    for worker in workers:
        worker.start()
    parts: dict[int, _Part] = {}
    try:
        while len(parts) < procs:
            try:
                number, ok, payload = results.get(timeout=0.25)
            except queue.Empty:
                if progress:
                    progress(done.value, total)
                if any(w.exitcode not in (None, 0) for n, w in enumerate(workers) if n not in parts):
                    raise KbError("an indexing process ended abnormally; the live index is unchanged") from None
                continue
            if not ok:
                raise KbError(f"indexing failed; the live index is unchanged: {payload}")
            parts[number] = payload
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
    if progress:
        progress(total, total)
    return [parts[n] for n in range(procs)]
