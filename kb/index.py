"""The Whoosh index: schema, analysers, building, atomic rebuilds and per-generation snapshots.

This is the only module that imports Whoosh. Layout of the index folder:

    CURRENT            name of the live generation folder (replaced atomically)
    .lock              locked by the one running writer; released by the OS if it dies
    gen-<time>-<pid>/  a complete Whoosh index; the live one and the previous one are kept
"""

from __future__ import annotations

import codecs
import fcntl
import gc
import hashlib
import heapq
import json
import mmap
import multiprocessing
import os
import queue
import re
import shutil
import threading
import time
import traceback
import unicodedata
from array import array
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, reduce
from itertools import accumulate, compress, repeat
from pathlib import Path
from types import SimpleNamespace

import Stemmer
from whoosh import index, qparser, query
from whoosh.analysis import (
    CharsetFilter,
    Filter,
    LowercaseFilter,
    PyStemmerFilter,
    RegexTokenizer,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.lang import stopwords_for_language
from whoosh.reading import TermNotFound
from whoosh.spelling import ListCorrector
from whoosh.support.charset import accent_map
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from kb import vocab
from kb.config import Settings
from kb.errors import IndexBusy, IndexMissing, KbError
from kb.fields import FACETS
from kb.practice import Practice, Problem, check_collection, iter_practice_files, read_practice, slug_of
from kb.render import plain_text
from kb.snippets import WORD, WORD_RE, make_snippet, match_spans

LANGS = vocab.LANGUAGES
CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
WORDS_FILE = "words.txt"  # in each generation: the words spelling suggestions may offer
MAX_QUERY_TERMS = 64
SCHEMA_VERSION = "15"  # bump when the schema or an analyser changes: the next `kb index` rebuilds
PARALLEL_FROM = 400  # files from which a rebuild uses one writer process per core
MATCH_CACHE = 512  # query texts whose matches each snapshot remembers
TERM_CACHE = 20000  # terms whose postings each snapshot remembers
BM25_K1, BM25_B = 1.2, 0.75  # Whoosh's defaults
POSTINGS_CACHE = 4_000_000  # and at most this many postings among them (8 bytes each)


# ---- analysers -------------------------------------------------------------------------------

class ChineseTokenizer(Tokenizer):
    """Chinese as overlapping character pairs (as Lucene's CJK analyser does), other words whole.

    A query's pairs must all be in a document, so a word of any length is found wherever it is
    written, with no dictionary to load (jieba took a second and 100 MB per process, and a
    sixth of a rebuild); a single character is no search term, as before.
    """

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


_CJK = "\u3400-\u9fff\uf900-\ufaff"
_CHINESE_RUNS = re.compile(f"[{_CJK}]+|[^\\W{_CJK}_]+")  # runs of Chinese, or other words


def _chinese_tokens(text: str) -> Iterator[tuple[str, int, int]]:
    for match in _CHINESE_RUNS.finditer(text):
        run, start = match.group(), match.start()
        if len(run) > 1 and CJK_RE.match(run):
            for i in range(len(run) - 1):
                yield run[i:i + 2], start + i, start + i + 2
        else:
            yield run, start, match.end()


def _chinese_words(text: str) -> list[str]:
    """The words `_chinese_tokens` gives, without their places (indexing)."""
    words = []
    for run in _CHINESE_RUNS.findall(text):
        if len(run) > 1 and CJK_RE.match(run):
            words += [run[i:i + 2] for i in range(len(run) - 1)]
        else:
            words.append(run)
    return words


# The Snowball stemmers of the western languages, through PyStemmer (the Snowball project's own C
# build): the current algorithms, some thirty times faster than Whoosh's pure-Python port, which
# matters for a rebuild (every distinct word) and for a search's new words
SNOWBALL = {"en": "english", "es": "spanish", "pt": "portuguese"}


def text_analyzer(lang: str):
    """Per-language analysis: Chinese segmented; others lowercased, accents folded, then stemmed."""
    if lang == "zh":
        return ChineseTokenizer() | LowercaseFilter() | StopFilter(stoplist=_western_stops())
    # Stop words of all three languages everywhere: a query is parsed against every language's
    # fields, and 'de' or 'and' kept by one analyser would become a required word there.
    # Stop words first (the lists are accented), then fold, then stem: 'educacion' == 'educación'.
    return (RegexTokenizer(WORD) | LowercaseFilter() | StopFilter(stoplist=_western_stops())
            | CharsetFilter(accent_map) | PyStemmerFilter(SNOWBALL[lang], cachesize=50000))


class FastText(TEXT):
    """A TEXT field (word frequencies, no positions) indexed by `terms_in` rather than by
    passing every word through Whoosh's filter chain: the same terms and weights as Whoosh's
    own path, at a fraction of a rebuild's cost.

    No positions: they were most of the index, and of the time to read it, and only quoted
    phrases need them; those are checked against the stored text instead (Snapshot._phrase_bits).
    """

    def __init__(self, lang: str, **kwargs):
        super().__init__(analyzer=text_analyzer(lang), phrase=False, **kwargs)
        self.lang = lang

    def index(self, value, **kwargs):
        """(term bytes, frequency, weight, encoded frequency) of each distinct term of `value`."""
        boost = self.format.field_boost
        return [(term.encode(), n, n * boost, _frequency_value(n))
                for term, n in Counter(terms_in(self.lang, value)).items()]

    def process_text(self, qstring, mode="", tokenize=True, removestops=True, **kwargs):
        """The terms of query text, as the analyser gives them (remembered per word)."""
        if tokenize and removestops and self.lang != "zh":
            return iter(terms_in(self.lang, qstring))
        return super().process_text(qstring, mode=mode, tokenize=tokenize, removestops=removestops, **kwargs)


_FREQUENCIES = [pack_uint(n) for n in range(256)]
_TERMS: dict[str, dict[str, str | None]] = {}  # per language, each word seen -> its term


def _frequency_value(n: int) -> bytes:
    """A posting's value in Whoosh's Frequency format (the common ones encoded once)."""
    return _FREQUENCIES[n] if n < 256 else pack_uint(n)


def _term_cache(lang: str) -> dict[str, str | None]:
    """The words of a language seen by this process and their terms, bounded in memory."""
    cache = _TERMS.setdefault(lang, {})
    if len(cache) > 500_000:  # a long rebuild over a huge vocabulary, or a long-lived server
        cache.clear()
    return cache


def terms_in(lang: str, text: str, seen: set[str] | None = None) -> list[str]:
    """The terms of a text in a language, in order, stop words left out: what its analyser
    gives, with each distinct word analysed once per process (Chinese is split into character
    pairs directly). Its distinct words are added to `seen`."""
    if lang == "zh":
        stops = _western_stops()
        return [w for w in map(str.lower, _chinese_words(text))
                if len(w) >= 2 and w not in stops]  # as LowercaseFilter and StopFilter do
    cache = _term_cache(lang)
    words = WORD_RE.findall(text)
    distinct = set(words)
    if seen is not None:
        seen |= distinct
    for word in distinct.difference(cache):
        cache[word] = _word_term(lang, word)
    return [term for term in map(cache.__getitem__, words) if term is not None]


def _term_of(lang: str, word: str) -> str | None:
    """The term of a word in a language (remembered), or None for a stop word."""
    cache = _term_cache(lang)
    if word not in cache:
        cache[word] = _word_term(lang, word)
    return cache[word]


def _word_term(lang: str, word: str) -> str | None:
    """The term one word analyses to in a language, or None for a stop word."""
    terms = [t.text for t in _text_analyzers()[lang](word)]
    assert len(terms) <= 1, f"the {lang} analyser split {word!r}"
    return terms[0] if terms else None


@lru_cache(maxsize=1)
def _text_analyzers() -> dict:
    return {lang: text_analyzer(lang) for lang in LANGS}


def fold(text: str) -> str:
    """Lowercase with accents folded ('Educación' -> 'educacion'), as the analysers fold."""
    # only the non-ASCII characters go through the table: str.translate is slow on long texts
    return _NON_ASCII.sub(_fold_char, text.lower())


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _fold_char(match: re.Match) -> str:
    return accent_map.get(ord(match.group()), match.group())


def fold_in_place(text: str) -> str:
    """`text` lowercased and accent-folded character for character, so that positions in it are
    positions in `text`: where snippets look for the words to mark."""
    # Latin-1 through one bytes.translate table, some twenty times faster than `fold`; the runs
    # of other characters (dashes, quotes, Chinese), set aside by the encoder, one at a time
    runs = _beyond_latin1.runs = []
    folded = text.encode("latin-1", _FOLD_ERRORS).translate(_LATIN1_FOLD).decode("latin-1")
    if not runs:
        return folded
    pieces, last = [], 0
    for start, end in runs:
        pieces += [folded[last:start], "".join(map(_fold_one, text[start:end]))]
        last = end
    return "".join(pieces) + folded[last:]


@lru_cache(maxsize=4096)
def _fold_one(char: str) -> str:
    """A character lowercased and accent-folded, if that leaves one character."""
    if char == "’":
        return "'"  # as the stemmers take it (didn’t -> didn't)
    low = char.lower()
    if len(low) > 1:  # İ lowercases to two characters; folded first, it is an i
        low = accent_map.get(ord(char), char).lower()
    folded = accent_map.get(ord(low), low) if len(low) == 1 else char
    return folded if len(folded) == 1 else low if len(low) == 1 else char


_LATIN1_FOLD = bytes(ord(c) if ord(c) < 256 else b for b, c in ((b, _fold_one(chr(b))) for b in range(256)))
_FOLD_ERRORS = "kb-fold-in-place"
_beyond_latin1 = threading.local()  # the runs the encoder met in this thread's current text


def _set_aside(exc: UnicodeEncodeError) -> tuple[str, int]:
    _beyond_latin1.runs.append((exc.start, exc.end))
    return "?" * (exc.end - exc.start), exc.end


codecs.register_error(_FOLD_ERRORS, _set_aside)


def spelling_words(text: str) -> set[str]:
    """The distinct folded words of a text that spelling suggestions may offer (not Chinese)."""
    return {fold(w) for w in re.findall(r"[^\W\d_]{2,}", text)} - {""}


@lru_cache(maxsize=1)
def _western_stops() -> frozenset[str]:
    """English, Spanish and Portuguese stop words, except words that are names in the vocabulary
    (the Spanish 'sus' is also Brazil's health system, SUS)."""
    stops = frozenset().union(*(stopwords_for_language(n) for n in ("english", "spanish", "portuguese")))
    names = {t.lower() for term in vocab.policy_types() for t in term.synonyms if " " not in t}
    return stops - names


class MultiStemFilter(Filter):
    """Stems each word as English, Spanish and Portuguese, yielding each distinct stem.

    Names and labels in the vocabulary come in several languages, and so may the query that
    mentions them: 'pensiones' and 'pension' both reach the social-pensions labels.
    """

    def __call__(self, tokens):
        for token in tokens:
            for stem in _multi_stems(token.text):
                token.text = stem
                yield token


def _multi_stems(word: str) -> list[str]:
    """The distinct English, Spanish and Portuguese stems of a lowercased, folded word: those
    the text fields' analysers give it (and remember), so a query word is stemmed once."""
    stems = []
    for lang, stem in zip(("en", "es", "pt"), _stemmers(), strict=True):
        found = _term_of(lang, word) or stem(word)  # a stop word of the other languages, stemmed
        if found not in stems:
            stems.append(found)
    return stems


@lru_cache(maxsize=1)
def _stemmers():
    return [Stemmer.Stemmer(SNOWBALL[lang]).stemWord for lang in ("en", "es", "pt")]


def vocabulary_analyzer():
    """For country names and policy-type labels and synonyms in every language."""
    return (RegexTokenizer(r"\w+") | LowercaseFilter() | StopFilter(stoplist=_western_stops())
            | CharsetFilter(accent_map)
            | MultiStemFilter())


def build_schema() -> Schema:
    """The index schema: text per language, facet keywords from `kb.fields.FACETS`, the record."""
    # Nothing is a Whoosh stored field, which is a pickled and compressed dict per document:
    # what is read back is in uncompressed columns, the record (JSON) apart from the body
    # (a result list needs no body), so a hit costs no unpickling and no zlib
    fields = {
        "path": ID(unique=True, sortable=True),
        "slug": ID(unique=True, sortable=True),
        "sha": ID(sortable=True),
        "related": ID(sortable=True),
        "record": COLUMN(),
        "body": COLUMN(),
        "text": COLUMN(),  # the body as plain text, for snippets
        # never filled: a query's words are analysed for it, and its terms match the practices of
        # the countries and policy types whose names contain them (see Snapshot._read_term)
        "meta": TEXT(analyzer=vocabulary_analyzer(), phrase=False, multitoken_query="or"),
        "title_sort": ID(sortable=True),
        "last_reviewed": ID(sortable=True),
        "year_start": NUMERIC(sortable=True),
    }
    for lang in LANGS:
        fields[f"title_{lang}"] = FastText(lang, field_boost=3.0)
        fields[f"body_{lang}"] = FastText(lang)
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
    text = plain_text(practice.body)
    record = {**practice.metadata(), "path": relpath}
    doc = {
        "path": relpath, "slug": practice.slug, "sha": sha, "related": ",".join(practice.related),
        "record": json.dumps(record, ensure_ascii=False).encode(), "body": practice.body.encode(), "text": text.encode(),
        "title_sort": sort_key(practice.title), "year_start": practice.year_start,
        "last_reviewed": practice.last_reviewed.isoformat(),
        **searchable_texts(record, text),
    }
    for facet in FACETS:
        value = getattr(practice, facet.source)
        values = value if isinstance(value, list) else [value] if value else []
        doc[facet.name] = ",".join(values)
    return doc


def searchable_texts(record: dict, text: str) -> dict[str, str]:
    """The title and body fields of a practice record with its body as plain text: all of it
    in its own language, and its translated title and summary in the others."""
    lang = record["language"]
    fields = {f"title_{lang}": " ".join(filter(None, [record["title"], record.get("local_name")])),
              f"body_{lang}": " ".join([record["summary"], " ".join(record.get("tags") or []), text])}
    for other, entry in (record.get("translations") or {}).items():  # found in the other languages too
        fields[f"title_{other}"] = entry["title"]
        fields[f"body_{other}"] = entry["summary"]
    return fields


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


def _scan(root: Path, hashes: bool = True) -> _Scan:
    files, slug_paths = {}, {}
    if not root.is_dir():
        return _Scan(files, slug_paths)
    for path in iter_practice_files(root):
        rel = path.relative_to(root).as_posix()
        files[rel] = (path, _sha(_bytes_of(path)) if hashes else "")
        slug_paths.setdefault(slug_of(path), []).append(rel)
    return _Scan(files, slug_paths)


def _bytes_of(path: Path) -> bytes | None:
    """A file's bytes, or None if it cannot be read (read_practice says why)."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def _sha(raw: bytes | None) -> str:
    return hashlib.sha1(raw).hexdigest() if raw is not None else "unreadable"


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


@dataclass
class _Part:
    """What indexing a share of the files produced: a segment, and what the whole needs to know."""

    segment: object
    count: int
    problems: list[Problem]
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


def _build_part(gen_dir: Path, files: list[tuple[str, Path, str]], tick: Callable[[], None]) -> _Part:
    """Read, check and index some practice files into one new segment of a generation."""
    with _cycle_collector_paused():
        return _index_files(gen_dir, files, tick)


def _index_files(gen_dir: Path, files: list[tuple[str, Path, str]], tick: Callable[[], None]) -> _Part:
    ix = index.open_dir(gen_dir)
    # no Whoosh lock: ours is held, the generation is new, and each part writes its own segment
    writer = SegmentWriter(ix, _lk=False, codec=_codec(), compound=False)
    terms: _Terms = {}
    part = _Part(None, 0, [], [], set())
    try:
        for rel, path, sha in files:
            raw = _bytes_of(path)  # read once, to hash (a rebuild's parts hash their own files) and parse
            practice, found = read_practice(path, rel, raw)
            sha = sha or _sha(raw)
            part.problems += found
            if practice:
                doc = document(practice, rel, sha)
                _add_document(writer, terms, doc, part.words)
                part.count += 1
                part.links.append(SimpleNamespace(path=rel, slug=practice.slug, related=practice.related,
                                                  lines={"related": practice.lines.get("related", 0)}))
            tick()
        part.words = spelling_words(" ".join(part.words))
        if not part.count:
            writer._close_segment()
            return part
        part.segment = _write_segment(writer, terms)
    except BaseException:
        writer.cancel()
        raise
    # no writer._finish(): it deletes the temporary folder the other parts are still using;
    # the writer that commits the parts' segments deletes it at the end
    return part


# A rebuild's parts bypass Whoosh's add_document and posting pool, which cost several Python
# calls and a tuple per posting: postings are gathered by term as documents are added (in
# order, so each term's postings stay sorted), then written a block at a time. Both functions
# do what SegmentWriter.add_document and SegmentWriter._finalize_segment do (whoosh-reloaded
# 2.7.5, pinned), and tests compare the result with Whoosh's own writer.
_Terms = dict[str, dict]  # field -> term -> postings: [doc, frequency, ...] or (docs, weights, values)


def _add_document(writer, terms: _Terms, fields: dict, words: set[str]) -> None:
    """Add a document's stored values, lengths and columns to `writer`, its postings to
    `terms`, the words of its text fields to `words`."""
    schema, perdoc, docnum = writer.schema, writer.perdocwriter, writer.docnum
    perdoc.start_doc(docnum)
    for name in sorted(fields):
        value = fields[name]
        if value is None:
            continue
        field, length, postings = schema[name], 0, terms.setdefault(name, {})
        if isinstance(field, FastText):  # the bulk of the postings: a list of docnum, n, docnum, n...
            found_terms = terms_in(field.lang, value, words)
            length = len(found_terms)
            get = postings.get
            for term, n in Counter(found_terms).items():
                found = get(term)
                if found is None:
                    postings[term] = [docnum, n]
                else:
                    found.append(docnum)
                    found.append(n)
        elif field.indexed:
            for text, freq, weight, vbytes in field.index(value):
                found = postings.get(text)
                if found is None:
                    found = postings[text] = (array("I"), array("f"), [])
                found[0].append(docnum)
                found[1].append(weight)
                if vbytes:
                    found[2].append(vbytes)
                length += freq
        perdoc.add_field(name, field, value if field.stored else None, length if field.scorable else 0)
        if field.column_type:
            perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
    perdoc.finish_doc()
    writer.docnum += 1


def _write_segment(writer, terms: _Terms):
    """Write the gathered postings and close the segment; return it."""
    writer.perdocwriter.close()
    out = writer.fieldwriter
    for name in sorted(terms):
        field = writer.schema[name]
        postings = terms[name]
        if not postings:
            continue
        out.start_field(name, field)
        # terms in the order of their UTF-8 bytes, which is the order of their code points
        for term in sorted(postings):
            found = postings[term]
            if isinstance(field, FastText):
                docs, freqs, boost = array("I", found[::2]), found[1::2], field.format.field_boost
                weights = array("f", freqs if boost == 1 else [n * boost for n in freqs])
                values = list(map(_FREQUENCIES.__getitem__ if max(freqs) < 256 else _frequency_value, freqs))
                out.start_term(term.encode())
            else:
                docs, weights, values = found
                out.start_term(term)
            _add_postings(out._postwriter, docs, weights, values)
            out.finish_term()
        out.finish_field()
    writer._close_segment()
    writer._assemble_segment()
    return writer.get_segment()


def _add_postings(block, docs: array, weights: array, values: list) -> None:
    """A term's postings into Whoosh's posting writer, filling blocks as its add_posting does."""
    limit = block._blocklimit
    for start in range(0, len(docs), limit):
        if len(block._ids) >= limit:
            block._write_block()
        end = start + limit
        block._ids.extend(docs[start:end])
        block._weights.extend(weights[start:end])
        block._values.extend(values[start:end])
        block._maxweight = max(block._maxweight, max(weights[start:end]))


def _codec():
    """Whoosh's codec, set for speed of writing and reading: no compression of posting blocks,
    and no per-block length statistics, which only Whoosh's own top-k skipping uses (we rank
    with our own scores) and which cost a read of the document's length for every posting.

    Writers also pass compound=False: Whoosh copies each file of a compound segment onto the
    heap when a searcher opens it, so server memory would grow with the index."""
    codec = W3Codec(compression=0)
    codec.length_stats = False
    return codec


def _part_process(gen_dir: Path, files: list, done, results, number: int) -> None:
    """A worker process of a parallel rebuild: one part, its result or its error sent back."""
    def tick():
        with done.get_lock():
            done.value += 1

    try:
        results.put((number, True, _build_part(gen_dir, files, tick)))
    except BaseException:
        results.put((number, False, traceback.format_exc(limit=5)))


def _build_parts(gen_dir: Path, files: list, progress) -> list[_Part]:
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
    workers = [ctx.Process(target=_part_process, args=(gen_dir, files[i * size:(i + 1) * size], done, results, i),
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
                raise KbError(f"indexing failed; the live index is unchanged:\n{payload}")
            parts[number] = payload
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
    if progress:
        progress(total, total)
    return [parts[n] for n in range(procs)]


def _rebuild(settings: Settings, progress) -> UpdateReport:
    scan = _scan(settings.practices_dir, hashes=False)
    gen_dir = settings.index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}"
    gen_dir.mkdir(parents=True)
    try:
        ix = index.create_in(gen_dir, build_schema())
        parts = _build_parts(gen_dir, [(rel, path, sha) for rel, (path, sha) in sorted(scan.files.items())],
                             progress)
        writer = ix.writer()
        writer._close_segment()  # the segments are the parts': commit them as Whoosh's MpWriter does
        writer._commit_toc([part.segment for part in parts if part.segment is not None])
        writer._finish()
        links = [link for part in parts for link in part.links]
        collection = check_collection(links, scan.slug_paths)
        bad = {p.path for p in collection} & {link.path for link in links}
        if bad:  # indexed before the whole collection was seen: remove them again
            with ix.writer(codec=_codec(), compound=False) as writer:
                for rel in bad:
                    writer.delete_by_term("path", rel)
        _write_words(gen_dir, set().union(*(part.words for part in parts)))
        (gen_dir / "SCHEMA_VERSION").write_text(SCHEMA_VERSION)
        ix.close()
    except BaseException:
        shutil.rmtree(gen_dir, ignore_errors=True)
        raise
    _switch(settings.index_dir, gen_dir)
    problems = sorted([p for part in parts for p in part.problems] + collection)
    return UpdateReport(indexed=len(links) - len(bad), problems=problems, rebuilt=True, generation=gen_dir.name)


def _read_words(gen_dir: Path) -> list[str]:
    """The sorted words of a generation's spelling list (none if it has no list)."""
    try:
        return (gen_dir / WORDS_FILE).read_text(encoding="utf-8").split()
    except OSError:
        return []


