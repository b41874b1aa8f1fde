"""The Whoosh index: schema, analysers, building, atomic rebuilds and per-generation snapshots.

This is the only module that imports Whoosh. Layout of the index folder:

    CURRENT            name of the live generation folder (replaced atomically)
    .lock              locked by the one running writer; released by the OS if it dies
    gen-<time>-<pid>/  a complete Whoosh index; the live one and the previous one are kept
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, reduce
from pathlib import Path

from whoosh import index, qparser, query
from whoosh.analysis import (
    CharsetFilter,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.lang import stemmer_for_language, stopwords_for_language
from whoosh.matching import ListMatcher, NullMatcher
from whoosh.reading import TermNotFound
from whoosh.support.charset import accent_map

from kb import vocab
from kb.config import Settings
from kb.errors import IndexBusy, IndexMissing
from kb.fields import FACETS
from kb.practice import Practice, Problem, check_collection, iter_practice_files, read_practice, slug_of
from kb.render import plain_text
from kb.snippets import make_snippet, match_spans

LANGS = vocab.LANGUAGES
CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
MAX_QUERY_TERMS = 64
SCHEMA_VERSION = "4"  # bump when the schema or an analyser changes: the next `kb index` rebuilds
PARALLEL_FROM = 400  # files from which a rebuild uses one writer process per core
MATCH_CACHE = 512  # query texts whose matches each snapshot remembers
TERM_CACHE = 8192  # term bitsets each snapshot remembers (about 1.3 kB each at 10,000 documents)


# ---- analysers -------------------------------------------------------------------------------

class ChineseTokenizer(Tokenizer):
    """Segments Chinese with jieba's search mode and adds character bigrams, so that a
    two-character query finds the longer words that contain it."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for word, start, end in _chinese_tokens(value):
            token.text, token.boost, token.stopped = word, 1.0, False
            if positions:
                token.pos = pos
                pos += 1
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


def _chinese_tokens(text: str) -> Iterator[tuple[str, int, int]]:
    if not CJK_RE.search(text):
        # no Chinese at all (most queries): the words as jieba would give them, without loading
        # its dictionary, which costs a second and some 100 MB per process
        for match in re.finditer(r"[^\W_]+", text):
            yield match.group(), match.start(), match.end()
        return
    import jieba

    jieba.setLogLevel(logging.WARNING)
    seen = set()
    for word, start, end in jieba.tokenize(text, mode="search"):
        word = word.strip()
        if word and (word.isalnum() or CJK_RE.match(word)):
            seen.add((word, start))
            yield word, start, end
    for run in CJK_RE.finditer(text):
        chars = run.group()
        for i in range(len(chars) - 1):
            start = run.start() + i
            if (chars[i:i + 2], start) not in seen:
                yield chars[i:i + 2], start, start + 2


def text_analyzer(lang: str):
    """Per-language analysis: Chinese segmented; others lowercased, accents folded, then stemmed."""
    if lang == "zh":
        return ChineseTokenizer() | LowercaseFilter() | StopFilter(stoplist=_western_stops())
    # Stop words of all three languages everywhere: a query is parsed against every language's
    # fields, and 'de' or 'and' kept by one analyser would become a required word there.
    # Stop words first (the lists are accented), then fold, then stem: 'educacion' == 'educación'.
    return (RegexTokenizer(r"\w+(?:['’.]\w+)*") | LowercaseFilter() | StopFilter(stoplist=_western_stops())
            | CharsetFilter(accent_map) | StemFilter(lang=lang, cachesize=50000))


@lru_cache(maxsize=1)
def _western_stops() -> frozenset[str]:
    """English, Spanish and Portuguese stop words, except words that are names in the vocabulary
    (the Spanish 'sus' is also Brazil's health system, SUS)."""
    stops = frozenset().union(*(stopwords_for_language(n) for n in ("english", "spanish", "portuguese")))
    names = {t.lower() for term in vocab.policy_types() for t in term.synonyms if " " not in t}
    return stops - names


def folding_analyzer():
    """Lowercase and fold accents, no stemming: spelling suggestions."""
    return RegexTokenizer(r"\w+") | LowercaseFilter() | CharsetFilter(accent_map)


