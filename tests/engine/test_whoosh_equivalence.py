"""The engine's shortcuts give exactly what Whoosh's public API gives (see docs/engine.md).

- matching and ranking: our bitsets and BM25 sums equal Whoosh's own `searcher.search` with
  BM25F (same parsed query, same facet filter): the same documents in the same order, scores
  within 1e-6, on the real
  collection and on a generated one written by several worker processes (several segments);
- writing: an index our segment writer made reads back, through Whoosh's own reader, with the
  same terms, postings, lengths and columns as one Whoosh's own writer made;
- reading: our block reader and lengths column reader give what `reader.postings()` and
  `reader.doc_field_length()` give.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from whoosh import index
from whoosh.scoring import BM25F

from bench.generate import generate
from bench.run import seeded_queries
from kb.config import Settings
from kb.engine import open_store, update_index
from kb.engine.bitsets import from_bits
from kb.engine.multiproc import read_files
from kb.engine.schema import build_schema, document
from kb.engine.whoosh_internals import field_lengths
from kb.practice import iter_practice_files, load_tree
from kb.translation import layout

ROOT = Path(__file__).resolve().parents[2]
OPERATORS = ["{a} {b}", "{a} OR {b}", "{a} NOT {b}", "{a} ANDMAYBE {b}", "({a} OR {b}) {c}", "{a}",
             "({a} {b}) OR {c}", "{a} OR NOT {b}", "NOT {a}", "({a} NOT {b}) OR ({b} {c})", "{a} {b} {c}"]


def query_texts(snap, seed: int, count: int) -> list[tuple[str, dict]]:
    """`count` queries with facet filters: the benchmark's, and words taken from the
    collection's own records joined by operators, so that most of them match something."""
    rng = random.Random(seed)
    texts = [(q["q"], q["filters"]) for q in seeded_queries(count // 2, seed)]
    records = [snap.record(d) for d in from_bits(snap.all_bits)]
    words = sorted({w for r in records for w in (r["title"] + " " + r["summary"]).split() if w.isalpha()})
    while len(texts) < count:
        a, b, c = rng.sample(words, 3)
        filters = {"country": [rng.choice(rng.choice(records)["countries"])]} if rng.random() < 0.3 else {}
        texts.append((rng.choice(OPERATORS).format(a=a, b=b, c=c), filters))
    return texts


def same_order_but_for_ties(ours: list, theirs: list, tie: float = 1e-9) -> bool:
    """The same documents in the same order, except that documents whose scores differ by less than
    `tie` may come in either order: two sums of the same doubles in another order can differ in
    their last bit (6.274326142102597 against ...596), and a sort on them then swaps the two."""
    if sorted(d for d, _ in ours) != sorted(d for d, _ in theirs):
        return False
    score = dict(ours)
    return all(a == b or abs(score[a] - score[b]) < tie for (a, _), (b, _) in zip(ours, theirs, strict=True))


def assert_ranking_equals_whoosh(settings: Settings, count: int) -> int:
    """Compare our ranking with Whoosh's for `count` queries; return how many had two or more hits."""
    snap = open_store(settings).snapshot()
    ix = index.open_dir(str(snap.path))
    compared = 0
    with ix.searcher(weighting=BM25F()) as searcher:
        for text, filters in query_texts(snap, 3, count):
            parsed = snap.parse(text, expand=False)  # Whoosh has no 'meta' postings to expand into
            if parsed is None:
                continue
            allowed = snap.all_bits
            for facet, values in filters.items():
                allowed &= snap.with_values(facet, values)
            ours = snap.ranked(parsed, snap.match_bits(parsed) & allowed, None)
            # Whoosh matches and ranks on its own; the facet filter is applied to its ranking
            theirs = [(hit.docnum, hit.score) for hit in searcher.search(parsed, limit=None)
                      if allowed >> hit.docnum & 1]
            assert same_order_but_for_ties(ours, theirs), text
            assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], rel=0, abs=1e-6), text
            compared += len(ours) >= 2
    return compared


def test_ranking_equals_whoosh_bm25f_on_the_real_collection(tmp_path):
    settings = Settings(ROOT / "practices", tmp_path / "index")
    update_index(settings, rebuild=True)
    assert assert_ranking_equals_whoosh(settings, 240) >= 60


