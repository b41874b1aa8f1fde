"""Writing: `kb index`, which brings the index up to date, incrementally or by a full rebuild.

The twin of `whoosh.writing`. An update changes the live generation through Whoosh's own
writer (a few files); a rebuild writes a new generation with one worker process per core
(kb.engine.multiproc), each its own segment (kb.engine.codec), and switches to it atomically.

A practice is indexed as one unit with its translation files (`slug.LANG.md`, kb.translation):
its stored SHA-1 combines theirs, so adding, changing or deleting a translation re-indexes it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index

from kb.config import Settings
from kb.engine.codec import codec
from kb.engine.generations import (
    live_generation,
    new_generation,
    remove_partial_generations,
    schema_version,
    switch,
    writer_lock,
)
from kb.engine.lastgood import last_good_versions, read_last_good, write_last_good
from kb.engine.manifest import discard_unrecorded, toc_generation, verify, write_manifest
from kb.engine.multiproc import build_parts, file_bytes, indexed_sha, read_files, sha_of, unit_sha
from kb.engine.schema import SCHEMA_VERSION, build_schema, document
from kb.engine.spelling import read_words, spelling_words, write_words
from kb.engine.whoosh_internals import commit_segments
from kb.errors import IndexDamaged, KbError
from kb.practice import Practice, Problem, check_collection, iter_practice_files, slug_of
from kb.translation import layout, stale_warnings


@dataclass
class UpdateReport:
    """What one `kb index` run did."""

    indexed: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    kept: int = 0  # invalid now, still served as they last were valid
    problems: list[Problem] = field(default_factory=list)
    # reported, but the practice is published: broken `related` links, stale translations
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what `kb index` repaired on its way
    seconds: float = 0.0
    rebuilt: bool = False
    generation: str = ""

    @property
    def skipped(self) -> int:
        """Number of files left out of the index (or kept at a last good version): invalid."""
        return len({p.path for p in self.problems}) - self.kept

    def summary(self) -> str:
        """One line for the admin."""
        kind = "Rebuilt" if self.rebuilt else "Updated"
        kept = f", {self.kept} kept at their last valid version" if self.kept else ""
        return (f"{kind} index {self.generation}: {self.indexed} indexed, {self.updated} updated, "
                f"{self.removed} removed, {self.unchanged} unchanged, {self.skipped} skipped (invalid)"
                f"{kept} in {self.seconds:.2f} s.")


def update_index(settings: Settings, rebuild: bool = False,
                 progress: Callable[[int, int], None] | None = None, check: bool = False) -> UpdateReport:
    """Bring the index up to date with the practices folder: incrementally, or a full rebuild.

    A live generation that is damaged (a file cut short, an unreadable CURRENT or TOC; with
    `check`, any file changed since it was written) is rebuilt; unfinished generations left by
    an interrupted rebuild are removed. A failure to write is a `KbError` naming the path,
    and leaves the live index as it was."""
    started = time.perf_counter()
    try:
        with writer_lock(settings.index_dir):
            report = _bring_up_to_date(settings, rebuild, progress, check)
    except OSError as exc:  # a write (which names no file) or an open or mkdir (which does)
        where = exc.filename if exc.filename and os.path.isabs(exc.filename) else settings.index_dir
        raise KbError(f"cannot write the index at {where}: {exc.strerror or exc}; "
                      "the live index is unchanged") from None
    report.seconds = time.perf_counter() - started
    return report


def _bring_up_to_date(settings: Settings, rebuild: bool, progress, check: bool) -> UpdateReport:
    notes, damage = [], None
    try:
        current = live_generation(settings.index_dir)
    except IndexDamaged as exc:
        current, damage = None, str(exc)
    removed = remove_partial_generations(settings.index_dir, current)
    if removed:
        notes.append(f"removed {len(removed)} unfinished generation(s) left by an interrupted rebuild: "
                     f"{', '.join(removed)}")
    if current is not None and not rebuild and damage is None:
        try:
            verify(current, checksums=check, missing_ok=False, strict=True)
        except IndexDamaged as exc:
            damage = str(exc)
    report = None
    if not (rebuild or damage or current is None or schema_version(current) != SCHEMA_VERSION):
        try:
            report = _update(settings, current, progress)
        except IndexDamaged as exc:
            damage = str(exc)
    if damage:
        notes.append(f"the live index was damaged ({damage}); rebuilt it")
    if report is None:
        report = _rebuild(settings, progress, None if damage else current)
    report.notes = notes + report.notes
    return report


@dataclass
class _Scan:
    files: dict[str, tuple[Path, str]]  # original's relpath -> (path, SHA-1 of it and its translations)
    siblings: dict[str, dict[str, tuple[str, Path]]]  # original's relpath -> language -> its translation
    slug_paths: dict[str, list[str]]
    problems: list[Problem]  # translation files named wrongly or without an original


def _scan(root: Path, hashes: bool = True) -> _Scan:
    if not root.is_dir():
        return _Scan({}, {}, {}, [])
    paths = {path.relative_to(root).as_posix(): path for path in iter_practice_files(root)}
    found = layout(paths)
    shas = {rel: sha_of(file_bytes(path)) for rel, path in paths.items()} if hashes else {}
    siblings = {rel: {lang: (srel, paths[srel]) for lang, srel in langs.items()}
                for rel, langs in found.siblings.items()}
    files = {rel: (paths[rel], unit_sha(shas[rel], [(s, shas[s]) for s, _ in siblings.get(rel, {}).values()])
                   if hashes else "") for rel in found.originals}
    return _Scan(files, siblings, found.slug_paths, found.problems)


def _read(scan: _Scan, rels: list[str], progress) -> tuple[dict[str, Practice], dict[str, str], list[Problem]]:
    practices, shas, problems = {}, {}, []
    for n, rel in enumerate(rels, 1):
        practice, found, sha = read_files(rel, scan.files[rel][0], scan.siblings.get(rel, {}))
        problems += found
        if practice:
            practices[rel], shas[rel] = practice, indexed_sha(sha, rel, found)
        if progress:
            progress(n, len(rels))
    return practices, shas, problems


def _rebuild(settings: Settings, progress, previous: Path | None) -> UpdateReport:
    scan = _scan(settings.practices_dir, hashes=False)
    gen_dir = new_generation(settings.index_dir)
    try:
        ix = index.create_in(gen_dir, build_schema())
        parts = build_parts(gen_dir, [(rel, path, sha, scan.siblings.get(rel, {}))
                                      for rel, (path, sha) in sorted(scan.files.items())], progress)
        commit_segments(ix, [part.segment for part in parts if part.segment is not None])
        links = [link for part in parts for link in part.links]
        collection, warnings = _warnings_apart(check_collection(links, scan.slug_paths))
        bad = {p.path for p in collection} & {link.path for link in links}
        own = {p.path: str(p) for part in parts for p in reversed(part.problems)}
        kept = last_good_versions(previous, settings.practices_dir, set(own))
        if bad or kept:  # indexed before the whole collection was seen: remove them again
            with ix.writer(codec=codec(), compound=False) as writer:
                for rel in bad:
                    writer.delete_by_term("path", rel)
                for rel, (practice, sha) in kept.items():  # their last valid versions, as they were
                    writer.add_document(**document(practice, rel, sha))
        if kept:
            write_last_good(gen_dir, {rel: own[rel] for rel in kept})
        write_words(gen_dir, set().union(*(part.words for part in parts)))
        (gen_dir / "SCHEMA_VERSION").write_text(SCHEMA_VERSION)
        ix.close()
        write_manifest(gen_dir)  # last: a generation without one is unfinished
    except BaseException:
        shutil.rmtree(gen_dir, ignore_errors=True)
        raise
    switch(settings.index_dir, gen_dir, previous)
    problems = sorted([p for part in parts for p in part.problems] + collection + scan.problems)
    warnings += [w for part in parts for w in part.warnings]
    return UpdateReport(indexed=len(links) - len(bad), kept=len(kept), problems=problems, warnings=sorted(warnings),
                        rebuilt=True, generation=gen_dir.name)


def _warnings_apart(problems: list[Problem]) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings): a `related` link to a practice that does not exist is a warning for
    the practice that holds it, which stays published (removing one file must not unpublish
    the others that mention it)."""
    errors, warnings = [], []
    for problem in problems:
        missing = problem.field == "related" and problem.message.endswith("is not the slug of any practice file")
        (warnings if missing else errors).append(problem)
    return errors, warnings


