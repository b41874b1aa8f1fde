"""Damage and mistakes on the admin's side: the site answers clearly, `kb index` repairs.

A generation's files are memory-mapped: one cut short under a mapping would kill the server
with SIGBUS. Each generation records its files' sizes and checksums (MANIFEST.json); a damaged
one is never mapped (503), `kb index` reports and rebuilds it; every failure of `kb` is one
`Error:` line naming the path.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import COLLECTION, kb_command, write_practice

from kb.engine import live_generation, open_store, update_index
from kb.errors import IndexDamaged, KbError
from kb.search import SearchRequest, run_search

DAMAGED = {"error": {"status": 503, "message": "The search index is damaged. An administrator must run "
                                               "`kb index`, which rebuilds it."}}


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def index_file(settings, suffix: str) -> Path:
    """The live generation's file whose name ends with `suffix`."""
    return next(p for p in live_generation(settings.index_dir).iterdir() if p.name.endswith(suffix))


def cut_in_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def total(settings) -> int:
    return run_search(open_store(settings), SearchRequest.build("families", {})).total


@pytest.mark.parametrize("suffix", [".pst", ".trm", ".record.col"])
def test_a_file_cut_in_half_is_never_mapped_the_site_answers_503_and_kb_index_rebuilds(
        built, live_server, suffix):
    assert get(live_server + "/api/search?q=families")[0] == 200
    cut_in_half(index_file(built, suffix))
    time.sleep(0.1)  # the running server re-checks its files' sizes every 50 ms
    for path in ("/api/search?q=families", "/api/search?q=", "/healthz"):
        status, body = get(live_server + path)
        assert (status, json.loads(body)) == (503, DAMAGED), path
    status, page = get(live_server + "/search?q=families")
    assert status == 503 and b"The search index is damaged." in page
    with pytest.raises(IndexDamaged, match=f"{suffix.replace('.', '[.]')} is [0-9]+ bytes; [0-9]+ were written"):
        open_store(built).snapshot()  # a server started now does not map it either
    result = subprocess.run(kb_command(built, "index"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("Note: the live index was damaged (") and "; rebuilt it" in result.stderr
    assert result.stdout.startswith("Rebuilt index gen-") and f"{len(COLLECTION)} indexed" in result.stdout
    assert get(live_server + "/api/search?q=families")[0] == 200  # the same server, never killed


def test_kb_index_check_finds_a_changed_byte_that_sizes_cannot_see(built):
    path = index_file(built, ".trm")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    plain = update_index(built)  # sizes agree: an ordinary run does not read every byte
    assert (plain.rebuilt, plain.notes) == (False, [])
    checked = subprocess.run(kb_command(built, "index", "--check"), capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert f"{path.name} has changed since it was written (checksum differs)); rebuilt it" in checked.stderr
    assert total(built) == len(COLLECTION)


@pytest.mark.parametrize("damage", ["current-not-utf8", "current-names-nothing", "toc-emptied", "manifest-gone"])
def test_rebuild_and_index_recover_from_any_damage_to_the_live_generation(built, damage):
    gen_dir = live_generation(built.index_dir)
    if damage == "current-not-utf8":
        (built.index_dir / "CURRENT").write_bytes(b"\xff\xfegen-\x00\n")
    elif damage == "current-names-nothing":
        (built.index_dir / "CURRENT").write_text("gen-20990101T000000-000000001\n")
    elif damage == "toc-emptied":
        next(gen_dir.glob("_MAIN_*.toc")).write_bytes(b"")
    else:
        (gen_dir / "MANIFEST.json").unlink()
    app = __import__("kb.app", fromlist=["create_app"]).create_app(built, TESTING=True)
    response = app.test_client().get("/api/search?q=families")
    assert (response.status_code, response.get_json()) == (503, DAMAGED) or damage == "manifest-gone"
    for args in (["index", "--rebuild"], ["index"]):
        result = subprocess.run(kb_command(built, *args), capture_output=True, text=True)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (args, result.stderr)
        assert result.stdout.startswith("Rebuilt index gen-") or args == ["index"], result.stdout
    assert total(built) == len(COLLECTION)
    assert app.test_client().get("/api/search?q=families").status_code == 200


def processes_whose_parent_is(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_kill_9_of_a_parallel_rebuild_ends_its_workers_and_kb_index_removes_what_it_left(built):
    for n in range(450):  # from 400 files a rebuild starts one worker process per core
        write_practice(built.practices_dir / "bulk", f"bulk-{n:03d}", title=f"Bulk {n}")
    proc = subprocess.Popen(kb_command(built, "index", "--rebuild"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while not (workers := processes_whose_parent_is(proc.pid)) and time.time() < deadline:
        time.sleep(0.02)
    assert workers, "the rebuild started no worker process"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    output = []
    reader = threading.Thread(target=lambda: output.append(proc.stdout.read()), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "the workers still hold the killed command's output open"
    deadline = time.time() + 5
    while any(map(alive, workers)) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(map(alive, workers))
    report = update_index(built)
    live = live_generation(built.index_dir)
    assert all((folder / "MANIFEST.json").exists() for folder in built.index_dir.glob("gen-*"))
    assert live.name in {p.name for p in built.index_dir.glob("gen-*")}
    assert all("unfinished generation" in note for note in report.notes)
    assert run_search(open_store(built), SearchRequest.build("", {})).total == len(COLLECTION) + 450


def snapshot_of(folder: Path) -> dict[str, int]:
    """Every file under `folder` with its size."""
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


class FullDisk:
    """Writes through Whoosh's files fail with ENOSPC after `room` bytes, as on a full disk."""

    def __init__(self, monkeypatch, room: int):
        from whoosh.filedb.structfile import StructFile

        self.room, original = room, StructFile.write

        def write(structfile, data):
            self.room -= len(data)
            if self.room < 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as write(2) does: no file name
            return original(structfile, data)

        monkeypatch.setattr(StructFile, "write", write)


@pytest.mark.parametrize("rebuild", [True, False])
def test_a_full_disk_is_one_clear_error_and_leaves_the_live_index_as_it_was(built, monkeypatch, rebuild):
    write_practice(built.practices_dir, "per-juntos", countries=["PER"], title="Juntos families")
    before = snapshot_of(built.index_dir)
    FullDisk(monkeypatch, room=20_000)
    with pytest.raises(KbError) as caught:
        update_index(built, rebuild=rebuild)
    message = str(caught.value)
    assert message.startswith(f"cannot write the index at {built.index_dir}") and "\n" not in message
    assert message.endswith(": No space left on device; the live index is unchanged")
    monkeypatch.undo()
    assert snapshot_of(built.index_dir) == before  # nothing left behind
    assert total(built) == len(COLLECTION)


def run_kb_with(settings, setup: str, *args: str) -> subprocess.CompletedProcess:
    """`kb` in a subprocess after `setup` (Python) has broken something."""
    code = textwrap.dedent(setup) + textwrap.dedent(f"""
        import sys
        from kb.cli import run
        sys.argv = ["kb", "--practices", {str(settings.practices_dir)!r}, "--index", {str(settings.index_dir)!r},
                    *{list(args)!r}]
        run()
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


@pytest.mark.parametrize("setup, expected", [
    ("""
     import errno, os, pathlib
     mkdir = pathlib.Path.mkdir
     def refuse(self, *args, **kwargs):  # a folder that exists may be "made" again; no new one
         if not self.exists():
             raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
         return mkdir(self, *args, **kwargs)
     pathlib.Path.mkdir = refuse
     """, "Error: cannot write the index at {index}/gen-"),
    ("""
     import errno, os
     from whoosh.filedb.structfile import StructFile
     def full(self, data):
         raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
     StructFile.write = full
     """, "Error: cannot write the index at {index}: No space left on device; the live index is unchanged"),
])
def test_a_read_only_or_full_index_folder_is_one_error_line(built, setup, expected):
    before = snapshot_of(built.index_dir)
    result = run_kb_with(built, setup, "index", "--rebuild")
    assert result.returncode == 1 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(expected.format(index=built.index_dir)), result.stderr
    assert snapshot_of(built.index_dir) == before


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 1 MB tmpfs (a disk that fills up), where the system lets this user mount one."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                      capture_output=True).returncode:
        pytest.skip("mounting a tmpfs is not permitted here; the injected ENOSPC tests cover this")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_really_full_disk_is_one_error_line_and_leaves_the_live_index_as_it_was(settings, small_tmpfs):
    from conftest import write_collection

    write_collection(settings.practices_dir)
    settings = type(settings)(settings.practices_dir, small_tmpfs / "index")
    update_index(settings)
    before = snapshot_of(settings.index_dir)
    for n in range(60):
        write_practice(settings.practices_dir / "more", f"more-{n:02d}", body="## Context\n\n" + "words " * 3000)
    result = subprocess.run(kb_command(settings, "index", "--rebuild"), capture_output=True, text=True)
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"Error: cannot write the index at {settings.index_dir}")
    assert "No space left on device" in result.stderr
    assert snapshot_of(settings.index_dir) == before
    assert total(settings) == len(COLLECTION)
