"""Spelling: "did you mean" over the words of a generation's practices.

The twin of `whoosh.spelling`, whose ListCorrector it uses: each generation keeps the folded
words of its practices in words.txt, read at the first misspelling a snapshot meets.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from whoosh.spelling import ListCorrector

from kb.engine.analysis import CJK_RE, fold

WORDS_FILE = "words.txt"  # in each generation: the words spelling suggestions may offer


def spelling_words(text: str) -> set[str]:
    """The distinct folded words of a text that spelling suggestions may offer (not Chinese)."""
    return {fold(w) for w in re.findall(r"[^\W\d_]{2,}", text)} - {""}


def read_words(gen_dir: Path) -> list[str]:
    """The sorted words of a generation's spelling list (none if it has no list)."""
    try:
        return (gen_dir / WORDS_FILE).read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        return []


def write_words(gen_dir: Path, words: set[str]) -> None:
    """Replace a generation's spelling list atomically."""
    tmp = gen_dir / f".{WORDS_FILE}.{os.getpid()}"
    tmp.write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    os.replace(tmp, gen_dir / WORDS_FILE)


class Speller:
    """Corrections of query words from one generation's word list, loaded when first needed."""

    def __init__(self, gen_dir: Path):
        self.path = gen_dir
        self._lock = threading.Lock()
        self._words: tuple[set[str], ListCorrector] | None = None

    def _loaded(self) -> tuple[set[str], ListCorrector]:
        with self._lock:
            if self._words is None:
                words = read_words(self.path)
                self._words = set(words), ListCorrector(words)
            return self._words

    def suggest(self, text: str) -> str | None:
        """A spelling correction of a free-text query, or None."""
        words = re.findall(r"\w+", text)
        if not words or len(words) > 8:
            return None
        known, corrector = self._loaded()
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
