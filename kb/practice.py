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

import frontmatter
import yaml

from kb import vocab
from kb.fields import FIELDS
from kb.validation import check_fields

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_FILE_BYTES = 1_000_000
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is about twice as fast


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
        return None, problems  # nothing readable to check further
    slug = slug_of(path)
    if not SLUG_RE.match(slug):
        problems.append(
            Problem(shown, 0, "slug", f"file name {path.name!r} must be lowercase letters, digits "
                    "and hyphens ending in .md, e.g. 'bra-bolsa-familia.md'")
        )
    values, field_problems = check_fields(doc.data, doc.lines)
    problems += [Problem(shown, line, name, msg) for line, name, msg in field_problems]
    if not doc.body.strip():
        problems.append(Problem(shown, doc.body_line, "body", "is empty; expected the case study in Markdown"))
    if problems:
        return None, problems
    return Practice(slug=slug, path=shown, body=doc.body, lines=doc.lines, **values), []


def read_document(path: Path, shown: str, raw: bytes | None = None) -> tuple[Document | None, list[Problem]]:
    """Read (unless its bytes are given) and split any practice or translation file."""
    try:
        raw = path.read_bytes() if raw is None else raw
    except OSError as exc:
        return None, [Problem(shown, 0, "file", f"cannot be read: {exc.strerror or exc}")]
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
    try:  # one parse gives both the node tree (for lines and duplicate keys) and the data
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark else first_line
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [Problem(shown, line, "front matter", f"is not valid YAML: {reason}")]
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. an impossible date like 2021-02-30
        return None, [Problem(shown, first_line, "front matter", f"has a value YAML cannot read: {exc}")]
    finally:
        loader.dispose()
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        found = "nothing" if data is None else f"a {type(data).__name__}"
        return None, [Problem(shown, first_line, "front matter",
                              f"must be a mapping of 'field: value' lines, found {found}")]
    lines, problems = {}, []
    for key_node, _ in node.value:
        key, line = key_node.value, first_line + key_node.start_mark.line
        if key in lines:
            problems.append(Problem(shown, line, str(key),
                                    f"appears twice (first on line {lines[key]}); keep one"))
        lines.setdefault(key, line)
    return Document(shown, data, lines, body, body_line), problems  # YAML kept the last value


def iter_practice_files(root: Path) -> Iterator[Path]:
    """Every `.md` file under `root` (or `root` itself if it is a file), in a stable order."""
    if root.is_file():
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


def scaffold(title: str, country: str, policy_type: str, today: dt.date) -> str:
    """The text of a new, valid practice file to be filled in by a contributor."""
    post = frontmatter.Post(
        "## Context\n\nWhy the practice was needed.\n\n## Design\n\nWho is targeted, how, what they get.\n\n"
        "## Implementation\n\nAgencies, scale, delivery.\n\n## Results\n\nFigures with their year and source.\n\n"
        "## Lessons\n\nWhat others could adapt, and the limits.\n",
        title=title, countries=[country], policy_types=[policy_type],
        summary=f"TODO: one or two sentences on {title}.", year_start=today.year, year_end=None,
        status="ongoing", language="en",
        sources=[{"title": "TODO: source title", "publisher": "TODO: publisher", "year": today.year,
                  "url": "https://example.org/TODO"}],
        last_reviewed=today,
    )
    return frontmatter.dumps(post, sort_keys=False, allow_unicode=True) + "\n"





def create_practice(root: Path, title: str, country: str, policy_type: str, slug: str | None,
                    today: dt.date) -> Path:
    """Write a scaffolded practice file; refuse bad vocabulary or an existing file."""
    from kb.errors import ScaffoldError

    country = country.strip().upper()
    if country not in vocab.countries():
        guess = vocab.alpha2_to_alpha3().get(country) or vocab.countries().suggest(country)
        raise ScaffoldError(f"country {country!r} is not CHN or a CELAC member"
                            + (f"; did you mean {guess!r}?" if guess else ""))
    if policy_type not in vocab.policy_types():
        guess = vocab.policy_types().suggest(policy_type)
        raise ScaffoldError(f"policy type {policy_type!r} is unknown"
                            + (f"; did you mean {guess!r}?" if guess else ""))
    slug = slug or _slugify(f"{country} {title}")
    if not SLUG_RE.match(slug):
        raise ScaffoldError(f"slug {slug!r} must be lowercase letters, digits and hyphens")
    existing = [p for p in iter_practice_files(root) if slug_of(p) == slug] if root.exists() else []
    if existing:
        raise ScaffoldError(f"{existing[0]} already exists; nothing written")
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{slug}.md"
    with open(path, "x", encoding="utf-8") as handle:  # 'x' refuses to overwrite, even in a race
        handle.write(scaffold(title, country, policy_type, today))
    return path


def _slugify(text: str) -> str:
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-") or "practice"
