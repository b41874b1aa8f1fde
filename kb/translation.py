"""Translation files: a case study's body in another language, in a sibling `slug.LANG.md` file.

`practices/bra-bolsa-familia.es.md` translates `practices/bra-bolsa-familia.md` (Hugo's
convention; the sibling may sit in any folder of the tree, since slugs are unique in it). Its
front matter holds only what a translation owns (kb.fields.TRANSLATION_FILE_FIELDS), read with
the content model's own reader (kb.practice.read_document). A translation whose
`translated_from` is not the SHA-256 of the original's current body (`Practice.body_sha256`)
is stale: a warning, not an error.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from kb.fields import FIELDS_BY_NAME, TRANSLATION_FILE_FIELDS, TRANSLATION_KINDS
from kb.practice import SLUG_RE, Practice, Problem, read_document, read_practice, slug_of
from kb.validation import Invalid, check_text
from kb.vocab import LANGUAGES

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
OWN_FIELDS = {f.name: f for f in TRANSLATION_FILE_FIELDS}
OWN_NAMES = ", ".join(OWN_FIELDS)


@dataclass
class Translation:
    """A valid translation file: the body and the few fields a translation owns."""

    slug: str  # the original's
    lang: str
    path: str
    title: str
    summary: str
    kind: str
    translated_from: str
    body: str
    local_name: str | None = None
    reviewer: str | None = None
    stale: bool = False  # set against the original when attached to it
    lines: dict[str, int] = field(default_factory=dict, repr=False)

    def entry(self) -> dict:
        """What the page, the API and the record say about this version of the text."""
        return {"title": self.title, "summary": self.summary, "local_name": self.local_name,
                "kind": self.kind, "reviewer": self.reviewer, "stale": self.stale}


def split_name(name: str) -> tuple[str, str] | None:
    """(slug, language) of a translation's file name (`slug.LANG.md`); None for an original's."""
    stem = name[:-3] if name.endswith(".md") else name
    if "." not in stem:
        return None
    slug, lang = stem.rsplit(".", 1)
    return slug, lang


@dataclass
class Layout:
    """The files of a tree sorted into originals and their translations, by file name alone."""

    originals: list[str]
    siblings: dict[str, dict[str, str]]  # original's key -> language -> translation's key
    slug_paths: dict[str, list[str]]  # slug -> keys of the originals that claim it
    problems: list[Problem]


def layout(keys: Iterable[str]) -> Layout:
    """Sort file keys (paths as shown) into originals and translations; name each orphan, each
    unknown language and each second translation into one language."""
    originals, translations = [], []
    for key in keys:
        parts = split_name(PurePath(key).name)
        (translations.append((key, *parts)) if parts else originals.append(key))
    slug_paths: dict[str, list[str]] = {}
    for key in originals:
        slug_paths.setdefault(slug_of(Path(key)), []).append(key)
    siblings: dict[str, dict[str, str]] = {}
    problems = []
    for key, slug, lang in translations:
        message = _name_problem(PurePath(key).name, slug, lang, slug_paths)
        first = None if message else siblings.setdefault(slug_paths[slug][0], {}).get(lang)
        if first:
            message = f"is a second {lang!r} translation of {slug!r} (the first is {first}); keep one"
        if message:
            problems.append(Problem(key, 0, "file name", message))
        else:
            siblings[slug_paths[slug][0]][lang] = key
    return Layout(originals, siblings, slug_paths, problems)


def _name_problem(name: str, slug: str, lang: str, slug_paths: dict) -> str | None:
    if lang not in LANGUAGES:
        return (f"{name!r}: {lang!r} is not a language of the collection; a translation is named "
                f"SLUG.LANG.md with LANG one of {', '.join(LANGUAGES)}")
    if not SLUG_RE.match(slug):
        return (f"{name!r} must be SLUG.LANG.md with a slug of lowercase letters, digits and hyphens, "
                "e.g. 'bra-bolsa-familia.es.md'")
    if slug not in slug_paths:
        return f"translates {slug!r}, but no practice file {slug}.md is in the tree"
    return None


def read_translation(path: Path, shown: str, raw: bytes | None = None) -> tuple[Translation | None, list[Problem]]:
    """Read and check one translation file on its own (the original is checked by `attach`)."""
    slug, lang = split_name(path.name) or (path.name, "")
    doc, problems = read_document(path, shown, raw)
    if doc is None:
        return None, problems
    first = min(doc.lines.values(), default=1)
    values = {}
    for key in doc.data:
        if str(key) not in OWN_FIELDS:
            problems.append(Problem(shown, doc.lines.get(key, first), str(key), _not_own(str(key), slug)))
    for spec in TRANSLATION_FILE_FIELDS:
        line, raw_value = doc.lines.get(spec.name, first), doc.data.get(spec.name)
        if raw_value is None or raw_value == "":
            if spec.required:
                problems.append(Problem(shown, line, spec.name, f"is missing; expected {spec.doc[0].lower()}{spec.doc[1:]}"))
            values[spec.name] = None
            continue
        try:
            values[spec.name] = CHECKS[spec.kind](raw_value, spec)
        except Invalid as exc:
            problems.append(Problem(shown, line, spec.name, str(exc)))
    if values.get("kind") == "human" and not values.get("reviewer") and not any(p.field == "reviewer" for p in problems):
        problems.append(Problem(shown, doc.lines.get("kind", first), "reviewer",
                                "is missing; a human translation names its reviewer"))
    if not doc.body.strip():
        problems.append(Problem(shown, doc.body_line, "body", "is empty; expected the case study, translated"))
    if problems:
        return None, sorted(problems)
    return Translation(slug=slug, lang=lang, path=shown, body=doc.body, lines=doc.lines, **values), []


def _not_own(key: str, slug: str) -> str:
    if key in FIELDS_BY_NAME:
        return (f"belongs to the original ({slug}.md) and is never repeated; a translation holds only "
                f"{OWN_NAMES}")
    close = difflib.get_close_matches(key, list(OWN_FIELDS), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"is not a field of a translation file (expected {OWN_NAMES}){hint}"


def _check_kind(raw, spec) -> str:
    if raw not in TRANSLATION_KINDS:
        raise Invalid(f"expected machine or human, found {raw!r}")
    return raw


def _check_sha256(raw, spec) -> str:
    if not isinstance(raw, str) or not SHA256_RE.match(raw.strip()):
        raise Invalid(f"expected the 64 hex digits of the original body's SHA-256 "
                      f"(`kb translations --hash SLUG` prints it), found {str(raw)[:80]!r}")
    return raw.strip()


CHECKS = {"text": check_text, "kind": _check_kind, "sha256": _check_sha256}


def attach(practice: Practice, translations: Iterable[Translation]) -> list[Problem]:
    """Give a valid original its translations (a sibling's title and summary take precedence
    over the front matter's `translations` for its language); refuse one into its own language."""
    problems = []
    for found in translations:
        if found.lang == practice.language:
            problems.append(Problem(found.path, 0, "file name",
                                    f"translates into {found.lang!r}, the language of the original "
                                    f"{practice.path}; a translation is into another language"))
            continue
        found.stale = found.translated_from != practice.body_sha256
        practice.translation_files[found.lang] = found
        practice.translations[found.lang] = {"title": found.title, "summary": found.summary,
                                             "kind": found.kind, "reviewer": found.reviewer}
    return problems


def read_unit(path: Path, shown: str, raw: bytes | None,
              siblings: dict[str, tuple[Path, str, bytes | None]]) -> tuple[Practice | None, list[Problem]]:
    """Read a practice with its translation files (language -> (path, shown, bytes or None)): one
    indexed unit. A broken translation is reported and left out; the practice stays."""
    practice, problems = read_practice(path, shown, raw)
    found = []
    for _lang, (sibling, sibling_shown, sibling_raw) in sorted(siblings.items()):
        translation, sibling_problems = read_translation(sibling, sibling_shown, sibling_raw)
        problems += sibling_problems
        if translation:
            found.append(translation)
    if practice is not None:
        problems += attach(practice, found)
    return practice, problems


def stale_warnings(practices: Iterable[Practice]) -> list[Problem]:
    """A warning for each translation made from an earlier version of its original's body."""
    out = []
    for practice in practices:
        for found in practice.translation_files.values():
            if found.stale:
                out.append(Problem(found.path, found.lines.get("translated_from", 0), "translated_from",
                                   f"stale: {practice.path} has changed since this was translated; update the "
                                   f"translation, then set translated_from to {practice.body_sha256}"))
    return sorted(out)


def coverage(practices: Iterable[Practice]) -> list[dict]:
    """Per practice and language: original, present (machine or human), stale or missing."""
    rows = []
    for practice in sorted(practices, key=lambda p: p.slug):
        langs = {}
        for lang in LANGUAGES:
            found = practice.translation_files.get(lang)
            if lang == practice.language:
                langs[lang] = {"status": "original"}
            elif found is None:
                langs[lang] = {"status": "missing"}
            else:
                langs[lang] = {"status": "stale" if found.stale else "present", "kind": found.kind,
                               "reviewer": found.reviewer, "path": found.path}
        rows.append({"slug": practice.slug, "path": practice.path, "language": practice.language,
                     "body_sha256": practice.body_sha256, "languages": langs})
    return rows
