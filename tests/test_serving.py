"""Serving as a deployment does: compression, validators and caching, worker processes, artifacts and
read-only replicas, each against a real `kb serve` (gunicorn) on localhost."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import brotli
import pytest
from conftest import free_port, kb_command

from kb.config import Settings


def get(url: str, **headers) -> tuple[int, dict, bytes]:
    """Status, headers (lower-case names) and raw body bytes of one GET."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def decoded(headers: dict, body: bytes) -> bytes:
    """The body with its content coding undone."""
    coding = headers.get("content-encoding")
    return gzip.decompress(body) if coding == "gzip" else brotli.decompress(body) if coding == "br" else body


@pytest.mark.parametrize("path", ["/", "/search?q=cash", "/map", "/api/search?q=pension", "/gaps"])
def test_pages_are_compressed_for_gzip_and_brotli_and_say_so(live_server, path):
    _, _, plain = get(live_server + path, **{"Accept-Encoding": "identity"})
    for coding in ("gzip", "br"):
        status, headers, body = get(live_server + path, **{"Accept-Encoding": coding})
        assert (status, headers["content-encoding"], decoded(headers, body)) == (200, coding, plain)
        assert len(body) < len(plain) / 2
        assert "Accept-Encoding" in headers["vary"]


def test_a_tiny_answer_is_not_compressed(live_server):
    status, headers, body = get(live_server + "/healthz", **{"Accept-Encoding": "gzip"})
    assert (status, headers.get("content-encoding"), json.loads(body)["status"]) == (200, None, "ok")


