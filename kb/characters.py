"""Characters in text: which ones XML cannot carry, and how a message shows a value safely.

Used by validation (every front-matter text and the body), the file reader's messages and the feed.
"""

from __future__ import annotations

import re

# Characters XML cannot carry (C0 controls but tab and line ends, surrogates, U+FFFE, U+FFFF) and
# the rest that no text needs (DEL, C1 controls, the other non-characters): refused in every text
# of the front matter and the body, because one of them in a title makes the Atom feed not
# well-formed. The non-characters of planes 1-16 have a pattern of their own: in one character
# class with the rest, they made every search twenty times slower.
_BMP_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
_BMP_FORBIDDEN_RE = re.compile(f"[{_BMP_FORBIDDEN}]")
_ASTRAL_HIGH_RE = re.compile("[\U0001fffe-\U0010ffff]")  # one range: as fast as the BMP class
_ASTRAL_FORBIDDEN_RE = re.compile(
    "[" + "".join(f"{chr(p + 0xFFFE)}{chr(p + 0xFFFF)}" for p in range(0x10000, 0x110000, 0x10000)) + "]")
# Shown escaped in messages: invisible controls, line breaks and bidi overrides would rewrite a terminal.
_UNPRINTABLE_RE = re.compile(f"[{_BMP_FORBIDDEN}\n\r\t\x85\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with invisible and line-breaking characters escaped."""
    text = str(text)
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return _UNPRINTABLE_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), cut)


def find_forbidden(text: str) -> re.Match | None:
    """The first character of `text` that XML cannot carry or no text needs, or None."""
    found = _BMP_FORBIDDEN_RE.search(text)
    if found is None and _ASTRAL_HIGH_RE.search(text):
        return _ASTRAL_FORBIDDEN_RE.search(text)
    return found


def without_forbidden(text: str) -> str:
    """`text` with every character XML cannot carry replaced by U+FFFD."""
    text = _BMP_FORBIDDEN_RE.sub("\ufffd", text)
    return _ASTRAL_FORBIDDEN_RE.sub("\ufffd", text) if _ASTRAL_HIGH_RE.search(text) else text


def code_point(char: str) -> str:
    """A character named by its code point, e.g. 'U+FFFE'."""
    return f"U+{ord(char):04X}"


def forbidden_char(value) -> tuple[str, str] | None:
    """The first forbidden character in a front-matter value, its keys and nested values included:
    (where, e.g. '[2].title: ', the character), or None."""
    found = _forbidden(value, 0)
    if found is None:
        return None
    path, char = found
    where = "".join(part if part.startswith("[") else f".{part}" for part in path).lstrip(".")
    return (f"{where}: " if where else ""), char


def _forbidden(value, depth: int) -> tuple[list[str], str] | None:
    if isinstance(value, str):
        found = find_forbidden(value)
        return ([], found.group()) if found else None
    if depth > 8:  # the reader refuses deeper front matter
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value, 1) if isinstance(value, list) else ()
    for key, item in items:
        label = f"[{key}]" if isinstance(key, int) and isinstance(value, list) else printable(str(key), 40)
        if isinstance(key, str) and (found := find_forbidden(key)):
            return [label, "(a key)"], found.group()
        if (inner := _forbidden(item, depth + 1)) is not None:
            return [label, *inner[0]], inner[1]
    return None
