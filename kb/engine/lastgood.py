"""Last good versions: practices whose file became invalid, still served as they last were.

As CI keeps the last good build, `kb index` keeps a practice published when a change breaks
its file, and reports the error until it is fixed. Each generation lists those practices:

    LAST_GOOD.json   {relpath: "the first problem of the file's current version"}
"""

from __future__ import annotations

import json
import os
from pathlib import Path

LAST_GOOD = "LAST_GOOD.json"


def read_last_good(gen_dir: Path) -> dict[str, str]:
    """The practices of a generation served from a last good version, with why."""
    try:
        data = json.loads((gen_dir / LAST_GOOD).read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_last_good(gen_dir: Path, kept: dict[str, str]) -> None:
    """Record the practices served from a last good version (atomically)."""
    tmp = gen_dir / f".{LAST_GOOD}.{os.getpid()}"
    tmp.write_text(json.dumps(kept, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, gen_dir / LAST_GOOD)