def test_a_page_revalidates_with_its_etag_and_gets_304_without_a_body(live_server):
    url = live_server + "/search?q=pension&lang=es"
    status, headers, body = get(url, **{"Accept-Encoding": "gzip"})
    assert (status, headers["cache-control"]) == (200, "no-cache")
    again = get(url, **{"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})
    assert (again[0], again[2], again[1]["etag"].split(":")[0]) == (304, b"", headers["etag"].split(":")[0])
    # the same tag from an uncompressed copy matches too: the content is the same
    plain_tag = get(url)[1]["etag"]
    assert get(url, **{"If-None-Match": plain_tag})[0] == 304


def test_etags_differ_by_url_and_language(live_server):
    tags = {get(live_server + path)[1]["etag"] for path in ("/search?q=pension", "/search?q=pension&lang=zh",
                                                              "/search?q=cash", "/map")}
    assert len(tags) == 4


def test_a_new_index_generation_changes_every_etag(built, live_server):
    url = live_server + "/search?q=pension"
    before = get(url)[1]["etag"]
    subprocess.run(kb_command(built, "index", "--rebuild"), check=True, capture_output=True)
    status, headers, _ = get(url, **{"If-None-Match": before})
    assert status == 200 and headers["etag"] != before


def test_static_files_have_content_hashed_urls_cached_for_a_year(live_server):
    _, _, page = get(live_server + "/")
    urls = re.findall(r'(/static/[a-z.]+)\?v=([0-9a-f]{12})"', page.decode())
    assert {u for u, _ in urls} == {"/static/style.css", "/static/app.js", "/static/favicon.svg"}
    for url, version in urls:
        status, headers, body = get(f"{live_server}{url}?v={version}")
        file = Path(__file__).resolve().parent.parent / "templates" / url.lstrip("/")
        assert (status, hashlib.sha256(body).hexdigest()[:12]) == (200, version)
        assert body == file.read_bytes()
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
    # without the right hash the file is served but must be revalidated
    assert get(f"{live_server}/static/style.css?v=0000")[1]["cache-control"] == "no-cache"


def serve(settings: Settings, *args: str, **env: str) -> tuple[subprocess.Popen, str]:
    """Start `kb serve ARGS` on a free port (with more environment variables) and wait for /healthz."""
    port = free_port()
    proc = subprocess.Popen(kb_command(settings, "serve", "--port", str(port), *args),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read().decode())
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.stdout.read().decode())


def stop(proc: subprocess.Popen) -> str:
    """Stop a server gracefully and return what it printed."""
    proc.terminate()
    out, _ = proc.communicate(timeout=20)
    return out.decode()


def worker_pids(master: int) -> set[int]:
    """The child processes of `master`."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def test_serve_runs_the_requested_worker_processes_on_one_port(built):
    proc, url = serve(built, "--workers", "3", "--threads", "2")
    try:
        deadline = time.time() + 15  # gunicorn forks its workers one after another
        while len(worker_pids(proc.pid)) < 3 and time.time() < deadline:
            time.sleep(0.1)
        assert len(worker_pids(proc.pid)) == 3
        statuses = {get(url + f"/search?q=pension+{word}")[0] for word in ("cash", "school", "rural") * 10}
        assert statuses == {200}
    finally:
        assert "Traceback" not in stop(proc)


def test_every_worker_follows_an_index_switch(built):
    proc, url = serve(built, "--workers", "2")
    try:
        before = {json.loads(get(url + "/healthz")[2])["generation"] for _ in range(20)}
        subprocess.run(kb_command(built, "index", "--rebuild"), check=True, capture_output=True)
        after = {json.loads(get(url + "/healthz")[2])["generation"] for _ in range(20)}
        assert len(before) == 1 and len(after) == 1 and before != after
    finally:
        stop(proc)


def tree(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file below `folder`: size, modification time and SHA-256."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns,
                                         hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_then_import_moves_a_verified_generation(built, tmp_path):
    artifact = tmp_path / "index.tar.gz"
    out = subprocess.run(kb_command(built, "index", "--export", str(artifact)), capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("Exported generation gen-")
    with tarfile.open(artifact) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        names = {m.name for m in tar.getmembers()} - {"manifest.json"}
    live = (built.index_dir / "CURRENT").read_text().strip()
    assert manifest["generation"] == live
    assert names == {f"{live}/{name}" for name in manifest["files"]}
    for name, entry in manifest["files"].items():
        data = (built.index_dir / live / name).read_bytes()
        assert (entry["size"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())

    replica = Settings(built.practices_dir, tmp_path / "replica")
    out = subprocess.run(kb_command(replica, "index", "--import", str(artifact)), capture_output=True, text=True)
    assert (out.returncode, out.stderr) == (0, "")
    assert (replica.index_dir / "CURRENT").read_text().strip() == live
    assert {n: v[2] for n, v in tree(replica.index_dir / live).items()} == \
        {n: e["sha256"] for n, e in manifest["files"].items()}


@pytest.mark.parametrize("damage", ["truncated", "altered", "extra-entry", "not-an-archive"])
def test_a_damaged_artifact_is_refused_whole_and_the_live_index_stays(built, tmp_path, damage):
    artifact = tmp_path / "index.tar.gz"
    subprocess.run(kb_command(built, "index", "--export", str(artifact)), check=True, capture_output=True)
    replica = Settings(built.practices_dir, tmp_path / "replica")
    subprocess.run(kb_command(replica, "index", "--import", str(artifact)), check=True, capture_output=True)
    before = tree(replica.index_dir)
    bad = tmp_path / "bad.tar.gz"
    if damage == "truncated":
        bad.write_bytes(artifact.read_bytes()[: artifact.stat().st_size // 2])
    elif damage == "not-an-archive":
        bad.write_text("hello")
    else:
        _rewrite(artifact, bad, damage)
    out = subprocess.run(kb_command(replica, "index", "--import", str(bad)), capture_output=True, text=True)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith(f"Error: {bad}") and out.stderr.count("\n") == 1
    assert "Traceback" not in out.stderr
    assert without_lock(tree(replica.index_dir)) == without_lock(before)


def without_lock(files: dict) -> dict:
    """A tree without the writer's lock file, which names the last writer."""
    return {name: data for name, data in files.items() if name != ".lock"}


def _rewrite(source: Path, target: Path, damage: str) -> None:
    with tarfile.open(source) as tar, tarfile.open(target, "w:gz") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()
            if damage == "altered" and member.name.endswith(".col"):
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            out.addfile(member, __import__("io").BytesIO(data))
        if damage == "extra-entry":
            info = tarfile.TarInfo("../../escape.txt")
            info.size = 2
            out.addfile(info, __import__("io").BytesIO(b"hi"))


def test_two_read_only_replicas_of_one_artifact_answer_identically_and_write_nothing(built, tmp_path):
    artifact = tmp_path / "index.tar.gz"
    subprocess.run(kb_command(built, "index", "--export", str(artifact)), check=True, capture_output=True)
    replicas = []
    for name in ("a", "b"):
        settings = Settings(tmp_path / "no-practices-here", tmp_path / name)
        subprocess.run(kb_command(settings, "index", "--import", str(artifact)), check=True, capture_output=True)
        replicas.append(settings)
    before = [tree(s.index_dir) for s in replicas]
    # behind one load balancer: one public address, the one every absolute link carries
    public = {"KB_BASE_URL": "https://kb.example.org", "KB_ALLOWED_HOSTS": "kb.example.org,127.0.0.1"}
    servers = [serve(s, "--read-only", "--workers", "2", **public) for s in replicas]
    try:
        paths = ["/api/search?q=pension", "/api/search?q=transferencia&country=BRA", "/api/practices/jam-path",
                 "/api/facets", "/api/export.json?q=cash", "/api/export.csv?country=JAM", "/feed.atom"]
        answers = [[get(url + p)[::2] for p in paths] for _, url in servers]
        assert answers[0] == answers[1]
        assert [status for status, _ in answers[0]] == [200] * len(paths)
        assert b"https://kb.example.org/practices/" in answers[0][-1][1]
        health = [json.loads(get(url + "/healthz")[2]) for _, url in servers]
        assert [h["generation"] for h in health] == [health[0]["generation"]] * 2
        assert [h["read_only"] for h in health] == [True, True]
        pages = [get(url + "/search?q=pension")[2] for _, url in servers]
        assert pages[0] == pages[1]
    finally:
        for proc, _ in servers:
            stop(proc)
    assert [tree(s.index_dir) for s in replicas] == before
    assert not (tmp_path / "no-practices-here").exists()


def test_a_read_only_replica_without_an_index_refuses_to_start(tmp_path):
    settings = Settings(tmp_path / "p", tmp_path / "empty")
    out = subprocess.run(kb_command(settings, "serve", "--read-only"), capture_output=True, text=True, timeout=30)
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == (f"Error: no index at {settings.index_dir}; a read-only replica serves an index built "
                          "elsewhere (`kb index --import FILE`)\n")
    assert not settings.index_dir.exists()


def test_serve_writes_nothing_in_home_or_the_index(built, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    before = tree(built.index_dir)
    port = free_port()
    proc = subprocess.Popen(kb_command(built, "serve", "--read-only", "--port", str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(home)})
    try:
        deadline = time.time() + 30
        while get_or_none(f"http://127.0.0.1:{port}/healthz") is None and time.time() < deadline:
            time.sleep(0.1)
        assert get(f"http://127.0.0.1:{port}/search?q=pension")[0] == 200
    finally:
        stop(proc)
    assert (tree(built.index_dir), list(home.iterdir())) == (before, [])


def get_or_none(url: str):
    """The answer to a GET, or None while nothing listens."""
    try:
        return get(url)
    except OSError:
        return None
