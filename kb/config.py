"""Where things live and how the site is addressed: defaults computed from the checkout,
overridable by environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from kb.errors import KbError

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
# In a checkout the templates sit at the top of the repository; a wheel ships them as kb/templates.
TEMPLATES_DIR = PACKAGE / "templates" if (PACKAGE / "templates").is_dir() else ROOT / "templates"
STATIC_DIR = TEMPLATES_DIR / "static"
REPO_EDIT_URL = "https://github.com/celac-china-kb/knowledge-base/edit/main/"
LOCAL_HOSTS = ("localhost", "127.0.0.1")
_HOST_RE = re.compile(r"^\.?[a-z0-9.-]+$")  # what werkzeug's trusted-host check can match


class ConfigError(KbError):
    """A setting from the environment that cannot be used."""


@dataclass(frozen=True)
class Settings:
    """Paths of the practices folder and the index, and the site's public address."""

    practices_dir: Path
    index_dir: Path
    base_url: str | None = None  # absolute links start with it; None: each request's own (development)
    allowed_hosts: tuple[str, ...] | None = None  # Host headers answered; None: any (development)


def settings(practices: str | os.PathLike | None = None, index: str | os.PathLike | None = None) -> Settings:
    """Settings from explicit values, else `KB_PRACTICES_DIR`/`KB_INDEX_DIR`/`KB_BASE_URL`/
    `KB_ALLOWED_HOSTS`, else the checkout (or, for an installed package, the current folder)."""
    home = ROOT if (ROOT / "practices").is_dir() else Path.cwd()
    practices_dir = practices or os.environ.get("KB_PRACTICES_DIR") or home / "practices"
    index_dir = index or os.environ.get("KB_INDEX_DIR") or home / "instance" / "index"
    base_url = os.environ.get("KB_BASE_URL", "").strip()
    hosts = os.environ.get("KB_ALLOWED_HOSTS", "").strip()
    return Settings(Path(practices_dir).resolve(), Path(index_dir).resolve(),
                    check_base_url(base_url) if base_url else None, check_hosts(hosts) if hosts else None)


def check_base_url(value: str) -> str:
    """A canonical base URL such as 'https://kb.example.org' (no trailing slash), or `ConfigError`."""
    parts = urlsplit(value)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment
            or parts.username or re.search(r"[\s{}\\\"<>^`|]", value)):
        raise ConfigError(f"KB_BASE_URL must be the site's address like https://kb.example.org, found {value!r}")
    return value.rstrip("/")


def check_hosts(value: str) -> tuple[str, ...]:
    """Host names from a comma-separated list ('.example.org' also allows its sub-domains)."""
    hosts = tuple(h.strip().lower() for h in value.split(",") if h.strip())
    bad = [h for h in hosts if not _HOST_RE.match(h)]
    if bad or not hosts:
        raise ConfigError(f"KB_ALLOWED_HOSTS must be host names separated by commas, found {value!r}")
    return hosts


def for_serving(base: Settings, host: str, port: int, debug: bool = False) -> tuple[Settings, list[str]]:
    """The settings `kb serve` runs with, and notes on the defaults it chose: absolute links from
    KB_BASE_URL (default http://HOST:PORT, 127.0.0.1 for a wildcard HOST; with --debug, each
    request's own), and only the hosts of KB_ALLOWED_HOSTS answered (default localhost, 127.0.0.1
    and the base URL's host)."""
    notes = []
    base_url = base.base_url
    if base_url is None and debug:
        notes.append("Development: absolute links use the address of each request.")
    elif base_url is None:
        shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else f"[{host}]" if ":" in host else host
        base_url = f"http://{shown}:{port}"
        notes.append(f"Absolute links (feeds, citations, exports) use {base_url}; "
                     "set KB_BASE_URL to the site's public address.")
    allowed = base.allowed_hosts
    if allowed is None:
        own = urlsplit(base_url).hostname if base_url else None
        allowed = tuple(dict.fromkeys((*LOCAL_HOSTS, own) if own else LOCAL_HOSTS))
        notes.append(f"Answering requests for {', '.join(allowed)} only; set KB_ALLOWED_HOSTS to change.")
    return replace(base, base_url=base_url, allowed_hosts=allowed), notes