class MultiStemFilter(Filter):
    """Stems each word as English, Spanish and Portuguese, yielding each distinct stem.

    Names and labels in the vocabulary come in several languages, and so may the query that
    mentions them: 'pensiones' and 'pension' both reach the social-pensions labels.
    """

    def __call__(self, tokens):
        for token in tokens:
            original, seen = token.text, set()
            for stem in _stemmers():
                token.text = stem(original)
                if token.text not in seen:
                    seen.add(token.text)
                    yield token


@lru_cache(maxsize=1)
def _stemmers():
    return [stemmer_for_language(lang) for lang in ("en", "es", "pt")]


def vocabulary_analyzer():
    """For country names and policy-type labels and synonyms in every language."""
    return (RegexTokenizer(r"\w+") | LowercaseFilter() | StopFilter(stoplist=_western_stops())
            | CharsetFilter(accent_map)
            | MultiStemFilter())


def build_schema() -> Schema:
    """The index schema: text per language, facet keywords from `kb.fields.FACETS`, stored record."""
    fields = {
        "path": ID(unique=True, stored=True, sortable=True),
        "slug": ID(unique=True, stored=True, sortable=True),
        "sha": ID(stored=True, sortable=True),
        "related": ID(stored=True, sortable=True),
        "record": STORED(),
        "meta": TEXT(analyzer=vocabulary_analyzer(), phrase=False, multitoken_query="or"),
        "spell": TEXT(analyzer=folding_analyzer(), phrase=False),
        "title_sort": ID(sortable=True),
        "year_start": NUMERIC(sortable=True),
    }
    for lang in LANGS:
        fields[f"title_{lang}"] = TEXT(analyzer=text_analyzer(lang), field_boost=3.0)
        fields[f"body_{lang}"] = TEXT(analyzer=text_analyzer(lang))
    for facet in FACETS:
        fields[facet.name] = KEYWORD(commas=True, lowercase=False, scorable=False)
    return Schema(**fields)


def text_fields(expand: bool = True) -> list[str]:
    """The fields a free-text query searches; with `expand`, also the vocabulary names ('meta')."""
    fields = [f"{kind}_{lang}" for lang in LANGS for kind in ("title", "body")]
    return [*fields, "meta"] if expand else fields


# ---- documents -------------------------------------------------------------------------------

def document(practice: Practice, relpath: str, sha: str) -> dict:
    """The Whoosh document of a practice."""
    lang = practice.language
    title = " ".join(filter(None, [practice.title, practice.local_name]))
    body = " ".join([practice.summary, " ".join(practice.tags), plain_text(practice.body)])
    record = {**practice.metadata(), "path": relpath, "body": practice.body}
    doc = {
        "path": relpath, "slug": practice.slug, "sha": sha, "related": ",".join(practice.related),
        "record": json.dumps(record, ensure_ascii=False), "meta": _meta_text(practice),
        "spell": _distinct_words(f"{title} {body}"), "title_sort": sort_key(practice.title),
        "year_start": practice.year_start, f"title_{lang}": title, f"body_{lang}": body,
    }
    for other, entry in practice.translations.items():  # found in the other languages too
        doc[f"title_{other}"] = entry["title"]
        doc[f"body_{other}"] = entry["summary"]
    for facet in FACETS:
        value = getattr(practice, facet.source)
        values = value if isinstance(value, list) else [value] if value else []
        doc[facet.name] = ",".join(values)
    return doc


def _distinct_words(text: str) -> str:
    """Each word once: spelling suggestions need the vocabulary, not every occurrence."""
    return " ".join(dict.fromkeys(re.findall(r"\w+", text.lower())))


def _meta_text(practice: Practice) -> str:
    names = [n for c in practice.countries for n in vocab.countries().get(c).labels.values()]
    for slug in practice.policy_types:
        term = vocab.policy_types().get(slug)
        names += [*term.labels.values(), *term.synonyms]
    return " ".join(names)