def _write_words(gen_dir: Path, words: set[str]) -> None:
    tmp = gen_dir / f".{WORDS_FILE}.{os.getpid()}"
    tmp.write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    os.replace(tmp, gen_dir / WORDS_FILE)


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
        writer = ix.writer(limitmb=128, codec=_codec(), compound=False)
        try:
            for rel in to_delete:
                writer.delete_by_term("path", rel)
            words = set()
            for rel in to_write:
                doc = document(practices[rel], rel, scan.files[rel][1])
                writer.update_document(**doc)
                lang = practices[rel].language
                words |= spelling_words(f"{doc[f'title_{lang}']} {doc[f'body_{lang}']}")
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        if words - set(old_words := _read_words(gen_dir)):  # words of removed files may stay: a
            _write_words(gen_dir, words | set(old_words))  # suggestion is offered only if it matches
    report.removed = len(to_delete)
    report.updated = sum(1 for rel in to_write if rel in indexed)
    report.indexed = len(to_write) - report.updated
    report.unchanged = len(unchanged) - len(bad & set(unchanged))
    ix.close()
    return report


def _indexed_files(reader) -> dict[str, tuple[str, str]]:
    """relpath -> (sha, related) of every live document, read from columns, not records."""
    if not reader.doc_count_all():
        return {}  # an index of no practices has no columns
    paths, shas, related = (reader.column_reader(name) for name in ("path", "sha", "related"))
    return {paths[d]: (shas[d], related[d]) for d in reader.all_doc_ids()}


