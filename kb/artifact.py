"""The index as an immutable artifact: one generation packed with a manifest of checksums.

The admin job builds a generation once (`kb index --rebuild`) and exports it; every replica
imports the same file and serves it read-only. Importing verifies every file's size and SHA-256
before the generation becomes live, so a truncated or altered artifact is refused whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import zlib
from pathlib import Path

from kb.engine.generations import live_generation, switch, writer_lock
from kb.engine.schema import SCHEMA_VERSION
from kb.errors import IndexDamaged, KbError

FORMAT = "kb-index-artifact/1"
MANIFEST = "manifest.json"
GENERATION_RE = re.compile(r"^gen-[A-Za-z0-9.-]{1,80}$")
FILE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")
MAX_FILES = 10_000
MAX_BYTES = 8 * 1024**3  # far above a 10,000-practice index (about 600 MB)


class ArtifactError(KbError):
    """An artifact that cannot be written or imported; the message names the file."""


def export_generation(index_dir: Path, target: Path) -> dict:
    """Pack the live generation and its manifest into `target` (a .tar.gz); return the manifest."""
    with writer_lock(index_dir):  # an incremental update must not commit while the files are read
        gen_dir = live_generation(index_dir)
        if gen_dir is None:
            raise ArtifactError(f"no index at {index_dir} to export; run `kb index --rebuild` first")
        files = sorted(p for p in gen_dir.iterdir() if p.is_file() and not p.name.startswith("."))
        manifest = {"format": FORMAT, "generation": gen_dir.name, "schema_version": SCHEMA_VERSION,
                    "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "files": {p.name: {"size": p.stat().st_size, "sha256": _sha256(p)} for p in files}}
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with tarfile.open(tmp, "w:gz") as tar:
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
                for path in files:
                    tar.add(path, arcname=f"{gen_dir.name}/{path.name}", recursive=False)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ArtifactError(f"cannot write {target}: {exc.strerror or exc}") from None
    return manifest


def import_generation(index_dir: Path, source: Path) -> dict:
    """Verify the artifact `source`, unpack its generation into `index_dir` and make it live."""
    try:
        tar = tarfile.open(source, "r:gz")
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise ArtifactError(f"{source} is not a readable index artifact: {exc}") from None
    with tar, writer_lock(index_dir):
        manifest = _read_manifest(tar, source)
        name = manifest["generation"]
        final = index_dir / name
        staging = index_dir / f".import-{name}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            try:
                _unpack(tar, manifest, staging, source)
            except (tarfile.TarError, EOFError, zlib.error) as exc:
                raise ArtifactError(f"{source} is damaged (truncated or corrupt): {exc}") from None
            if final.exists():  # the same generation again: the verified copy replaces it
                shutil.rmtree(final)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        switch(index_dir, final, _previous(index_dir, final))
    return manifest


def _previous(index_dir: Path, new: Path) -> Path | None:
    """The generation served until now, kept for the requests still reading it (None if damaged)."""
    try:
        live = live_generation(index_dir)
    except IndexDamaged:
        return None  # an import is also how a replica with a damaged index recovers
    return live if live != new else None


def _read_manifest(tar: tarfile.TarFile, source: Path) -> dict:
    try:
        member = tar.getmember(MANIFEST)
        manifest = json.loads(tar.extractfile(member).read(1_000_000))
    except (KeyError, AttributeError, ValueError, tarfile.TarError, OSError, EOFError):
        raise ArtifactError(f"{source}: no readable {MANIFEST}; was it written by `kb index --export`?") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{source}: {MANIFEST} is not a {FORMAT} manifest")
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ArtifactError(f"{source}: built with index schema {manifest.get('schema_version')!r}; this "
                            f"version of kb reads schema {SCHEMA_VERSION!r}: rebuild and export again")
    files = manifest.get("files")
    if not (isinstance(manifest.get("generation"), str) and GENERATION_RE.match(manifest["generation"])
            and isinstance(files, dict) and 0 < len(files) <= MAX_FILES
            and all(isinstance(n, str) and FILE_RE.match(n) and isinstance(f, dict)
                    and isinstance(f.get("size"), int) and isinstance(f.get("sha256"), str) for n, f in files.items())
            and sum(f["size"] for f in files.values()) <= MAX_BYTES):
        raise ArtifactError(f"{source}: {MANIFEST} lists an invalid generation name or file table")
    return manifest


def _unpack(tar: tarfile.TarFile, manifest: dict, staging: Path, source: Path) -> None:
    """Copy every listed file out of the archive, checking names, kinds, sizes and checksums."""
    expected = manifest["files"]
    seen = set()
    prefix = manifest["generation"] + "/"
    for member in tar:
        if member.name == MANIFEST:
            continue
        name = member.name[len(prefix):] if member.name.startswith(prefix) else None
        if name not in expected or not member.isfile() or name in seen:
            raise ArtifactError(f"{source}: unexpected entry {member.name!r} (not in {MANIFEST})")
        if member.size != expected[name]["size"]:
            raise ArtifactError(f"{source}: {member.name} is {member.size} bytes; the manifest says "
                                f"{expected[name]['size']}")
        digest = hashlib.sha256()
        with tar.extractfile(member) as data, open(staging / name, "wb") as out:
            for chunk in iter(lambda: data.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected[name]["sha256"]:
            raise ArtifactError(f"{source}: {member.name} does not match its SHA-256 in the manifest")
        seen.add(name)
    missing = sorted(set(expected) - seen)
    if missing:
        raise ArtifactError(f"{source}: {len(missing)} file(s) of the manifest are missing, e.g. {missing[0]}")


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