def _collection_problems(practices, indexed_related: dict[str, tuple[str, str]], scan: _Scan) -> list[Problem]:
    """Duplicate slugs and broken `related` links, for changed files and for unchanged indexed ones."""
    problems = check_collection(practices, scan.slug_paths)
    for rel, (_slug, related) in indexed_related.items():
        for target in filter(None, related.split(",")):
            if target not in scan.slug_paths:
                problems.append(Problem(rel, 0, "related", f"{target!r} is not the slug of any practice file"))
    return problems


def _update(settings: Settings, gen_dir: Path, progress) -> UpdateReport:
    scan = _scan(settings.practices_dir)
    try:
        ix = index.open_dir(gen_dir)
        with ix.reader() as reader:
            indexed = _indexed_files(reader)
    except Exception as exc:  # sizes were right, yet Whoosh cannot read it
        raise IndexDamaged(f"{gen_dir} cannot be read ({type(exc).__name__}: {exc})") from None
    changed = sorted(rel for rel, (_, sha) in scan.files.items() if indexed.get(rel, ("",))[0] != sha)
    gone = [rel for rel in indexed if rel not in scan.files]
    practices, shas, problems = _read(scan, changed, progress)
    problems += scan.problems
    # a published practice whose file broke stays as it was, and the error is reported
    kept = {p.path: str(p) for p in reversed(problems) if p.path in indexed}
    unchanged = {rel: (slug_of(Path(rel)), v[1]) for rel, v in indexed.items()
                 if rel in scan.files and rel not in changed}
    collection, warnings = _warnings_apart(_collection_problems(practices.values(), unchanged, scan))
    problems += collection
    bad = {p.path for p in problems}
    warnings += stale_warnings(practices.values())
    report = UpdateReport(generation=gen_dir.name, problems=sorted(problems), warnings=sorted(warnings),
                          kept=len(kept))
    to_delete = set(gone) | (bad & set(indexed)) - set(kept)
    to_write = [rel for rel in practices if rel not in bad]
    toc = toc_generation(gen_dir)
    try:
        if to_delete or to_write:
            _commit(ix, gen_dir, to_delete, [(rel, practices[rel], shas[rel]) for rel in to_write])
        if kept != read_last_good(gen_dir) or to_delete or to_write:
            write_last_good(gen_dir, kept)
            write_manifest(gen_dir)
    except BaseException:
        if toc_generation(gen_dir) == toc:  # the commit failed: what it wrote is not in the manifest
            discard_unrecorded(gen_dir)
        raise
    finally:
        ix.close()
    report.removed = len(to_delete)
    report.updated = sum(1 for rel in to_write if rel in indexed)
    report.indexed = len(to_write) - report.updated
    report.unchanged = len(unchanged) - len(bad & set(unchanged))
    return report


def _commit(ix, gen_dir: Path, to_delete: set[str], to_write: list[tuple[str, Practice, str]]) -> None:
    """Delete and (re)write documents with Whoosh's own writer, in one commit."""
    writer = ix.writer(limitmb=128, codec=codec(), compound=False)
    try:
        for rel in to_delete:
            writer.delete_by_term("path", rel)
        words = set()
        for rel, practice, sha in to_write:
            doc = document(practice, rel, sha)
            writer.update_document(**doc)
            words |= spelling_words(f"{doc[f'title_{practice.language}']} {doc[f'body_{practice.language}']}")
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    if words - set(old_words := read_words(gen_dir)):  # words of removed files may stay: a
        write_words(gen_dir, words | set(old_words))  # suggestion is offered only if it matches


def _indexed_files(reader) -> dict[str, tuple[str, str]]:
    """relpath -> (sha, related) of every live document, read from columns, not records."""
    if not reader.doc_count_all():
        return {}  # an index of no practices has no columns
    paths, shas, related = (reader.column_reader(name) for name in ("path", "sha", "related"))
    return {paths[d]: (shas[d], related[d]) for d in reader.all_doc_ids()}