# ---- reading ---------------------------------------------------------------------------------

# Bitsets are Python ints, bit d set for document d. The conversions go through a string of
# '0'/'1' characters so that every step runs in C: no Python-level loop over the documents.
_ZERO_ONE = bytes.maketrans(b"\x00\x01", b"01")
_ONE_ZERO = bytes.maketrans(b"01", b"\x00\x01")


def to_bits(docnums, size: int = 0) -> int:
    """A set of document numbers as a Python int bitset."""
    docnums = docnums if isinstance(docnums, (list, tuple, array)) else list(docnums)
    if len(docnums) < 32:  # a rare word's few documents: shifts cost less than the string
        return reduce(int.__or__, map((1).__lshift__, docnums), 0)
    flags = bytearray(max(size, max(docnums, default=-1) + 1))
    deque(map(flags.__setitem__, docnums, repeat(1)), maxlen=0)
    return int(flags[::-1].translate(_ZERO_ONE) or b"0", 2)


def from_bits(bits: int) -> list[int]:
    """The document numbers in a bitset, ascending."""
    flags = format(bits, "b").encode()[::-1].translate(_ONE_ZERO)
    return list(compress(range(len(flags)), flags))


class Snapshot:
    """One open generation of the index with what searches need precomputed.

    Facet values become bitsets once per generation, so facet counts cost a few big-int
    ANDs per request instead of a pass over every document.
    """

    def __init__(self, gen_dir: Path, generation: str):
        self.generation = generation
        self.path = gen_dir
        self.opened = time.time()
        self._ix = _MappedStorage(str(gen_dir)).open_index()
        self.schema = self._ix.schema  # Index.schema re-reads the TOC from disk on every access
        self._searcher = self._ix.searcher()  # a fresh searcher per generation, never refresh()
        self._lock = threading.Lock()
        self._matches: OrderedDict[tuple, tuple] = OrderedDict()
        self._terms: OrderedDict[tuple, _Postings] = OrderedDict()
        self._cached_postings = 0
        self._norms: dict[str, list[float]] = {}
        reader = self._searcher.reader()
        self.size = reader.doc_count_all()
        self.all_bits = to_bits(reader.all_doc_ids(), self.size)
        self.count = self.all_bits.bit_count()
        self.facet_bits = {f.name: self._value_bits(reader, f.name) for f in FACETS}
        years, titles, slug_column, reviewed, self._records, self._bodies, self._texts = (
            reader.column_reader(name) if self.size else []  # an index of no practices has no columns
            for name in ("year_start", "title_sort", "slug", "last_reviewed", "record", "body", "text"))
        self.slug_to_doc = {slug_column[d]: d for d in reader.all_doc_ids()}
        self._reviewed = [(reviewed[d], slug_column[d]) for d in range(self.size)]
        self.year = [years[d] for d in range(self.size)]
        self.title_key = [titles[d] for d in range(self.size)]
        self.year_bits = self._year_bits()
        self._parsers = {expand: _parser(self.schema, expand) for expand in (True, False)}
        self._words: tuple[set[str], ListCorrector] | None = None

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

    def latest(self, bits: int, limit: int) -> list[int]:
        """The `limit` documents of a bitset reviewed last, newest first (ties by slug, descending)."""
        return heapq.nlargest(limit, from_bits(bits), key=self._reviewed.__getitem__)

    def close(self) -> None:
        """Release the searcher's files."""
        self._searcher.close()

    def parse(self, text: str, expand: bool = True):
        """Parse a free-text query; None for a query with no searchable terms. Never raises."""
        parser = self._parsers[expand]
        try:
            parsed = parser.parse(text) if _SYNTAX.search(text) else _plain_query(self.schema, text, expand)
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
            return self._term(q.fieldname, q.text).bits
        if isinstance(q, query.And):
            return reduce(lambda a, b: a & b, (self._bits_of(c) for c in q.subqueries), self.all_bits)
        if isinstance(q, query.Or) and not q.minmatch:
            return reduce(lambda a, b: a | b, (self._bits_of(c) for c in q.subqueries), 0)
        if isinstance(q, query.AndNot):
            return self._bits_of(q.a) & ~self._bits_of(q.b)
        if isinstance(q, query.Not):
            return self.all_bits & ~self._bits_of(q.query)
        if isinstance(q, query.Phrase):
            return self._phrase_bits(q)
        return to_bits(self._searcher.docs_for_query(q), self.size)  # ranges and the like

    def _phrase_bits(self, q) -> int:
        """Documents with a quoted phrase's words next to each other (stop words aside): those
        with all its words, each checked against its stored text. Chinese, where the words of a
        phrase overlap, needs all its words only."""
        bits = reduce(lambda a, b: a & b, (self._term(q.fieldname, w).bits for w in q.words), self.all_bits)
        lang = q.fieldname.partition("_")[2]
        if len(q.words) < 2 or lang not in ("en", "es", "pt") or not bits:
            return bits
        found = []
        for docnum in from_bits(bits):
            record, body = json.loads(self._records[docnum]), self._texts[docnum].decode()
            text = searchable_texts(record, body).get(q.fieldname, "")
            if _has_sequence(terms_in(lang, text), list(q.words)):
                found.append(docnum)
        return to_bits(found, self.size)

    def _term(self, field_name: str, text) -> _Postings:
        """A term's postings, from the cache or read once from the index (callers hold the lock)."""
        key = (field_name, text)
        found = self._terms.get(key)
        if found is None:
            found = self._terms[key] = self._read_term(field_name, text)
            self._cached_postings += len(found.docs)
            while len(self._terms) > 1 and (self._cached_postings > POSTINGS_CACHE
                                            or len(self._terms) > TERM_CACHE):
                self._cached_postings -= len(self._terms.popitem(last=False)[1].docs)
        else:
            self._terms.move_to_end(key)
        return found

    def _read_term(self, field_name: str, text) -> _Postings:
        if field_name == "meta":
            # names of countries and policy types: the documents of the facet values they name
            word = text.decode() if isinstance(text, bytes) else text
            named = _vocabulary_terms().get(word, ())
            return _Postings(array("I"), array("f"), reduce(
                lambda a, b: a | b, (self.facet_bits[f].get(v, 0) for f, v in named), 0))
        docs, weights = array("I"), array("f")
        tbytes, field_format = text.encode() if isinstance(text, str) else text, self.schema[field_name].format
        for leaf, offset in self._searcher.leaf_searchers():
            reader = leaf.reader()
            try:  # straight to a segment's terms, without the reader's checks and deletion filter
                matcher = (reader._terms.matcher(field_name, tbytes, field_format) if hasattr(reader, "_terms")
                           else reader.postings(field_name, text))  # (an empty index)
            except TermNotFound:  # deleted documents are dropped by the bitsets
                continue
            _read_postings(matcher, offset, docs, weights)
        return _Postings(docs, weights, to_bits(docs, self.size))

    def _impacts(self, field_name: str, text) -> _Postings:
        """A term's postings with each document's BM25 score for it (Whoosh's BM25F formula)."""
        entry = self._term(field_name, text)
        if not entry.scored and entry.docs:
            norm = self._length_norms(field_name)
            idf = self._searcher.idf(field_name, text) * (BM25_K1 + 1)
            entry.weights = array("f", [idf * w / (w + norm[d])
                                        for d, w in zip(entry.docs, entry.weights, strict=True)])
            entry.scored = True
        return entry

    def _length_norms(self, field_name: str) -> list[float]:
        """BM25's length normalisation of every document for a field, once per generation."""
        norms = self._norms.get(field_name)
        if norms is None:
            avg = self._searcher.avg_field_length(field_name) or 1
            lengths = []
            for leaf, _ in self._searcher.leaf_searchers():
                lengths += _field_lengths(leaf.reader(), field_name)
            norms = self._norms[field_name] = [BM25_K1 * (1 - BM25_B + BM25_B * n / avg) for n in lengths]
        return norms

    def ranked(self, parsed, bits: int, limit: int | None) -> list[tuple[int, float]]:
        """Documents of `bits` in relevance order for a parsed query, with scores, up to `limit`.

        Scored by the words typed only, not the names and synonyms that widened the match:
        documents found only through those come last. Each term's scores are computed once per
        generation and summed here, so a search costs one pass over its terms' postings.
        """
        docs = from_bits(bits)
        terms = _scored_terms(parsed) if parsed is not None else []
        if not terms:
            return [(d, 0.0) for d in docs[:limit]]
        with self._lock:
            entries = [self._impacts(f, t) for f, t in terms]
        scores = [0.0] * self.size
        for entry in entries:
            for d, s in zip(entry.docs, entry.weights, strict=True):
                scores[d] += s
        if limit is None:
            docs.sort(key=scores.__getitem__, reverse=True)  # stable: ties stay in index order
        else:
            docs = heapq.nlargest(limit, docs, key=scores.__getitem__)
        return [(d, scores[d]) for d in docs]

    def record(self, docnum: int) -> dict:
        """The stored practice record of a document, with its Markdown body."""
        with self._lock:
            record, body = self._records[docnum], self._bodies[docnum]
        return {**json.loads(record), "body": body.decode()}

    def hit(self, docnum: int, terms: dict[str, frozenset[str]]) -> tuple[dict, str | None]:
        """A document's record without its body, and its snippet for a query's `snippet_terms`."""
        with self._lock:
            raw, text = self._records[docnum], self._texts[docnum]
        record = json.loads(raw)  # parsed outside the lock, which other threads' reads wait on
        return record, _snippet(text.decode(), record["language"], terms.get(record["language"]))

    def suggest(self, text: str) -> str | None:
        """A spelling correction of a free-text query, or None."""
        words = re.findall(r"\w+", text)
        if not words or len(words) > 8:
            return None
        known, corrector = self._spelling()
        if not known:
            return None
        corrected, changed = [], False
        for word in words:
            folded = fold(word)
            if len(folded) < 4 or CJK_RE.search(word) or folded in known:
                corrected.append(word)
                continue
            best = corrector.suggest(folded, limit=1, maxdist=2)
            corrected.append(best[0] if best else word)
            changed |= bool(best)
        return " ".join(corrected) if changed else None

    def _spelling(self) -> tuple[set[str], ListCorrector]:
        """The generation's words and a corrector over them, read at the first misspelling."""
        with self._lock:
            if self._words is None:
                words = _read_words(self.path)
                self._words = set(words), ListCorrector(words)
            return self._words

    def more_like(self, docnum: int, record: dict, limit: int) -> list[int]:
        """Documents similar to one document, by the key terms of its body."""
        field_name = f"body_{record['language']}"
        with self._lock:
            text = f"{record['title']} {record['summary']} {self._texts[docnum].decode()}"
            results = self._searcher.more_like(docnum, field_name, text=text, top=limit, numterms=12)
            return [hit.docnum for hit in results]


