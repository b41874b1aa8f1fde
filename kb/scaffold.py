"""`kb new`: a valid practice file, scaffolded for a contributor to fill in."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import frontmatter

from kb import vocab
from kb.errors import ScaffoldError
from kb.practice import SLUG_RE, iter_practice_files, slug_of


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
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-") or "practice"
