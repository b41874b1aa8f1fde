"""Analysis: what a text becomes in the index, and a query word in a search.

The twin of `whoosh.analysis`: per-language analysers (Chinese as character pairs; the western
languages lowercased, stop words dropped, accents folded, Snowball-stemmed), the word pattern
they share with snippets, accent folding, and the analyser of country and policy-type names.
`terms_in` gives exactly what the analysers give (tests/engine/ compare them), remembering
each distinct word's term, which makes rebuilds and new query words cheap.
"""

from __future__ import annotations

import codecs
import re
import threading
from collections.abc import Iterator
from functools import lru_cache

import Stemmer
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
from whoosh.lang import stopwords_for_language
from whoosh.support.charset import accent_map

from kb import vocab
from kb.snippets import WORD, WORD_RE

LANGS = vocab.LANGUAGES
CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
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
        return ChineseTokenizer() | LowercaseFilter() | StopFilter(stoplist=western_stops())
    # Stop words of all three languages everywhere: a query is parsed against every language's
    # fields, and 'de' or 'and' kept by one analyser would become a required word there.
    # Stop words first (the lists are accented), then fold, then stem: 'educacion' == 'educación'.
    return (RegexTokenizer(WORD) | LowercaseFilter() | StopFilter(stoplist=western_stops())
            | CharsetFilter(accent_map) | PyStemmerFilter(SNOWBALL[lang], cachesize=50000))



_TERMS: dict[str, dict[str, str | None]] = {}  # per language, each word seen -> its term


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
        stops = western_stops()
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


def term_of(lang: str, word: str) -> str | None:
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


@lru_cache(maxsize=1)
def western_stops() -> frozenset[str]:
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
    # a word the text analysers would split ('i̇' from 'İ' has a combining dot) is stemmed whole
    whole = WORD_RE.fullmatch(word) is not None
    for lang, stem in zip(("en", "es", "pt"), _stemmers(), strict=True):
        found = (term_of(lang, word) if whole else None) or stem(word)  # a stop word elsewhere, stemmed
        if found not in stems:
            stems.append(found)
    return stems


@lru_cache(maxsize=1)
def _stemmers():
    return [Stemmer.Stemmer(SNOWBALL[lang]).stemWord for lang in ("en", "es", "pt")]


def vocabulary_analyzer():
    """For country names and policy-type labels and synonyms in every language."""
    return (RegexTokenizer(r"\w+") | LowercaseFilter() | StopFilter(stoplist=western_stops())
            | CharsetFilter(accent_map)
            | MultiStemFilter())

@lru_cache(maxsize=1)
def vocabulary_terms() -> dict[str, set[tuple[str, str]]]:
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