@dataclass
class _Postings:
    """One term's documents (index numbering) and weights, or BM25 scores once `scored`."""

    docs: array
    weights: array
    bits: int
    scored: bool = False


def _has_sequence(terms: list[str], words: list[str]) -> bool:
    """Whether `words` occur one after the other in `terms`."""
    first, n = words[0], len(words)
    return any(terms[i:i + n] == words for i, term in enumerate(terms) if term == first)


def _snippet(text: str, lang: str, terms: frozenset[str] | None, chars: int = 240) -> str | None:
    """An HTML snippet of a body in language `lang`, its words analysing to one of `terms` in
    <mark> (the rest escaped), or None if none is there."""
    if not terms:
        return None
    if lang == "zh":
        return make_snippet(text, match_spans(text, text, set(), bool, terms), chars)
    # a stem keeps its folded word's letters but (at most) its last one: try -> tri, using -> use
    prefixes = {term[:-1] if len(term) > 3 else term[:2] if len(term) == 3 else term for term in terms}
    matcher = lambda word: _term_of(lang, word) in terms  # noqa: E731
    return make_snippet(text, match_spans(text, fold_in_place(text), prefixes, matcher, set()), chars)


def _read_postings(matcher, offset: int, docs: array, weights: array) -> None:
    """Append a segment's postings for one term, a block at a time where Whoosh allows it."""
    while hasattr(matcher, "child"):  # deleted documents are dropped later, by the bitsets
        matcher = matcher.child
    if hasattr(matcher, "_read_data") and hasattr(matcher, "_next_block"):
        # Whoosh's own leaf matcher: whole blocks, decoded in C rather than a posting at a time
        while matcher.is_active():
            matcher._read_data()
            ids = matcher._data[0] if matcher._byteids else accumulate(matcher._data[0])
            docs.extend(map(offset.__add__, ids) if offset else ids)
            matcher._read_weights()
            weights.extend(matcher._weights)
            matcher._next_block()
        return
    while matcher.is_active():
        docs.append(matcher.id() + offset)
        weights.append(matcher.weight())
        matcher.next()


