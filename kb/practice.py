"""The content model: read a practice file into a validated `Practice`, or explain every problem.

This is the only module that parses front matter and YAML. Reading never raises for bad
input: every problem becomes a `Problem` naming the file, line, field, what was expected and
what was found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from kb import vocab
from kb.characters import code_point, find_forbidden, printable
from kb.fields import BLOCK_KEYS, FIELDS
from kb.source_files import MAX_FILE_BYTES, Unreadable, read_source
from kb.validation import check_fields

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Front matter nests three levels (sources: - {title: ...}); anything much deeper is a mistake or
# an attack on the YAML library (100,000 '[' crash libyaml's composer, a thousand exhaust Python's stack).
MAX_DEPTH = 8
MAX_PROBLEMS = 20  # per file: a broken file is told what to fix first, not flooded
MAX_MESSAGE = 300
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is about twice as fast


class _Refused(Exception):
    """Front matter refused while it is built (an alias, deep nesting, a tag); line is 0-based."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class Practice:
    """A valid practice, its metadata normalized once at load time."""

    slug: str
    path: str
    title: str
    countries: list[str]
    policy_types: list[str]
    summary: str
    year_start: int
    status: str
    language: str
    sources: list[dict]
    last_reviewed: dt.date
    body: str
    local_name: str | None = None
    year_end: int | None = None
    geographic_scale: str | None = None
    evidence_level: str | None = None
    sdg_targets: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    translations: dict[str, dict] = field(default_factory=dict)
    design: dict = field(default_factory=dict)
    indicators: list[dict] = field(default_factory=list)
    evaluations: list[dict] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    # the body in other languages, from sibling files (kb.translation), by language
    translation_files: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def body_sha256(self) -> str:
        """What a translation's `translated_from` must equal: the SHA-256 of this body (UTF-8),
        as read here (BOM dropped, line endings as '\\n', from the line after the closing '---')."""
        return body_sha256(self.body)

    @property
    def regions(self) -> list[str]:
        """UN M49 sub-regions, derived from the countries."""
        return sorted({vocab.region_of(c) for c in self.countries})

    @property
    def decade(self) -> str:
        """The start decade, e.g. '2000s'."""
        return f"{self.year_start // 10 * 10}s"

    @property
    def benefits(self) -> list[str]:
        """What the programme gives (from `design`)."""
        return self.design.get("benefits") or []

    @property
    def conditionality(self) -> str | None:
        """Whether its benefits carry conditions (from `design`)."""
        return self.design.get("conditionality")

    @property
    def targeting(self) -> list[str]:
        """How it selects beneficiaries (from `design`)."""
        return self.design.get("targeting") or []

    @property
    def outcomes(self) -> list[str]:
        """The outcomes its evaluations measured, in first-listed order."""
        return list(dict.fromkeys(e["outcome"] for e in self.evaluations))

    @property
    def impact_evaluation(self) -> str | None:
        """'yes' when an evaluation is an rct or quasi-experimental, else None."""
        return "yes" if vocab.has_impact_evaluation(self.evaluations) else None

    def metadata(self) -> dict:
        """The front-matter fields as JSON-ready data."""
        data = {f.name: getattr(self, f.name) for f in FIELDS}
        data["last_reviewed"] = self.last_reviewed.isoformat()
        return {"slug": self.slug, **data, "regions": self.regions}


@dataclass
class Document:
    """A file split into front matter (with the line of each key) and body, before validation."""

    path: str
    data: dict
    lines: dict[str, int]
    body: str
    body_line: int
    # whether a value may hold a character the text does not show as such: a string's characters
    # come from the text or from a double-quoted escape, which starts with a backslash
    escapes: bool = True


