"""The package as a stranger installs it: a wheel built from the sources, installed into a new virtual
environment in an empty folder, indexing and serving with no checkout beside it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, free_port, practice_text

pytestmark = pytest.mark.slow
SOURCES = ("kb", "templates", "setup.py", "setup.cfg", "pyproject.toml", "README.md")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built, with build isolation as pip does it, from a copy of the sources."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy2(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(src)])
    [built] = dist.glob("celac_china_kb-*.whl")
    return built


def run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; fail with its output if it fails."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_wheel_ships_templates_static_files_and_compiled_catalogs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {f"kb/templates/{p.name}" for p in (ROOT / "templates").glob("*.html")}
    templates |= {f"kb/templates/charts/{p.name}" for p in (ROOT / "templates" / "charts").glob("*.svg")}
    static = {f"kb/templates/static/{p.name}" for p in (ROOT / "templates" / "static").iterdir()}
    catalogs = {f"kb/translations/{lang}/LC_MESSAGES/messages.mo" for lang in ("es", "pt", "zh")}
    data = {f"kb/data/{p.name}" for p in (ROOT / "kb" / "data").glob("*.json")}
    assert templates | static | catalogs | data <= names
    assert not {n for n in names if n.startswith(("tests/", "practices/", "bench/"))}


def test_an_installed_wheel_indexes_and_serves_in_an_empty_folder(wheel, tmp_path):
    home = tmp_path / "empty"
    home.mkdir()
    run([sys.executable, "-m", "venv", str(home / "venv")])
    kb = home / "venv" / "bin" / "kb"
    run([str(home / "venv" / "bin" / "pip"), "install", "--quiet", str(wheel)])
    practices = home / "content"
    practices.mkdir()
    (practices / "bra-bolsa-familia.md").write_text(practice_text(), encoding="utf-8")
    (practices / "mex-prospera.md").write_text(practice_text(title="Prospera", countries=["MEX"]), encoding="utf-8")
    paths = ["--practices", str(practices), "--index", str(home / "idx")]
    indexed = run([str(kb), *paths, "index", "--rebuild"], cwd=home)
    assert "2 indexed" in indexed.stdout
    port = free_port()
    server = subprocess.Popen([str(kb), *paths, "serve", "--port", str(port), "--workers", "1"], cwd=home,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz", server)
        spanish = fetch(base + "/?lang=es")
        assert 'lang="es"' in spanish and ">Buscar<" in spanish
        page = fetch(base + "/practices/mex-prospera")
        assert "<h1" in page and "Prospera" in page
        assert fetch(base + "/map.svg").startswith('<?xml version="1.0" encoding="UTF-8"?>')  # a chart template
        assert fetch(base + "/static/style.css").startswith((ROOT / "templates/static/style.css").read_text()[:40])
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert sorted(p.name for p in home.iterdir()) == ["content", "idx", "venv"]


def fetch(url: str) -> str:
    """The text of a page that must answer 200."""
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read().decode()


def wait_for(url: str, server: subprocess.Popen) -> None:
    """Wait until the server answers, or fail with what it printed."""
    deadline = time.time() + 30
    while time.time() < deadline:
        if server.poll() is not None:
            raise AssertionError(server.stdout.read().decode())
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError(server.stdout.read().decode())