_LENGTHS = [byte_to_length(b) or 1 for b in range(256)]  # Whoosh keeps lengths as one byte


def _field_lengths(reader, field_name: str) -> list[int]:
    """The length of a field in every document of a segment (1 where it is empty)."""
    count = reader.doc_count_all()
    try:  # the lengths column read whole: a 10,000-document segment a call instead of 10,000
        column = reader._perdoc._cached_reader(f"_{field_name}_len", LENGTHS_COLUMN)
        raw = column._dbfile.get(column._basepos, column._count) if column is not None else b""
    except AttributeError:
        return [reader.doc_field_length(d, field_name, 1) or 1 for d in range(count)]
    return [_LENGTHS[b] for b in raw[:count]] + [1] * (count - len(raw))


def _scored_terms(parsed) -> list[tuple[str, object]]:
    """The (field, term) pairs that add to a document's score: the words typed, not the names
    they matched ('meta') nor those under a NOT."""
    if isinstance(parsed, query.Term):
        return [(parsed.fieldname, parsed.text)] if parsed.fieldname != "meta" else []
    if isinstance(parsed, query.Phrase):
        return [(parsed.fieldname, word) for word in parsed.words]
    if isinstance(parsed, query.AndNot):
        return _scored_terms(parsed.a)
    if isinstance(parsed, query.Not):
        return []
    return [pair for child in parsed.children() for pair in _scored_terms(child)]