def body_sha256(body: str) -> str:
    """The SHA-256 (hex) of a body's text in UTF-8: the one definition of a body's hash."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def slug_of(path: Path) -> str:
    """The slug of a practice file: its name without `.md`."""
    return path.name[:-3] if path.name.endswith(".md") else path.name


def read_practice(path: Path, display: str | None = None,
                  raw: bytes | None = None) -> tuple[Practice | None, list[Problem]]:
    """Read (unless its bytes are given) and validate one file; return the practice (None if
    invalid) and its problems."""
    shown = display or str(path)
    doc, problems = read_document(path, shown, raw)
    if doc is None:
        return None, bounded(problems)  # nothing readable to check further
    slug = slug_of(path)
    if not SLUG_RE.match(slug):
        problems.append(
            Problem(shown, 0, "slug", f"file name {path.name!r} must be lowercase letters, digits "
                    "and hyphens ending in .md, e.g. 'bra-bolsa-familia.md'")
        )
    values, field_problems = check_fields(doc.data, doc.lines, doc.escapes)
    problems += [Problem(shown, line, name, msg) for line, name, msg in field_problems]
    if not doc.body.strip():
        problems.append(Problem(shown, doc.body_line, "body", "is empty; expected the case study in Markdown"))
    elif bad := find_forbidden(doc.body):
        line = doc.body_line + doc.body.count("\n", 0, bad.start())
        problems.append(Problem(shown, line, "body", f"contains {code_point(bad.group())}, a character that "
                                "pages and feeds cannot carry; remove it"))
    if problems:
        return None, bounded(problems)
    return Practice(slug=slug, path=shown, body=doc.body, lines=doc.lines, **values), []


def bounded(problems: list[Problem]) -> list[Problem]:
    """At most MAX_PROBLEMS problems, each field and message printable and cut short."""
    kept = [Problem(p.path, p.line, printable(p.field, 60), printable(p.message, MAX_MESSAGE))
            for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        kept.append(Problem(kept[-1].path, kept[-1].line, "file",
                            f"{len(problems) - MAX_PROBLEMS} more problem(s) not shown; fix these first"))
    return kept


def read_document(path: Path, shown: str, raw: bytes | None = None) -> tuple[Document | None, list[Problem]]:
    """Read (unless its bytes are given) and split any practice or translation file."""
    try:
        raw = read_source(path) if raw is None else raw
    except Unreadable as exc:
        return None, [Problem(shown, 0, "file", str(exc))]
    return parse_document(raw, shown)


def parse_document(raw: bytes, shown: str) -> tuple[Document | None, list[Problem]]:
    """Split raw bytes into front matter and body, reporting what the YAML library would hide."""
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(shown, 0, "file", f"is {len(raw):,} bytes; at most {MAX_FILE_BYTES:,} allowed")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(shown, 0, "file", f"is not UTF-8 text (byte {exc.start})")]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or lines[start].rstrip() != "---":
        found = "an empty file" if start is None else repr(lines[start][:40])
        return None, [Problem(shown, (start or 0) + 1, "front matter",
                              f"missing: the file must start with a '---' line, found {found}")]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        return None, [Problem(shown, start + 1, "front matter",
                              f"opened with '---' on line {start + 1} but never closed by a second '---' line")]
    fm_text, body = "\n".join(lines[start + 1:end]), "\n".join(lines[end + 1:])
    return _parse_yaml(fm_text, body, shown, first_line=start + 2, body_line=end + 2)


def _parse_yaml(fm_text: str, body: str, shown: str, first_line: int, body_line: int):
    loader = _Loader(fm_text)
    try:  # one pass over the parser's events gives the data and the line of each key
        data, keys, block = _load(loader)
    except _Refused as exc:
        return None, [Problem(shown, first_line + exc.line, "front matter", str(exc))]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark else first_line
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [Problem(shown, line, "front matter", f"is not valid YAML: {reason}")]
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. an impossible date like 2021-02-30
        return None, [Problem(shown, first_line, "front matter", f"has a value YAML cannot read: {exc}")]
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        found = "nothing" if data is None else f"a {type(data).__name__}"
        return None, [Problem(shown, first_line, "front matter",
                              f"must be a mapping of 'field: value' lines, found {found}")]
    lines, problems = {}, []
    for key, line in keys:
        if key in lines:
            problems.append(Problem(shown, first_line + line, str(key),
                                    f"appears twice (first on line {lines[key]}); keep one"))
        lines.setdefault(key, first_line + line)
    lines.update((path, first_line + line) for path, line in block.items())
    escapes = "\\" in fm_text or find_forbidden(fm_text) is not None
    return Document(shown, data, lines, body, body_line, escapes), problems  # YAML kept the last value


_STR, _MERGE = "tag:yaml.org,2002:str", "tag:yaml.org,2002:merge"
_PLAIN_COLLECTIONS = (None, "!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")


def _load(loader) -> tuple[object, list[tuple[object, int]], dict[str, int]]:
    """The document's data, each top-level key with its (0-based) line and the lines inside the
    comparable-data blocks ('indicators[2]', 'indicators[2].value', 'design.benefits[1]'), built straight from
    the parser's events: no recursion (libyaml's composer recursed once per level and crashed),
    no aliases (how a 360-byte file becomes gigabytes), no nesting deeper than MAX_DEPTH, and
    lists and mappings only. About a third faster than composing nodes and constructing them."""
    get_event, resolve, constructors = loader.get_event, loader.resolve, loader.yaml_constructors
    get_event()  # stream start
    if loader.check_event(yaml.StreamEndEvent):
        return None, [], {}
    get_event()  # document start
    stack: list[list] = []  # [list or dict, pending key, whether a key is pending, block path or None]
    root, keys, block = None, [], {}
    while (kind := type(event := get_event())) is not yaml.DocumentEndEvent:
        if kind is yaml.ScalarEvent:
            tag = event.tag if event.tag not in (None, "!") else resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag == _STR:
                value = event.value
            elif tag == _MERGE:  # '<<' merges an alias: kept as a plain key, reported as unknown
                value = event.value
            else:  # ints, dates, nulls...: SafeLoader's own constructor, or its error for an unknown tag
                node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
                value = constructors.get(tag, constructors[None])(loader, node)
        elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
            _check_collection(event, stack)
            path = _block_path(stack, event.start_mark.line, block)
            stack.append([[] if kind is yaml.SequenceStartEvent else {}, None, False, path])
            continue
        elif kind is yaml.AliasEvent:
            raise _Refused(event.start_mark.line, f"uses the alias *{printable(event.anchor, 40)}; anchors and "
                           "aliases are not allowed in front matter: write each value out")
        else:  # the end of a sequence or mapping
            value = stack.pop()[0]
        if not stack:
            root = value
            continue
        top = stack[-1]
        if type(top[0]) is list:
            if top[3] is not None and kind is yaml.ScalarEvent:
                block.setdefault(f"{top[3]}[{len(top[0]) + 1}]", event.start_mark.line)
            top[0].append(value)
        elif not top[2]:
            top[1], top[2] = value, True
            if len(stack) == 1:
                keys.append((value, event.start_mark.line))
            elif top[3] is not None:
                block.setdefault(f"{top[3]}.{value}", event.start_mark.line)
        else:
            top[0][top[1]] = value
            top[1], top[2] = None, False
    if not loader.check_event(yaml.StreamEndEvent):
        raise _Refused(loader.peek_event().start_mark.line, "holds more than one YAML document")
    return root, keys, block


def _block_path(stack: list[list], line: int, block: dict[str, int]) -> str | None:
    """The path of a list or mapping that starts inside a comparable-data block (None elsewhere),
    so a problem can point at its item; an item's line is recorded as it starts."""
    if not stack:
        return None
    top = stack[-1]
    if len(stack) == 1:  # the value of a top-level field
        return top[1] if top[2] and top[1] in BLOCK_KEYS else None
    if top[3] is None:
        return None
    if type(top[0]) is list:
        path = f"{top[3]}[{len(top[0]) + 1}]"
        block.setdefault(path, line)
        return path
    return f"{top[3]}.{top[1]}"