def test_ranking_equals_whoosh_bm25f_on_a_generated_collection_of_several_segments(tmp_path):
    settings = Settings(generate(tmp_path / "practices", 600, seed=5), tmp_path / "index")
    update_index(settings, rebuild=True)  # from 400 files: one worker process, one segment, per core
    assert open_store(settings).snapshot().segment_count() >= 2
    assert assert_ranking_equals_whoosh(settings, 240) >= 60


def whoosh_written_index(practices_dir: Path, folder: Path):
    """The same practices indexed by Whoosh's own writer (add_document), in the same order."""
    folder.mkdir()
    ix = index.create_in(str(folder), build_schema())
    paths = {p.relative_to(practices_dir).as_posix(): p for p in iter_practice_files(practices_dir)}
    found = layout(paths)  # each practice is read with its translation files, as one unit
    with ix.writer() as writer:
        for rel in sorted(found.originals):
            siblings = {lang: (srel, paths[srel]) for lang, srel in found.siblings.get(rel, {}).items()}
            practice, problems, sha = read_files(rel, paths[rel], siblings)
            assert problems == []
            writer.add_document(**document(practice, rel, sha))
    return ix


def index_contents(reader) -> dict:
    """Everything Whoosh's reader says about an index: terms, postings, lengths and columns."""
    schema = reader.schema
    postings = {}
    for field_name, term in reader.all_terms():
        matcher = reader.postings(field_name, term)
        found = []
        while matcher.is_active():
            found.append((matcher.id(), matcher.weight(), matcher.value()))
            matcher.next()
        postings[field_name, term] = found
    docs = list(reader.all_doc_ids())
    scorable = [name for name in schema.names() if schema[name].scorable]
    return {"docs": docs, "postings": postings,
            "lengths": {name: [reader.doc_field_length(d, name) for d in docs] for name in scorable},
            "totals": {name: reader.field_length(name) for name in scorable},
            "columns": {name: [reader.column_reader(name)[d] for d in docs]
                        for name in schema.names() if schema[name].column_type}}


def test_our_segment_writer_gives_whoosh_s_postings(tmp_path):
    settings = Settings(ROOT / "practices", tmp_path / "ours")
    update_index(settings, rebuild=True)
    ours = index.open_dir(str(open_store(settings).snapshot().path))
    theirs = whoosh_written_index(settings.practices_dir, tmp_path / "theirs")
    with ours.reader() as ours_reader, theirs.reader() as their_reader:
        got, want = index_contents(ours_reader), index_contents(their_reader)
    assert len(want["docs"]) == len(load_tree(ROOT / "practices")[0]) and len(want["postings"]) > 10_000
    assert set(got["postings"]) ^ set(want["postings"]) == set()
    assert got == want


def test_our_postings_and_lengths_readers_give_what_whoosh_s_reader_gives(tmp_path):
    settings = Settings(generate(tmp_path / "practices", 500, seed=8), tmp_path / "index")
    update_index(settings, rebuild=True)
    snap = open_store(settings).snapshot()
    ix = index.open_dir(str(snap.path))
    rng = random.Random(9)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        terms = [(f, t) for f, t in reader.all_terms() if f.startswith(("title_", "body_"))]
        for field_name, term in rng.sample(terms, 400):
            want = reader.postings(field_name, term)
            pairs = []
            while want.is_active():
                pairs.append((want.id(), want.weight()))
                want.next()
            got = snap.postings.term(field_name, term)
            assert list(zip(got.docs, got.weights, strict=True)) == pairs, (field_name, term)
        for name in ("title_en", "body_es", "body_zh"):
            lengths = [n for leaf, _ in searcher.leaf_searchers() for n in field_lengths(leaf.reader(), name)]
            assert lengths == [reader.doc_field_length(d, name, 1) or 1 for d in range(reader.doc_count_all())]


def test_another_whoosh_version_is_refused_at_import_with_a_clear_message(tmp_path):
    import subprocess
    import sys

    code = ("import sys, whoosh\nwhoosh.__version__ = (2, 7, 6)\nfrom kb.cli import run\n"
            f"sys.argv = ['kb', '--index', {str(tmp_path)!r}, 'search', 'x']\nrun()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("Error: kb.engine reads Whoosh's private structures of whoosh-reloaded 2.7.5, but 2.7.6 "
                             "is installed; install the version pinned in setup.cfg (or re-check "
                             "kb/engine/whoosh_internals.py)\n")