# What makes Whoosh's parser do more than split words on spaces (with our plugins): quotes,
# groups, ranges and operators. Most searches have none of it and are built directly.
_SYNTAX = re.compile(r"""["'()\[\]{}<>*:^~]|(?<!\S)(?:AND|OR|NOT|ANDNOT|ANDMAYBE)(?!\S)""")


def _plain_query(schema, text: str, expand: bool):
    """The query Whoosh's parser makes of words without syntax, built without its machinery:
    each word in any text field (AND across words), as `_parser` would (a test compares them),
    in the form normalize() gives it without paying for normalize() (nested ORs flattened,
    repeats dropped, groups of one replaced by their member)."""
    words = []
    for token in text.split():
        alternatives = []
        for name in text_fields(expand):
            field = schema[name]
            terms = list(field.process_text(token, mode="query"))
            if len(terms) == 1:
                alternatives.append(query.Term(name, terms[0]))
            elif terms and field.multitoken_query == "or":
                alternatives += [query.Term(name, t) for t in terms]
            elif terms:
                alternatives.append(query.And([query.Term(name, t) for t in terms]).normalize())
        if alternatives:
            words.append(_group(query.Or, alternatives))
    if not words:
        return None
    return _group(query.And, [part for word in words for part in (word if isinstance(word, query.And) else [word])])


