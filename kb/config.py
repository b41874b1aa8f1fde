"""Where things live: defaults computed from the checkout, overridable by environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
# In a checkout the templates sit at the top of the repository; a wheel ships them as kb/templates.
TEMPLATES_DIR = PACKAGE / "templates" if (PACKAGE / "templates").is_dir() else ROOT / "templates"
STATIC_DIR = TEMPLATES_DIR / "static"
REPO_EDIT_URL = "https://github.com/celac-china-kb/knowledge-base/edit/main/"


@dataclass(frozen=True)
class Settings:
    """Paths of the practices folder and the index."""

    practices_dir: Path
    index_dir: Path


def settings(practices: str | os.PathLike | None = None, index: str | os.PathLike | None = None) -> Settings:
    """Settings from explicit values, else `KB_PRACTICES_DIR`/`KB_INDEX_DIR`, else the checkout
    (or, for an installed package, the current folder)."""
    home = ROOT if (ROOT / "practices").is_dir() else Path.cwd()
    practices_dir = practices or os.environ.get("KB_PRACTICES_DIR") or home / "practices"
    index_dir = index or os.environ.get("KB_INDEX_DIR") or home / "instance" / "index"
    return Settings(Path(practices_dir).resolve(), Path(index_dir).resolve())
