"""The index on disk: incremental updates, atomic rebuilds, one writer at a time, and Whoosh's traps."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from conftest import COLLECTION, ROOT, kb_command, write_collection, write_practice

from kb.config import Settings
from kb.engine import live_generation, open_store, update_index, writer_lock
from kb.errors import IndexBusy
from kb.search import SearchRequest, run_search


def slugs(store, q: str = "", **filters) -> list[str]:
    request = SearchRequest.build(q, {k: v for k, v in filters.items()}, sort="title", per_page=100)
    return sorted(hit["slug"] for hit in run_search(store, request).hits)


def count(store) -> int:
    return run_search(store, SearchRequest.build("", {})).total


def test_first_run_builds_everything_and_a_second_run_changes_nothing(settings):
    write_collection(settings.practices_dir)
    first = update_index(settings)
    second = update_index(settings)
    assert (first.rebuilt, first.indexed, first.problems) == (True, len(COLLECTION), [])
    assert (second.rebuilt, second.indexed, second.updated, second.removed, second.unchanged) == (
        False, 0, 0, 0, len(COLLECTION))
    assert slugs(open_store(settings)) == sorted(COLLECTION)


def test_incremental_run_adds_changes_deletes_and_renames(built):
    folder = built.practices_dir
    write_practice(folder, "per-juntos", countries=["PER"], title="Juntos")
    write_practice(folder, "jam-path", countries=["JAM"], title="PATH renamed", year_start=2002)
    (folder / "chn-relocation.md").unlink()
    (folder / "chl-chile-solidario.md").rename(folder / "chl-solidario.md")
    report = update_index(built)
    assert (report.indexed, report.updated, report.removed, report.problems) == (2, 1, 2, [])
    store = open_store(built)
    assert slugs(store, country=["PER"]) == ["per-juntos"]
    assert slugs(store, "renamed") == ["jam-path"]
    assert "chn-relocation" not in slugs(store) and "chl-solidario" in slugs(store)
    assert "chl-chile-solidario" not in slugs(store)


def test_an_invalid_new_file_is_skipped_and_reported_and_the_rest_indexed(built):
    (built.practices_dir / "bad-file.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    report = update_index(built)
    assert [(p.path, p.line, p.field) for p in report.problems] == [("bad-file.md", 3, "front matter")]
    assert (report.skipped, report.kept) == (1, 0)
    assert slugs(open_store(built)) == sorted(COLLECTION)


def test_a_live_file_that_breaks_keeps_its_last_valid_version_published_until_fixed(built):
    write_practice(built.practices_dir, "mex-prospera", title="Prospera renamed", status="finished")  # breaks
    result = subprocess.run(kb_command(built, "index"), capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith("mex-prospera.md:") and ": status: " in result.stderr
    assert "0 skipped (invalid), 1 kept at their last valid version" in result.stdout
    store = open_store(built)
    assert "mex-prospera" in slugs(store) and slugs(store, "renamed") == []  # the version that was valid
    assert store.info()["last_good"] == 1
    stats = subprocess.run(kb_command(built, "stats"), capture_output=True, text=True)
    assert "1 practice(s) served from their last valid version" in stats.stdout
    again = update_index(built)  # reported on every run until it is fixed
    assert ([p.path for p in again.problems], again.kept) == (["mex-prospera.md"], 1)
    rebuilt = update_index(built, rebuild=True)  # a rebuild carries the last valid version over
    assert ([p.path for p in rebuilt.problems], rebuilt.kept, rebuilt.indexed) == (["mex-prospera.md"], 1, 8)
    assert "mex-prospera" in slugs(open_store(built)) and open_store(built).info()["last_good"] == 1
    write_practice(built.practices_dir, "mex-prospera", title="Prospera renamed")
    fixed = update_index(built)
    assert (fixed.problems, fixed.kept, fixed.updated) == ([], 0, 1)
    assert slugs(open_store(built), "renamed") == ["mex-prospera"]
    assert open_store(built).info()["last_good"] == 0


def test_deleting_a_practice_leaves_those_that_link_to_it_published_with_a_warning(built):
    (built.practices_dir / "brazil" / "bra-bolsa-familia.md").unlink()
    report = update_index(built)
    assert report.problems == []
    assert [(p.path, p.field, p.message) for p in report.warnings] == [
        ("brazil/bra-cadastro-unico.md", "related", "'bra-bolsa-familia' is not the slug of any practice file")]
    assert slugs(open_store(built)) == sorted(set(COLLECTION) - {"bra-bolsa-familia"})
    rebuilt = update_index(built, rebuild=True)  # a rebuild judges the link the same way
    assert (rebuilt.problems, [p.path for p in rebuilt.warnings]) == ([], ["brazil/bra-cadastro-unico.md"])
    assert "bra-cadastro-unico" in slugs(open_store(built))


def test_rebuild_switches_generation_atomically_and_keeps_one_previous(built):
    before = live_generation(built.index_dir)
    update_index(built, rebuild=True)
    middle = live_generation(built.index_dir)
    update_index(built, rebuild=True)
    after = live_generation(built.index_dir)
    assert len({before, middle, after}) == 3
    assert sorted(p.name for p in built.index_dir.glob("gen-*")) == sorted([middle.name, after.name])


def test_a_failed_rebuild_leaves_the_old_index_serving(built, monkeypatch):
    import kb.engine.multiproc

    before = live_generation(built.index_dir)
    monkeypatch.setattr(kb.engine.multiproc, "document", lambda *a: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        update_index(built, rebuild=True)
    assert live_generation(built.index_dir) == before
    assert sorted(p.name for p in built.index_dir.glob("gen-*")) == [before.name]
    assert len(slugs(open_store(built))) == len(COLLECTION)


def test_a_second_writer_gets_a_clear_message(built):
    with writer_lock(built.index_dir):
        with pytest.raises(IndexBusy, match=r"is being written by this process"):
            update_index(built)
        result = subprocess.run(kb_command(built, "index"), capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: the index at ") and "is being written by kb index (pid" in result.stderr


def test_a_killed_indexer_loses_nothing_and_leaves_no_stale_lock(built):
    for n in range(300):
        write_practice(built.practices_dir / "bulk", f"bulk-{n:03d}", title=f"Bulk {n}")
    proc = subprocess.Popen(kb_command(built, "index", "--rebuild"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = open_store(built)
    assert count(store) in (len(COLLECTION), len(COLLECTION) + 300)  # old or new, never half
    report = update_index(built)  # the lock was released with the process
    assert report.problems == []
    assert count(open_store(built)) == len(COLLECTION) + 300


def test_searches_in_another_process_never_fail_during_rebuilds(built):
    code = (
        "import sys, time\n"
        "from kb.config import settings\nfrom kb.engine import open_store\n"
        "from kb.search import SearchRequest, run_search\n"
        f"store = open_store(settings({str(built.practices_dir)!r}, {str(built.index_dir)!r}))\n"
        "totals = set(); end = time.time() + 6\n"
        "while time.time() < end:\n"
        "    totals.add(run_search(store, SearchRequest.build('', {})).total)\n"
        "print(sorted(totals))\n"
    )
    searcher = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    for _ in range(4):
        update_index(built, rebuild=True)
    out, err = searcher.communicate(timeout=60)
    assert searcher.returncode == 0, err
    assert out.strip() == f"[{len(COLLECTION)}]"


def test_deleted_documents_disappear_after_a_merge_in_a_long_lived_store(built):
    store = open_store(built)
    assert "jam-path" in slugs(store)
    (built.practices_dir / "jam-path.md").unlink()
    update_index(built)
    for n in range(12):  # enough small commits for Whoosh to merge segments
        write_practice(built.practices_dir, f"extra-{n}", title=f"Extra {n}")
        update_index(built)
    assert "jam-path" not in slugs(store)
    assert len(slugs(store)) == len(COLLECTION) - 1 + 12


def test_a_parallel_rebuild_finds_what_a_single_process_one_finds(built, monkeypatch):
    import kb.engine.multiproc

    write_practice(built.practices_dir / "dup", "bra-bolsa-familia", title="A second Bolsa Família")
    single = update_index(built, rebuild=True)
    queries = ["", "families", "transfer", "pobreza", '"cash transfer"', "México"]
    expected = {q: run_search(open_store(built), SearchRequest.build(q, {}, per_page=100)) for q in queries}
    monkeypatch.setattr(kb.engine.multiproc, "PARALLEL_FROM", 1)  # one worker process per core, even for a few files
    parallel = update_index(built, rebuild=True)
    store = open_store(built)
    assert (parallel.indexed, parallel.problems) == (single.indexed, single.problems)
    assert [p.field for p in parallel.problems] == ["slug"]  # the duplicate is reported and left out
    for q in queries:
        got = run_search(store, SearchRequest.build(q, {}, per_page=100))
        assert ([h["slug"] for h in got.hits], got.facets) == ([h["slug"] for h in expected[q].hits],
                                                             expected[q].facets), q
    assert store.snapshot().suggest("atendance") == "attendance"
    assert sorted(p.name for p in live_generation(built.index_dir).iterdir() if p.suffix not in (".seg", ".toc")
                  and not p.name.startswith("MAIN_")) == ["MANIFEST.json", "SCHEMA_VERSION", "words.txt"]  # no temporary files


def test_a_rebuild_indexes_exactly_what_whoosh_s_own_writer_does(settings):
    queries = ["", "families", "transfer pobreza", '"cash transfer"', "México", "低保", "integrated support"]

    def results():
        store = open_store(settings)
        return {q: (sorted((h["slug"], h["score"]) for h in run_search(store, SearchRequest.build(q, {}, per_page=100)).hits),
                    run_search(store, SearchRequest.build(q, {})).facets) for q in queries}

    write_collection(settings.practices_dir)
    update_index(settings, rebuild=True)  # our writer
    ours = results()
    aside = settings.practices_dir.rename(settings.practices_dir.with_name("aside"))
    settings.practices_dir.mkdir()
    update_index(settings, rebuild=True)  # an empty generation
    settings.practices_dir.rmdir()
    aside.rename(settings.practices_dir)
    assert update_index(settings).indexed == len(COLLECTION)  # incremental: Whoosh's add_document
    assert results() == ours


def test_an_empty_collection_gives_an_empty_index_that_answers_and_updates(settings):
    settings.practices_dir.mkdir(parents=True, exist_ok=True)
    assert update_index(settings, rebuild=True).indexed == 0
    assert [run_search(open_store(settings), SearchRequest.build(q, {})).total for q in ("", "families")] == [0, 0]
    write_practice(settings.practices_dir, "bra-bolsa-familia")
    assert update_index(settings).indexed == 1
    assert slugs(open_store(settings), "families") == ["bra-bolsa-familia"]


def test_every_real_practice_reads_back_from_its_stored_record_as_it_was(tmp_path):
    from kb.engine.bitsets import from_bits
    from kb.engine.lastgood import practice_from_record

    settings = Settings(ROOT / "practices", tmp_path / "index")
    update_index(settings)
    snap = open_store(settings).snapshot()
    records = [snap.record(d) for d in from_bits(snap.all_bits)]
    assert len(records) == len([p for p in (ROOT / "practices").rglob("*.md") if p.stem.count(".") == 0])
    for record in records:
        # what the record says of the translation files beside the practice is theirs, not its own
        stored = {k: v for k, v in record.items() if k not in ("body", "languages", "versions")}
        practice = practice_from_record(stored, record["body"], settings.practices_dir / record["path"])
        assert ({**practice.metadata(), "path": record["path"]}, practice.body) == (stored, record["body"])
