"""Manifests: every file of a generation with its size and checksum, recorded at each commit.

A generation's files are memory-mapped, and a file cut short under a mapping kills the process
with SIGBUS, not an exception. So sizes are checked before a generation is mapped (and now and
then while it is served), checksums by `kb index --check`; a damaged generation is never mapped,
and the next `kb index` rebuilds it.

    MANIFEST.json   {"toc": <Whoosh TOC generation>, "files": {name: {"size", "sha256"}}}

The manifest describes the TOC generation it names; while an update is between Whoosh's commit
and the new manifest, the old one describes an older TOC and is not used to judge the files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from kb.errors import IndexDamaged

MANIFEST = "MANIFEST.json"
CHUNK = 1 << 20


TOC_RE = re.compile(r"_MAIN_([0-9]+)[.]toc")  # Whoosh's TOC files, one per commit


def toc_generation(gen_dir: Path) -> int:
    """The number of a generation folder's latest Whoosh TOC (-1 if it has none), from the file
    names as `FileIndex.latest_generation` finds it, but without reading the TOC."""
    found = [int(m.group(1)) for m in map(TOC_RE.fullmatch, os.listdir(gen_dir)) if m]
    return max(found, default=-1)


def _recorded(name: str) -> bool:
    """Whether a file belongs in the manifest: not the manifest, temporary files or Whoosh's lock."""
    return name != MANIFEST and not name.startswith(".") and not name.endswith("LOCK")


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(gen_dir: Path) -> None:
    """Record the size and checksum of every file of a generation, atomically. Files already
    recorded with the same size keep their checksum: Whoosh never rewrites a file in place."""
    old = read_manifest(gen_dir, missing_ok=True) or {"files": {}}
    files = {}
    with os.scandir(gen_dir) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.is_file() and _recorded(entry.name):
                size = entry.stat().st_size
                known = old["files"].get(entry.name)
                files[entry.name] = known if known and known["size"] == size else {
                    "size": size, "sha256": sha256_of(Path(entry.path))}
    tmp = gen_dir / f".{MANIFEST}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"toc": toc_generation(gen_dir), "files": files}, handle, indent=0)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, gen_dir / MANIFEST)


def read_manifest(gen_dir: Path, missing_ok: bool = False) -> dict | None:
    """A generation's manifest; None if it has none and `missing_ok`, else `IndexDamaged`."""
    path = gen_dir / MANIFEST
    try:
        data = json.loads(path.read_bytes())
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            raise ValueError("not a manifest")
        return data
    except FileNotFoundError:
        if missing_ok:
            return None
        raise IndexDamaged(f"{path} is missing: the generation was not completely written") from None
    except (OSError, ValueError) as exc:
        raise IndexDamaged(f"{path} cannot be read ({exc})") from None


def sizes_of(manifest: dict) -> dict[str, int]:
    """File name -> recorded size."""
    return {name: entry["size"] for name, entry in manifest["files"].items()}


def check_sizes(gen_dir: Path, sizes: dict[str, int]) -> None:
    """`IndexDamaged` naming the first file of `sizes` that is missing or of another size."""
    for name, size in sizes.items():
        try:
            found = os.stat(gen_dir / name).st_size
        except OSError:
            raise IndexDamaged(f"{gen_dir / name} is missing") from None
        if found != size:
            raise IndexDamaged(f"{gen_dir / name} is {found} bytes; {size} were written")


def verify(gen_dir: Path, checksums: bool = False, missing_ok: bool = True,
           strict: bool = False) -> dict[str, int] | None:
    """Check a generation's files against its manifest (sizes, and checksums if asked); return
    the sizes to re-check while it is served, or None if there is nothing to check against (no
    manifest, or one that an update in progress has not yet replaced). `strict`, for a writer
    holding the lock: a manifest of another TOC is damage (an update died before replacing it)."""
    manifest = read_manifest(gen_dir, missing_ok=missing_ok)
    if manifest is None:
        return None
    try:
        current = toc_generation(gen_dir)
    except Exception as exc:  # a TOC Whoosh cannot even list
        raise IndexDamaged(f"{gen_dir} has no readable table of contents ({exc})") from None
    if manifest.get("toc") != current:
        if current < manifest.get("toc", -1):
            raise IndexDamaged(f"{gen_dir}: the table of contents _MAIN_{manifest.get('toc')}.toc is missing")
        if strict:
            raise IndexDamaged(f"{gen_dir} was changed after its manifest was written (an update did not finish)")
        return None
    sizes = sizes_of(manifest)
    check_sizes(gen_dir, sizes)
    if checksums:
        for name, entry in manifest["files"].items():
            if sha256_of(gen_dir / name) != entry["sha256"]:
                raise IndexDamaged(f"{gen_dir / name} has changed since it was written (checksum differs)")
    return sizes


def discard_unrecorded(gen_dir: Path) -> None:
    """Delete the files of a generation its manifest does not list: what a failed commit left."""
    manifest = read_manifest(gen_dir, missing_ok=True)
    if manifest is None:
        return
    with os.scandir(gen_dir) as entries:
        for entry in entries:
            if entry.is_file() and _recorded(entry.name) and entry.name not in manifest["files"]:
                os.unlink(entry.path)