def sort_key(title: str) -> str:
    """Case- and accent-insensitive sort key for titles."""
    folded = unicodedata.normalize("NFKD", title.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


# ---- writing ---------------------------------------------------------------------------------

@dataclass
class UpdateReport:
    """What one `kb index` run did."""

    indexed: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    rebuilt: bool = False
    generation: str = ""

    @property
    def skipped(self) -> int:
        """Number of files left out of the index because they are invalid."""
        return len({p.path for p in self.problems})

    def summary(self) -> str:
        """One line for the admin."""
        kind = "Rebuilt" if self.rebuilt else "Updated"
        return (f"{kind} index {self.generation}: {self.indexed} indexed, {self.updated} updated, "
                f"{self.removed} removed, {self.unchanged} unchanged, {self.skipped} skipped (invalid) "
                f"in {self.seconds:.2f} s.")


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


def update_index(settings: Settings, rebuild: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> UpdateReport:
    """Bring the index up to date with the practices folder: incrementally, or a full rebuild."""
    started = time.perf_counter()
    with writer_lock(settings.index_dir):
        current = live_generation(settings.index_dir)
        if rebuild or current is None or _version(current) != SCHEMA_VERSION:
            report = _rebuild(settings, progress)
        else:
            report = _update(settings, current, progress)
    report.seconds = time.perf_counter() - started
    return report


def live_generation(index_dir: Path) -> Path | None:
    """The folder of the live index, or None if none was built."""
    try:
        name = (index_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    path = index_dir / name
    return path if name and index.exists_in(path) else None


@dataclass
class _Scan:
    files: dict[str, tuple[Path, str]]  # relpath -> (path, sha1)
    slug_paths: dict[str, list[str]]


def _scan(root: Path) -> _Scan:
    files, slug_paths = {}, {}
    if not root.is_dir():
        return _Scan(files, slug_paths)
    for path in iter_practice_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            sha = hashlib.sha1(path.read_bytes()).hexdigest()
        except OSError:
            sha = "unreadable"
        files[rel] = (path, sha)
        slug_paths.setdefault(slug_of(path), []).append(rel)
    return _Scan(files, slug_paths)


def _read(scan: _Scan, rels: list[str], progress) -> tuple[dict[str, Practice], list[Problem]]:
    practices, problems = {}, []
    for n, rel in enumerate(rels, 1):
        practice, found = read_practice(scan.files[rel][0], rel)
        problems += found
        if practice:
            practices[rel] = practice
        if progress:
            progress(n, len(rels))
    return practices, problems


def _rebuild(settings: Settings, progress) -> UpdateReport:
    scan = _scan(settings.practices_dir)
    practices, problems = _read(scan, sorted(scan.files), progress)
    problems += _collection_problems(practices.values(), {}, scan)
    bad = {p.path for p in problems}
    gen_dir = settings.index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}"
    gen_dir.mkdir(parents=True)
    ix = index.create_in(gen_dir, build_schema())
    # worker processes pay off only on larger collections: each must start and load its analysers
    procs = (os.cpu_count() or 1) if len(practices) >= PARALLEL_FROM else 1
    writer = ix.writer(limitmb=256, procs=procs, multisegment=procs > 1)
    try:
        count = 0
        for rel, practice in practices.items():
            if rel not in bad:
                writer.add_document(**document(practice, rel, scan.files[rel][1]))
                count += 1
        writer.commit(optimize=True)
        (gen_dir / "SCHEMA_VERSION").write_text(SCHEMA_VERSION)
    except BaseException:
        writer.cancel()
        shutil.rmtree(gen_dir, ignore_errors=True)
        raise
    ix.close()
    _switch(settings.index_dir, gen_dir)
    return UpdateReport(indexed=count, problems=sorted(problems), rebuilt=True, generation=gen_dir.name)


def _version(gen_dir: Path) -> str | None:
    try:
        return (gen_dir / "SCHEMA_VERSION").read_text().strip()
    except OSError:
        return None


def _switch(index_dir: Path, gen_dir: Path) -> None:
    """Point CURRENT at `gen_dir` atomically, then delete generations older than the previous one."""
    previous = live_generation(index_dir)
    tmp = index_dir / f".CURRENT.{os.getpid()}"
    tmp.write_text(gen_dir.name + "\n")
    os.replace(tmp, index_dir / "CURRENT")
    keep = {gen_dir.name, previous.name if previous else ""}
    for old in index_dir.glob("gen-*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)


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
    ix = index.open_dir(gen_dir)
    with ix.reader() as reader:
        indexed = _indexed_files(reader)
    changed = sorted(rel for rel, (_, sha) in scan.files.items() if indexed.get(rel, ("",))[0] != sha)
    gone = [rel for rel in indexed if rel not in scan.files]
    practices, problems = _read(scan, changed, progress)
    unchanged = {rel: (slug_of(Path(rel)), v[1]) for rel, v in indexed.items()
                 if rel in scan.files and rel not in changed}
    problems += _collection_problems(practices.values(), unchanged, scan)
    bad = {p.path for p in problems}
    report = UpdateReport(generation=gen_dir.name, problems=sorted(problems))
    to_delete = set(gone) | (bad & set(indexed))
    to_write = [rel for rel in practices if rel not in bad]
    if to_delete or to_write:
        writer = ix.writer(limitmb=128)
        try:
            for rel in to_delete:
                writer.delete_by_term("path", rel)
            for rel in to_write:
                writer.update_document(**document(practices[rel], rel, scan.files[rel][1]))
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
    report.removed = len(to_delete)
    report.updated = sum(1 for rel in to_write if rel in indexed)
    report.indexed = len(to_write) - report.updated
    report.unchanged = len(unchanged) - len(bad & set(unchanged))
    ix.close()
    return report


def _indexed_files(reader) -> dict[str, tuple[str, str]]:
    """relpath -> (sha, related) of every live document, read from columns, not stored records."""
    paths, shas, related = (reader.column_reader(name) for name in ("path", "sha", "related"))
    return {paths[d]: (shas[d], related[d]) for d in reader.all_doc_ids()}


# ---- reading ---------------------------------------------------------------------------------

def to_bits(docnums, size: int = 0) -> int:
    """A set of document numbers as a Python int bitset."""
    buf = bytearray(size // 8 + 1)
    for d in docnums:
        if d >= len(buf) * 8:
            buf.extend(bytes(d // 8 + 1 - len(buf)))
        buf[d >> 3] |= 1 << (d & 7)
    return int.from_bytes(buf, "little")


def from_bits(bits: int) -> list[int]:
    """The document numbers in a bitset, ascending."""
    out = []
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    for i, byte in enumerate(data):
        while byte:
            low = byte & -byte
            out.append(i * 8 + low.bit_length() - 1)
            byte ^= low
    return out


class Snapshot:
    """One open generation of the index with what searches need precomputed.

    Facet values become bitsets once per generation, so facet counts cost a few big-int
    ANDs per request instead of a pass over every document.
    """

    def __init__(self, gen_dir: Path, generation: str):
        self.generation = generation
        self.path = gen_dir
        self.opened = time.time()
        self._ix = index.open_dir(gen_dir)
        self.schema = self._ix.schema  # Index.schema re-reads the TOC from disk on every access
        self._searcher = self._ix.searcher()  # a fresh searcher per generation, never refresh()
        self._lock = threading.Lock()
        self._matches: OrderedDict[tuple, tuple] = OrderedDict()
        self._terms: OrderedDict[tuple, int] = OrderedDict()
        self._scoring: dict[str, object] = {}
        reader = self._searcher.reader()
        self.size = reader.doc_count_all()
        self.all_bits = to_bits(reader.all_doc_ids(), self.size)
        self.count = self.all_bits.bit_count()
        self.facet_bits = {f.name: self._value_bits(reader, f.name) for f in FACETS}
        years = reader.column_reader("year_start")
        titles = reader.column_reader("title_sort")
        slug_column = reader.column_reader("slug")
        self.slug_to_doc = {slug_column[d]: d for d in reader.all_doc_ids()}
        self.year = [years[d] for d in range(self.size)]
        self.title_key = [titles[d] for d in range(self.size)]
        self.year_bits = self._year_bits()
        self._parsers = {expand: _parser(self.schema, expand) for expand in (True, False)}
        self._spell = self._searcher.corrector("spell")

    def _value_bits(self, reader, name: str) -> dict[str, int]:
        out = {}
        for raw in reader.lexicon(name):
            value = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            out[value] = to_bits(reader.postings(name, raw).all_ids(), self.size) & self.all_bits
        return out

    def _year_bits(self) -> dict[int, int]:
        by_year: dict[int, list[int]] = {}
        for d in from_bits(self.all_bits):
            by_year.setdefault(self.year[d], []).append(d)
        return {year: to_bits(docs, self.size) for year, docs in by_year.items()}

    def sorted_docs(self, bits: int, sort: str) -> list[int]:
        """Documents of a bitset ordered by title, or by start year (ties by title)."""
        docs = from_bits(bits)
        if sort == "title":
            return sorted(docs, key=lambda d: self.title_key[d])
        if sort == "year":
            return sorted(docs, key=lambda d: (self.year[d], self.title_key[d]))
        return sorted(docs, key=lambda d: (-self.year[d], self.title_key[d]))

    def close(self) -> None:
        """Release the searcher's files."""
        self._searcher.close()

    def parse(self, text: str, expand: bool = True):
        """Parse a free-text query; None for a query with no searchable terms. Never raises."""
        parser = self._parsers[expand]
        try:
            parsed = parser.parse(text)
        except Exception:  # Whoosh's parser can fail on odd input; fall back to plain words
            parsed = None
        if parsed is None or parsed is query.NullQuery or _too_big(parsed):
            words = " ".join(re.findall(r"\w+", text)[:MAX_QUERY_TERMS])
            parsed = parser.parse(words) if words else None
        if parsed is None or parsed is query.NullQuery:
            return None
        return parsed

    def text_match(self, text: str, expand: bool = True) -> tuple:
        """(parsed query or None, bitset of matches) for query text; remembered per generation,
        because toggling facets and paging repeat the same text."""
        if not text:
            return None, self.all_bits
        key = (text, expand)
        found = self._matches.get(key)
        if found is None:
            parsed = self.parse(text, expand)
            # only operators or punctuation: nothing can match
            found = (parsed, self.match_bits(parsed) if parsed is not None else 0)
            with self._lock:
                self._matches[key] = found
                while len(self._matches) > MATCH_CACHE:
                    self._matches.popitem(last=False)
        return found

    def match_bits(self, parsed) -> int:
        """The documents matching a parsed query, as a bitset: AND, OR and NOT evaluated on the
        bitsets of the query's terms, each read from the index once per generation."""
        with self._lock:
            return self._bits_of(parsed) & self.all_bits

    def _bits_of(self, q) -> int:
        if isinstance(q, query.Term):
            return self._term_bits(q.fieldname, q.text)
        if isinstance(q, query.And):
            return reduce(lambda a, b: a & b, (self._bits_of(c) for c in q.subqueries), self.all_bits)
        if isinstance(q, query.Or) and not q.minmatch:
            return reduce(lambda a, b: a | b, (self._bits_of(c) for c in q.subqueries), 0)
        if isinstance(q, query.AndNot):
            return self._bits_of(q.a) & ~self._bits_of(q.b)
        if isinstance(q, query.Not):
            return self.all_bits & ~self._bits_of(q.query)
        return to_bits(self._searcher.docs_for_query(q), self.size)  # phrases and the like

    def _term_bits(self, field_name: str, text) -> int:
        key = (field_name, text)
        bits = self._terms.get(key)
        if bits is None:
            try:
                bits = to_bits(self._searcher.reader().postings(field_name, text).all_ids(), self.size)
            except TermNotFound:
                bits = 0
            self._terms[key] = bits
            while len(self._terms) > TERM_CACHE:
                self._terms.popitem(last=False)
        return bits

    def ranked(self, text: str, bits: int, limit: int | None, everything: bool = False) -> list[tuple[int, float]]:
        """Documents of `bits` in relevance order for the query text, with scores, up to `limit`.

        Scored by the words typed only, not the names and synonyms that widened the match:
        documents found only through those come last. When `bits` is everything the words
        match (`everything`), Whoosh ranks on its own and may skip posting blocks that cannot
        reach the top; otherwise the words are skipped to each selected document in turn.
        """
        if not bits:
            return []  # Whoosh treats an empty filter as no filter at all
        scoring = self._scoring.get(text)
        if scoring is None:
            if len(self._scoring) > MATCH_CACHE:
                self._scoring.clear()
            scoring = self._scoring[text] = self.parse(text, expand=False)
        if scoring is None:
            return [(d, 0.0) for d in from_bits(bits)[:limit]]
        with self._lock:
            if everything:
                results = self._searcher.search(scoring, limit=limit)
            else:
                wanted = query.AndMaybe(_DocSet(from_bits(bits)), _union_matchers(scoring.copy()))
                results = self._searcher.search(wanted, limit=limit)
            ranked = [(hit.docnum, hit.score) for hit in results if (bits >> hit.docnum) & 1]
        if limit is None or len(ranked) < limit:  # then every scored document is in: add the rest
            seen = {d for d, _ in ranked}
            ranked += [(d, 0.0) for d in from_bits(bits) if d not in seen]
        return ranked[:limit]

    def record(self, docnum: int) -> dict:
        """The stored practice record of a document."""
        with self._lock:
            return json.loads(self._searcher.stored_fields(docnum)["record"])

    def snippet(self, parsed, record: dict, chars: int = 240) -> str | None:
        """An HTML snippet (escaped, matched words in <mark>) of the body, or None if nothing matched."""
        if parsed is None:
            return None
        lang = record["language"]
        fields = (f"body_{lang}", f"title_{lang}")
        terms = {t.decode() if isinstance(t, bytes) else t for f, t in parsed.iter_all_terms() if f in fields}
        if not terms:
            return None
        text = plain_text(record["body"])
        if lang == "zh":
            return make_snippet(text, match_spans(text, set(), bool, terms), chars)
        prefixes = {term[:3] for term in terms}
        matcher = _stem_matcher(self.schema[fields[0]].analyzer, terms)
        return make_snippet(text, match_spans(text, prefixes, matcher, set()), chars)

    def suggest(self, text: str) -> str | None:
        """A spelling correction of a free-text query, or None."""
        words = re.findall(r"\w+", text)
        if not words or len(words) > 8:
            return None
        analyzer = folding_analyzer()
        corrected, changed = [], False
        with self._lock:
            reader = self._searcher.reader()
            for word in words:
                folded = "".join(t.text for t in analyzer(word))
                if len(folded) < 4 or CJK_RE.search(word) or reader.frequency("spell", folded):
                    corrected.append(word)
                    continue
                best = self._spell.suggest(folded, limit=1, maxdist=2)
                corrected.append(best[0] if best else word)
                changed |= bool(best)
        return " ".join(corrected) if changed else None

    def more_like(self, docnum: int, record: dict, limit: int) -> list[int]:
        """Documents similar to one document, by the key terms of its body."""
        field_name = f"body_{record['language']}"
        text = f"{record['title']} {record['summary']} {plain_text(record['body'])}"
        with self._lock:
            results = self._searcher.more_like(docnum, field_name, text=text, top=limit, numterms=12)
            return [hit.docnum for hit in results]


class _DocSet(query.Query):
    """A query matching a fixed, sorted list of documents with no score of its own.

    Intersected with a text query, it drives the intersection: the text query's matchers skip
    straight to these documents instead of scoring every match.
    """

    def __init__(self, docnums: list[int]):
        self.docnums = docnums
        self.boost = 1.0

    def __eq__(self, other):
        return isinstance(other, _DocSet) and self.docnums == other.docnums

    def __hash__(self):
        return hash(tuple(self.docnums))

    def __unicode__(self):
        return f"<{len(self.docnums)} documents>"

    __str__ = __unicode__

    def is_leaf(self):
        return True

    def estimate_size(self, ixreader):
        return len(self.docnums)

    def docs(self, searcher):
        return iter(self.docnums)

    def matcher(self, searcher, context=None):
        # On a multi-segment index Whoosh asks each segment's searcher, in its own numbering.
        offset, size = 0, searcher.doc_count_all()
        parent = searcher.parent() if searcher.parent else None
        for sub, sub_offset in (parent.subsearchers or []) if parent is not None else []:
            if sub is searcher:
                offset = sub_offset
        local = [d - offset for d in self.docnums if offset <= d < offset + size]
        return ListMatcher(local, all_weights=0.0) if local else NullMatcher()


def _stem_matcher(analyzer, stems: set[str]):
    """A test of whether a word analyses to one of `stems`, remembering each word's answer."""
    seen: dict[str, bool] = {}

    def matches(word: str) -> bool:
        key = word.lower()
        if key not in seen:
            seen[key] = any(t.text in stems for t in analyzer(word))
        return seen[key]

    return matches


def _union_matchers(parsed):
    """Make every OR use lazy union matchers, for intersection with a filter.

    On small segments Whoosh otherwise preloads and scores every match of an OR into arrays,
    which costs the whole posting lists even when a filter keeps few documents.
    """
    for node in _walk(parsed):
        if isinstance(node, query.Or):
            node.matcher_type = query.Or.DEFAULT_MATCHER
    return parsed


def _walk(node):
    yield node
    for child in node.children():
        yield from _walk(child)


def _parser(schema, expand: bool):
    parser = qparser.MultifieldParser(text_fields(expand), schema, group=qparser.AndGroup)
    parser.remove_plugin_class(qparser.FieldsPlugin)  # 'title:x' is text, not a field
    parser.remove_plugin_class(qparser.WildcardPlugin)
    parser.remove_plugin_class(qparser.BoostPlugin)
    return parser


@lru_cache(maxsize=1)
def _vocabulary_terms() -> dict[str, set[tuple[str, str]]]:
    """Each analysed word of a country name or policy-type label/synonym -> the entries it names."""
    analyzer = vocabulary_analyzer()
    out: dict[str, set[tuple[str, str]]] = {}
    entries = [("country", t, list(t.labels.values())) for t in vocab.countries()]
    entries += [("policy_type", t, [*t.labels.values(), *t.synonyms]) for t in vocab.policy_types()]
    for facet, term, names in entries:
        for name in names:
            for token in analyzer(name):
                out.setdefault(token.text, set()).add((facet, term.value))
    return out


def expansions(parsed) -> list[tuple[str, str]]:
    """The countries and policy types a parsed query reached through their names in any language:
    those whose names cover the most query words (one stray word shared with a label is not shown)."""
    if parsed is None:
        return []
    table = _vocabulary_terms()
    hits: dict[tuple[str, str], int] = {}
    for field_name, text in set(parsed.iter_all_terms()):
        if field_name == "meta":
            for entry in table.get(text.decode() if isinstance(text, bytes) else text, ()):
                hits[entry] = hits.get(entry, 0) + 1
    best = max(hits.values(), default=0)
    return sorted(entry for entry, n in hits.items() if n == best)


def _too_big(parsed) -> bool:
    return sum(1 for _ in parsed.leaves()) > MAX_QUERY_TERMS * len(text_fields())


def generation_of(index_dir: Path) -> tuple[Path, str] | None:
    """The live generation folder and a label that changes on every rebuild or commit."""
    gen_dir = live_generation(index_dir)
    if gen_dir is None:
        return None
    return gen_dir, f"{gen_dir.name}.{_toc_generation(gen_dir)}"


def _toc_generation(gen_dir: Path) -> int:
    return index.FileIndex(_storage(gen_dir)).latest_generation()


def _storage(gen_dir: Path):
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(str(gen_dir))


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
        size = sum(f.stat().st_size for f in snap.path.iterdir() if f.is_file())
        age = time.time() - max(f.stat().st_mtime for f in snap.path.iterdir() if f.is_file())
        return {"generation": snap.generation, "age_seconds": age, "size_bytes": size,
                "path": str(snap.path), "practices": snap.count}


def open_store(settings: Settings) -> Store:
    """A store for the configured index folder."""
    return Store(settings)
