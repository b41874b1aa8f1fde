"""Field-by-field checks of parsed front matter against the declarations in `kb.fields`.

Each check takes the raw YAML value and returns the normalized value or raises `Invalid`
with a message that says what was expected, what was found and, where obvious, a fix.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import reprlib
from urllib.parse import urlparse

from kb import vocab
from kb.characters import code_point, find_forbidden, forbidden_char
from kb.fields import (
    AUTHOR_MAX,
    BLOCK_KEYS,
    FIELDS,
    FIELDS_BY_NAME,
    MAX_AUTHORS,
    SOURCE_KEYS,
    SOURCE_OPTIONAL_KEYS,
    TRANSLATION_KINDS,
    Field,
)

SDG_RE = re.compile(r"^\d{1,2}\.[0-9a-z]{1,2}$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_LIST = 50
# Not in a valid URL (RFC 3986) and able to end a field of a citation or an HTML attribute.
URL_UNSAFE_RE = re.compile(r'[\s{}\\"<>^`|]')
# A DOI as Crossref and DataCite issue them: the 10. prefix with a registrant code, a slash, a suffix
# of printable characters (none that would break a URL or a citation field).
DOI_RE = re.compile(r'^10\.\d{4,9}(?:\.\d+)*/[^\s{}\\"<>^`|]+$')
DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")
OPTIONAL_SOURCE_NAMES = tuple(k.name for k in SOURCE_OPTIONAL_KEYS)
MAX_UNKNOWN = 5  # unknown fields reported one by one; the rest counted
_REPR = reprlib.Repr()  # values in messages: a few items, a few dozen characters
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 2, 2, 2, 60, 60


class Invalid(ValueError):
    """A field value that breaks the contract; the message is shown to the contributor."""


def check_fields(data: dict, lines: dict[str, int],
                 scan_chars: bool = True) -> tuple[dict, list[tuple[int, str, str]]]:
    """Check every field; return the normalized values and (line, field, message) problems.
    `scan_chars=False` skips looking for forbidden characters (the text had none and no escapes)."""
    values, problems = {}, []
    first = min(lines.values(), default=1)
    unknown = [key for key in data if str(key) not in FIELDS_BY_NAME]
    for key in unknown[:MAX_UNKNOWN]:
        problems.append((lines.get(key, first), str(key), _unknown_field(str(key))))
    if len(unknown) > MAX_UNKNOWN:
        problems.append((lines.get(unknown[MAX_UNKNOWN], first), "front matter",
                         f"has {len(unknown) - MAX_UNKNOWN} more unknown field(s)"))
    for spec in FIELDS:
        if spec.name in BLOCK_KEYS:
            continue  # checked below, item by item
        line = lines.get(spec.name, first)
        raw = data.get(spec.name)
        if scan_chars and (bad := forbidden_char(raw)) is not None:
            where, char = bad
            problems.append((line, spec.name, f"{where}contains {code_point(char)}, a character that XML "
                                              "and feeds cannot carry; remove it"))
            continue
        if raw is None or raw == "" or raw == []:
            if spec.required:
                problems.append((line, spec.name, f"is missing; expected {spec.doc[0].lower()}{spec.doc[1:]}"))
            values[spec.name] = [] if spec.kind in ("list", "slugs", "sdgs") else {} if spec.kind == "translations" else None
            continue
        try:
            values[spec.name] = CHECKS[spec.kind](raw, spec)
        except Invalid as exc:
            problems.append((line, spec.name, str(exc)))
    _check_years(values, lines, problems)
    from kb.programme_checks import check_blocks  # it builds on this module's checks

    check_blocks(data, lines, values, problems)
    own = values.get("language")
    if own and own in (values.get("translations") or {}):
        problems.append((lines.get("translations", first), "translations",
                         f"has {own!r}, the body's own language; give only the other languages"))
    return values, problems


def _unknown_field(key: str) -> str:
    close = difflib.get_close_matches(key, list(FIELDS_BY_NAME), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"is not a field of the practice format{hint}"


def _check_years(values: dict, lines: dict, problems: list) -> None:
    start, end = values.get("year_start"), values.get("year_end")
    if isinstance(start, int) and isinstance(end, int) and end < start:
        problems.append((lines.get("year_end", 1), "year_end", f"is {end}, before year_start {start}"))


def _found(raw) -> str:
    return f"{type(raw).__name__} {_REPR.repr(raw)}" if not isinstance(raw, str) else _REPR.repr(raw)


def check_text(raw, spec: Field) -> str:
    """A single line or paragraph of plain text."""
    if not isinstance(raw, str):
        raise Invalid(f"expected text, found {_found(raw)}")
    text = " ".join(raw.split())
    if found := find_forbidden(raw):
        raise Invalid(f"contains {code_point(found.group())}, a character that XML and feeds cannot carry")
    if spec.max_length and len(text) > spec.max_length:
        raise Invalid(f"is {len(text)} characters; at most {spec.max_length} allowed")
    return text


def check_int(raw, spec: Field) -> int:
    """A year as an integer."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        if isinstance(raw, str) and raw.strip().isdigit():
            raise Invalid(f"expected an integer year, found the string {raw!r}; write it without quotes")
        raise Invalid(f"expected an integer year, found {_found(raw)}")
    if not 1900 <= raw <= 2100:
        raise Invalid(f"expected a year between 1900 and 2100, found {raw}")
    return raw


