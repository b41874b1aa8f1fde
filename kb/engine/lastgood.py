"""Last good versions: practices whose file became invalid, still served as they last were.

As CI keeps the last good build, `kb index` keeps a practice published when a change breaks
its file, and reports the error until it is fixed. Each generation lists those practices:

    LAST_GOOD.json   {relpath: "the first problem of the file's current version"}

A rebuild carries them over from the generation it replaces: each record (the front matter as
it was) and body are read back into a practice, which must validate again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import yaml
from whoosh import index

from kb.fields import FIELDS
from kb.practice import Practice, read_practice

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


def last_good_versions(previous: Path | None, root: Path, rels: set[str]) -> dict[str, tuple[Practice, str]]:
    """The practices of `rels` (files now invalid) as `previous` served them, with the hash of
    the file they were read from; none if there is no previous generation or it is unreadable."""
    if previous is None or not rels:
        return {}
    found = {}
    try:
        with index.open_dir(str(previous)).reader() as reader:
            if not reader.doc_count_all():
                return {}
            paths, shas, records, bodies = (reader.column_reader(n) for n in ("path", "sha", "record", "body"))
            for docnum in reader.all_doc_ids():
                if paths[docnum] in rels:
                    record = json.loads(records[docnum])
                    practice = practice_from_record(record, bodies[docnum].decode(), root / paths[docnum])
                    if practice is not None:
                        found[paths[docnum]] = (practice, shas[docnum])
    except Exception:  # a previous generation that cannot be read keeps nothing: the files are reported
        return {}
    return found


def practice_from_record(record: dict, body: str, path: Path) -> Practice | None:
    """A practice read back from its stored record and body, or None if that no longer validates."""
    front = {}
    for spec in FIELDS:
        value = record.get(spec.name)
        value = value if spec.kind == "sources" else _without_nones(value)  # a source's year may be null
        if value is not None:  # the record lists every field; a file leaves out what it lacks
            front[spec.name] = dt.date.fromisoformat(value) if spec.kind == "date" else value
    text = f"---\n{yaml.safe_dump(front, allow_unicode=True, sort_keys=False)}---\n{body}"
    practice, problems = read_practice(path, path.name, text.encode())
    return practice if not problems else None


def _without_nones(value):
    """A record's value with the keys that hold None left out, at every depth."""
    if isinstance(value, dict):
        return {k: _without_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nones(v) for v in value]
    return value