def _check_collection(event, stack: list[list]) -> None:
    line = event.start_mark.line
    if len(stack) >= MAX_DEPTH:
        raise _Refused(line, f"nests lists or mappings more than {MAX_DEPTH} levels deep; front matter needs three")
    if stack and type(stack[-1][0]) is dict and not stack[-1][2]:
        raise _Refused(line, "uses a list or mapping as a key; keys are field names")
    if event.tag not in _PLAIN_COLLECTIONS:
        raise _Refused(line, f"uses the tag {printable(event.tag, 40)}; front matter needs plain lists and mappings")


def iter_practice_files(root: Path) -> Iterator[Path]:
    """Every `.md` file under `root` (or `root` itself if it is not a folder), in a stable order."""
    if not root.is_dir():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".md") and not name.startswith("."):
                yield Path(dirpath) / name


def check_collection(practices: Iterable[Practice], slug_paths: dict[str, list[str]]) -> list[Problem]:
    """Problems across files: duplicate slugs and `related` links to missing practices."""
    problems = []
    for slug, paths in sorted(slug_paths.items()):
        for other in paths[1:]:
            problems.append(Problem(other, 0, "slug", f"{slug!r} is already used by {paths[0]}; "
                                    "slugs must be unique in the whole tree"))
    for practice in practices:
        line = practice.lines.get("related", 0)
        for target in practice.related:
            if target == practice.slug:
                problems.append(Problem(practice.path, line, "related", "a practice cannot relate to itself"))
            elif target not in slug_paths:
                problems.append(Problem(practice.path, line, "related",
                                        f"{target!r} is not the slug of any practice file"))
    return problems


def load_tree(root: Path) -> tuple[list[Practice], list[Problem]]:
    """Read every file under `root`, translations with their originals; return the valid
    practices and all problems, in file order (stale translations: `kb.translation.stale_warnings`)."""
    from kb.translation import layout, read_unit  # translations build on this module

    paths = {str(path): path for path in iter_practice_files(root)}
    original = root.parent / f"{root.name.split('.')[0]}.md"
    if root.is_file() and root.name.count(".") > 1 and original.is_file():  # a translation alone: with its original
        paths[str(original)] = original
    found = layout(paths)
    practices, problems = [], list(found.problems)
    for shown in found.originals:
        siblings = {lang: (paths[key], key, None) for lang, key in found.siblings.get(shown, {}).items()}
        practice, found_problems = read_unit(paths[shown], shown, None, siblings)
        problems += found_problems
        if practice:
            practices.append(practice)
    collection = check_collection(practices, found.slug_paths)
    bad = {p.path for p in collection}
    return [p for p in practices if p.path not in bad], sorted(problems + collection)