def check_year_end(raw, spec: Field) -> int | None:
    """An end year, or null for an ongoing practice."""
    return check_int(raw, spec)


def check_date(raw, spec: Field) -> dt.date:
    """A date written YYYY-MM-DD (YAML loads it as a date)."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise Invalid(f"expected a date as YYYY-MM-DD, found {_found(raw)}")


def check_enum(raw, spec: Field) -> str:
    """One value of a closed vocabulary."""
    vocabulary = spec.vocabulary()
    if isinstance(raw, str) and raw in vocabulary:
        return raw
    return _not_in(raw, vocabulary, spec)


def _not_in(raw, vocabulary: vocab.Vocabulary, spec: Field):
    if not isinstance(raw, str):
        raise Invalid(f"expected one of {', '.join(vocabulary.values())}; found {_found(raw)}")
    suggestion = _suggest(raw, vocabulary)
    if len(vocabulary) <= 8:
        expected = f"expected one of {', '.join(vocabulary.values())}"
    else:
        expected = f"expected a {vocabulary.name} value (see `kb vocab {vocabulary.name}`)"
    hint = f"; did you mean {suggestion}?" if suggestion else ""
    raise Invalid(f"{_found(raw)} is unknown; {expected}{hint}")


def _suggest(raw: str, vocabulary: vocab.Vocabulary) -> str | None:
    if vocabulary.name == "countries":
        code = raw.strip().upper()
        guess = vocab.alpha2_to_alpha3().get(code) or vocabulary.suggest(raw)
        if guess:
            return f"{guess!r} ({vocabulary.label(guess)})"
        return None
    guess = vocabulary.suggest(raw)
    return repr(guess) if guess else None


def check_list(raw, spec: Field) -> list[str]:
    """A list of strings (a single string is accepted as a list of one), each checked."""
    items = _as_list(raw)
    out = []
    for item in items:
        if spec.vocabulary and not (isinstance(item, str) and item in spec.vocabulary()):
            if spec.name == "countries" and isinstance(item, str) and len(item.strip()) == 2:
                guess = _suggest(item, spec.vocabulary())
                hint = f"; did you mean {guess}?" if guess else ""
                raise Invalid(f"{_found(item)} is not an alpha-3 code{hint}")
            _not_in(item, spec.vocabulary(), spec)
        if not isinstance(item, str) or not item.strip():
            raise Invalid(f"expected a list of text values, found the item {_found(item)}")
        out.append(" ".join(item.split()))
    if len(set(out)) != len(out):
        raise Invalid(f"lists {sorted({x for x in out if out.count(x) > 1})} more than once")
    return out


def _as_list(raw) -> list:
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list):
        raise Invalid(f"expected a list like [a, b], found {_found(raw)}")
    if len(raw) > MAX_LIST:
        raise Invalid(f"has {len(raw)} items; at most {MAX_LIST} allowed")
    return raw


def check_slugs(raw, spec: Field) -> list[str]:
    """Slugs of other practices (existence is checked across the collection)."""
    items = _as_list(raw)
    for item in items:
        if not isinstance(item, str) or not SLUG_RE.match(item):
            raise Invalid(f"expected practice slugs like 'mex-prospera', found {_found(item)}")
    return list(dict.fromkeys(items))


def check_sdgs(raw, spec: Field) -> list[str]:
    """SDG targets such as "1.3"; numbers are refused because YAML turns 1.10 into 1.1."""
    items = _as_list(raw)
    for item in items:
        if not isinstance(item, str):
            raise Invalid(f"write each target as a quoted string like \"1.3\", found {_found(item)}")
        if not SDG_RE.match(item):
            raise Invalid(f"expected SDG targets like \"1.3\" or \"17.a\", found {_found(item)}")
    return items


def check_sources(raw, spec: Field) -> list[dict]:
    """At least one source, each with title, publisher, year (int or null) and an http(s) url."""
    if not isinstance(raw, list):
        raise Invalid(f"expected a list of sources, each with {', '.join(SOURCE_KEYS)}; found {_found(raw)}")
    return [_check_source(i, s) for i, s in enumerate(raw, 1)]


def _check_source(number: int, source) -> dict:
    where = f"source {number}"
    if not isinstance(source, dict):
        raise Invalid(f"{where}: expected a mapping with {', '.join(SOURCE_KEYS)}; found {_found(source)}")
    missing = [k for k in SOURCE_KEYS if k not in source]
    extra = [str(k) for k in source if k not in SOURCE_KEYS + OPTIONAL_SOURCE_NAMES]
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown keys {', '.join(extra)}"] if extra else [])
        raise Invalid(f"{where}: {'; '.join(parts)} (expected {', '.join(SOURCE_KEYS)}, "
                      f"optionally {', '.join(OPTIONAL_SOURCE_NAMES)})")
    for key in ("title", "publisher"):
        if not isinstance(source[key], str) or not source[key].strip():
            raise Invalid(f"{where}: {key} must be text, found {_found(source[key])}")
    year = source["year"]
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise Invalid(f"{where}: year must be an integer or null, found {_found(year)}")
    url = source["url"]
    parsed = urlparse(url) if isinstance(url, str) else None
    if not parsed or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise Invalid(f"{where}: url must start with http:// or https://, found {_found(url)}")
    if bad := URL_UNSAFE_RE.search(url.strip()):
        raise Invalid(f"{where}: url must not hold {'a space' if bad.group().isspace() else repr(bad.group())} "
                      f"(percent-encode it, e.g. %7B for {{), found {_found(url)}")
    return {"title": " ".join(source["title"].split()), "publisher": " ".join(source["publisher"].split()),
            "year": year, "url": url.strip(), **_optional_source_keys(where, source)}


def _optional_source_keys(where: str, source: dict) -> dict:
    """authors (list of names), doi (10.NNNN/...) and container (text), only those given."""
    out = {}
    authors = source.get("authors")
    if authors not in (None, []):
        if not isinstance(authors, list) or not authors:
            raise Invalid(f'{where}: authors must be a list of names like ["Levy, Santiago"], found {_found(authors)}')
        if len(authors) > MAX_AUTHORS:
            raise Invalid(f"{where}: authors has {len(authors)} names; give at most {MAX_AUTHORS} "
                          "(the first ones, then the publisher)")
        for name in authors:
            if not isinstance(name, str) or not name.strip() or len(name) > AUTHOR_MAX:
                raise Invalid(f"{where}: each author must be a name (text of at most {AUTHOR_MAX} "
                              f"characters), found {_found(name)}")
        out["authors"] = [" ".join(name.split()) for name in authors]
    doi = source.get("doi")
    if doi is not None:
        text = doi.strip() if isinstance(doi, str) else ""
        for prefix in DOI_PREFIXES:
            if text.lower().startswith(prefix):
                text = text[len(prefix):]
        if not DOI_RE.match(text):
            raise Invalid(f"{where}: doi must look like 10.1596/978-0-8213-7352-1 (10., a registrant code of "
                          f"4 to 9 digits, a slash, a suffix without spaces), found {_found(doi)}")
        out["doi"] = text
    container, limit = source.get("container"), SOURCE_OPTIONAL_KEYS[2].max_length
    if container is not None:
        if not isinstance(container, str) or not container.strip() or len(container) > limit:
            raise Invalid(f"{where}: container must be the journal, series or book as text "
                          f"(at most {limit} characters), found {_found(container)}")
        out["container"] = " ".join(container.split())
    return out


def check_translations(raw, spec: Field) -> dict:
    """Per language (not the body's own), a title and summary marked machine or human (with a reviewer)."""
    if not isinstance(raw, dict):
        raise Invalid(f"expected a mapping of languages like {{es: {{title, summary, kind}}}}, found {_found(raw)}")
    out = {}
    for lang, entry in raw.items():
        if lang not in vocab.LANGUAGES:
            raise Invalid(f"{_found(lang)} is not a language; expected {', '.join(vocab.LANGUAGES)}")
        where = f"{lang}"
        if not isinstance(entry, dict):
            raise Invalid(f"{where}: expected a mapping with title, summary, kind; found {_found(entry)}")
        extra = sorted(str(k) for k in entry if k not in ("title", "summary", "kind", "reviewer"))
        if extra:
            raise Invalid(f"{where}: unknown keys {', '.join(extra)} (expected title, summary, kind, reviewer)")
        title = check_text(entry.get("title"), FIELDS_BY_NAME["title"]) if entry.get("title") else None
        summary = check_text(entry.get("summary"), FIELDS_BY_NAME["summary"]) if entry.get("summary") else None
        if not title or not summary:
            raise Invalid(f"{where}: title and summary are both required")
        kind = entry.get("kind")
        if kind not in TRANSLATION_KINDS:
            raise Invalid(f"{where}: kind must be machine or human, found {_found(kind)}")
        reviewer = entry.get("reviewer")
        if kind == "human" and not (isinstance(reviewer, str) and reviewer.strip()):
            raise Invalid(f"{where}: a human translation needs the reviewer's name")
        out[lang] = {"title": title, "summary": summary, "kind": kind,
                     "reviewer": reviewer.strip() if isinstance(reviewer, str) else None}
    return out


CHECKS = {
    "text": check_text,
    "int": check_int,
    "year_end": check_year_end,
    "date": check_date,
    "enum": check_enum,
    "list": check_list,
    "slugs": check_slugs,
    "sdgs": check_sdgs,
    "sources": check_sources,
    "translations": check_translations,
}