def _group(kind, members: list):
    """`kind` (And or Or) of distinct members, or the one member."""
    members = list(dict.fromkeys(members))
    return members[0] if len(members) == 1 else kind(members)


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


def snippet_terms(parsed) -> dict[str, frozenset[str]]:
    """Per language, the terms of a parsed query that snippets mark in that language's bodies."""
    found: dict[str, set[str]] = {lang: set() for lang in LANGS}
    for field_name, text in (parsed.iter_all_terms() if parsed is not None else ()):
        kind, _, lang = field_name.partition("_")
        if kind in ("title", "body") and lang in found:
            found[lang].add(text.decode() if isinstance(text, bytes) else text)
    return {lang: frozenset(terms) for lang, terms in found.items()}


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
    return FileStorage(str(gen_dir))


class _MappedStorage(FileStorage):
    """A generation's files memory-mapped for reading: Whoosh reads a few bytes at a time (a
    term's hash slots, a posting block's header), and a slice of a mapping costs no seek and
    no system call, where its own files cost both on every read."""

    def open_file(self, name, **kwargs):
        """The file `name`, mapped (empty files, which cannot be mapped, opened normally)."""
        with open(self._fpath(name), "rb") as f:
            if not os.fstat(f.fileno()).st_size:
                return super().open_file(name, **kwargs)
            return _MappedFile(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), name=name, **kwargs)


class _MappedFile(StructFile):
    """A read-only StructFile over a memory mapping (which has read, seek and tell of its own)."""

    def get(self, position, length):
        """`length` bytes at `position`."""
        return self.file[position:position + length]


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
