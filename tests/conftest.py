"""Shared fixtures: practice files written to tmp_path, a real index on disk, the app and a live server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from kb.config import Settings
from kb.engine import open_store, update_index

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CHROMIUM_HELP = ("browser tests left out: no Chromium found. Install Debian's package (apt-get install chromium) "
                 "or set KB_CHROMIUM to a Chromium binary, then run `make test` again.")


def chromium_path() -> str | None:
    """Debian's Chromium (or KB_CHROMIUM), if this machine has it."""
    path = os.environ.get("KB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return path if path and os.path.exists(path) else None


def pytest_collection_modifyitems(config, items):
    """Without Chromium (outside CI, where it is required) leave the browser tests out, to say so once."""
    if chromium_path() is not None or os.environ.get("CI"):
        return
    browser = [item for item in items if item.get_closest_marker("browser")]
    if browser:
        config.hook.pytest_deselected(items=browser)
        items[:] = [item for item in items if not item.get_closest_marker("browser")]
        config.stash[_NO_BROWSER] = len(browser)


def pytest_terminal_summary(terminalreporter, config):
    """Say once, at the end, why the browser tests did not run."""
    left_out = config.stash.get(_NO_BROWSER, 0)
    if left_out:
        terminalreporter.write_line(f"{left_out} {CHROMIUM_HELP}", yellow=True, bold=True)


_NO_BROWSER = pytest.StashKey[int]()

BASE = {
    "title": "Bolsa Família",
    "local_name": "Programa Bolsa Família",
    "countries": ["BRA"],
    "policy_types": ["cash-transfers", "targeting-registries"],
    "summary": "Conditional cash transfer to poor families.",
    "year_start": 2003,
    "year_end": None,
    "status": "ongoing",
    "language": "en",
    "evidence_level": "quasi-experimental",
    "sources": [{"title": "A study", "publisher": "World Bank", "year": 2020, "url": "https://example.org/a"}],
    "last_reviewed": "2026-11-01",
}
BODY = "## Context\n\nFamilies in poverty receive integrated support.\n\n## Results\n\nSchool attendance rose.\n"


def practice_text(body: str = BODY, **fields) -> str:
    """The text of a practice file: BASE with `fields` applied (a value of ... drops the field)."""
    data = {**BASE, **fields}
    data = {k: v for k, v in data.items() if v is not ...}
    front = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n{body}"


def write_practice(folder: Path, slug: str, body: str = BODY, **fields) -> Path:
    """Write one practice file and return its path."""
    path = folder / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(practice_text(body, **fields), encoding="utf-8")
    return path


# A small, varied collection whose facet counts the tests compute independently.
COLLECTION = {
    "bra-bolsa-familia": {"countries": ["BRA"], "policy_types": ["cash-transfers", "targeting-registries"],
                          "year_start": 2003, "language": "pt", "title": "Bolsa Família",
                          "summary": "Transferência de renda condicionada para famílias pobres."},
    "bra-cadastro-unico": {"countries": ["BRA"], "policy_types": ["targeting-registries"], "year_start": 2001,
                           "title": "Cadastro Único", "related": ["bra-bolsa-familia"],
                           "evidence_level": "monitoring"},
    "mex-prospera": {"countries": ["MEX"], "policy_types": ["cash-transfers", "education", "health"],
                     "year_start": 1997, "year_end": 2019, "status": "replaced", "title": "Progresa-Oportunidades-Prospera",
                     "evidence_level": "rct", "language": "es",
                     "summary": "Programa de transferencias condicionadas con corresponsabilidad en educación y salud."},
    "mex-pension-bienestar": {"countries": ["MEX"], "policy_types": ["social-pensions"], "year_start": 2019,
                              "title": "Pensión Bienestar", "evidence_level": ...},
    "chl-chile-solidario": {"countries": ["CHL"], "policy_types": ["economic-inclusion", "cash-transfers"],
                            "year_start": 2002, "year_end": 2017, "status": "replaced", "title": "Chile Solidario"},
    "chn-dibao": {"countries": ["CHN"], "policy_types": ["cash-transfers"], "year_start": 2007,
                  "title": "农村最低生活保障制度", "language": "zh", "summary": "农村低保为贫困家庭提供现金补助。"},
    "chn-relocation": {"countries": ["CHN"], "policy_types": ["relocation", "housing"], "year_start": 2016,
                       "year_end": 2020, "status": "completed", "title": "Poverty Alleviation Relocation",
                       "evidence_level": "monitoring"},
    "chn-celac-forum": {"countries": ["CHN", "BRA", "MEX", "JAM"], "policy_types": ["south-south-cooperation"],
                        "year_start": 2021, "title": "CELAC-China Forum", "evidence_level": "descriptive",
                        "geographic_scale": "multi-country"},
    "jam-path": {"countries": ["JAM"], "policy_types": ["cash-transfers", "targeting-registries"],
                 "year_start": 2001, "title": "PATH", "evidence_level": "quasi-experimental",
                 "translations": {"es": {"title": "PATH (Programa de Avance)", "summary": "Programa de Jamaica.",
                                         "kind": "machine"},
                                  "zh": {"title": "牙买加健康与教育促进计划", "summary": "牙买加的项目。",
                                         "kind": "human", "reviewer": "Li Wei"}}},
}
BODIES = {
    "chn-dibao": "## 背景\n\n农村最低生活保障制度（农村低保）于2007年在全国推开，帮助贫困人口。\n",
    "mex-prospera": "## Contexto\n\nEl programa mejoró la educación y las pensiones de los hogares pobres.\n",
    "bra-bolsa-familia": "## Contexto\n\nO programa integra educação e saúde das famílias.\n",
}


def write_collection(folder: Path) -> dict[str, dict]:
    """Write COLLECTION under `folder` (one file in a sub-folder) and return it."""
    for slug, fields in COLLECTION.items():
        sub = folder / "brazil" if slug.startswith("bra-") else folder
        write_practice(sub, slug, BODIES.get(slug, BODY), **fields)
    return COLLECTION


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Empty practices and index folders under tmp_path."""
    (tmp_path / "practices").mkdir()
    return Settings(tmp_path / "practices", tmp_path / "index")


@pytest.fixture
def built(settings) -> Settings:
    """Settings whose practices folder holds COLLECTION and whose index is built."""
    write_collection(settings.practices_dir)
    report = update_index(settings)
    assert report.problems == []
    return settings


@pytest.fixture
def store(built):
    """An open store on the built index."""
    return open_store(built)


@pytest.fixture
def app(built):
    """The Flask app on the built index."""
    from kb.app import create_app

    return create_app(built, TESTING=True)


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kb_command(settings: Settings, *args: str) -> list[str]:
    """The argv of a `kb` command on these settings, run with this interpreter."""
    return [sys.executable, "-m", "kb", "--practices", str(settings.practices_dir),
            "--index", str(settings.index_dir), *args]


@pytest.fixture
def live_server(built):
    """`kb serve` (gunicorn) running in a subprocess on a free port; yields its base URL."""
    yield from _serve(built)


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def watched_page(context):
    """A new page of `context` that records console errors and uncaught exceptions in `console_errors`."""
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    return page


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright, one per test module (CI requires it)."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium not found; .ci/run installs it")
        pytest.skip("no Chromium on this machine (see the note at the end)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


# ---- comparable programme data (issue 14): a collection carrying design, indicators and evaluations ----

TWO_SOURCES = [{"title": "Official report", "publisher": "Ministry", "year": 2020, "url": "https://example.org/report"},
               {"title": "IFPRI study", "publisher": "IFPRI", "year": 2004, "url": "https://example.org/eval"}]
PROGRAMMES = {
    "bra-bolsa-familia": {
        "countries": ["BRA"], "policy_types": ["cash-transfers"], "title": "Bolsa Família", "year_start": 2003,
        "geographic_scale": "national", "evidence_level": "quasi-experimental", "sources": TWO_SOURCES,
        "design": {"target_group": "Poor families with children", "benefits": ["cash", "services"],
                   "conditionality": "conditional", "targeting": ["means-test", "geographic"]},
        "indicators": [
            {"indicator": "coverage-households", "value": 6500000, "year": 2004, "source": 1},
            {"indicator": "coverage-households", "value": 14100000, "year": 2019, "source": 1},
            {"indicator": "expenditure-gdp-pct", "value": 0.44, "year": 2019, "source": 1},
            {"indicator": "benefit-amount", "value": 600, "currency": "BRL", "period": "month", "unit": "household",
             "year": 2023, "source": 1, "note": "minimum per family"}],
        "evaluations": [{"design": "quasi-experimental", "outcome": "school-enrolment",
                         "effect": "+4.4 percentage points", "year": 2010, "source": 2, "note": "children 6-15"}]},
    "mex-prospera": {
        "countries": ["MEX"], "policy_types": ["cash-transfers", "education", "health"], "title": "Prospera",
        "year_start": 1997, "geographic_scale": "national", "evidence_level": "rct", "sources": TWO_SOURCES,
        "design": {"benefits": ["cash"], "conditionality": "conditional", "targeting": ["proxy-means-test", "geographic"]},
        "indicators": [
            {"indicator": "coverage-households", "value": 2600000, "year": 2000, "source": 1},
            {"indicator": "coverage-households", "value": 6500000, "year": 2018, "source": 1}],
        "evaluations": [
            {"design": "rct", "outcome": "school-enrolment", "effect": "+8.7% for girls", "year": 2004, "source": 2},
            {"design": "rct", "outcome": "child-health", "effect": "12% less illness", "year": 2004, "source": 2},
            {"design": "quasi-experimental", "outcome": "child-labour", "effect": "no significant effect",
             "year": 2006, "source": 2}]},
    "chn-dibao": {
        "countries": ["CHN"], "policy_types": ["cash-transfers"], "title": "Rural Dibao", "year_start": 2007,
        "geographic_scale": "national", "evidence_level": "monitoring", "sources": TWO_SOURCES,
        "design": {"benefits": ["cash"], "conditionality": "unconditional", "targeting": ["means-test"]},
        "indicators": [
            {"indicator": "coverage-people", "value": 52100000, "year": 2010, "source": 1},
            {"indicator": "coverage-people", "value": 34600000, "year": 2019, "source": 1},
            {"indicator": "expenditure-local-currency", "value": 3000000000, "currency": "CNY", "year": 2007,
             "source": 1, "note": "central allocation"}],
        "evaluations": [{"design": "monitoring", "outcome": "poverty", "effect": "gap narrowed", "year": 2015,
                         "source": 1}]},
    "per-juntos": {
        "countries": ["PER"], "policy_types": ["cash-transfers"], "title": "Juntos", "year_start": 2005,
        "geographic_scale": "national", "evidence_level": "quasi-experimental", "sources": TWO_SOURCES,
        "design": {"benefits": ["cash"], "conditionality": "conditional", "targeting": ["geographic"]},
        "evaluations": [{"design": "quasi-experimental", "outcome": "health-services", "effect": "+10 points",
                         "year": 2012, "source": 2}]},
    "chn-celac-cooperation": {
        "countries": ["CHN", "BRA"], "policy_types": ["south-south-cooperation"], "title": "Cooperation",
        "year_start": 2021, "geographic_scale": "multi-country", "evidence_level": "descriptive"},
    "jam-path": {"countries": ["JAM"], "policy_types": ["cash-transfers"], "title": "PATH", "year_start": 2001,
                 "evidence_level": "quasi-experimental"},  # no blocks: no coded evaluation
}


@pytest.fixture
def programmes(tmp_path) -> Settings:
    """Settings whose practices folder holds PROGRAMMES and whose index is built."""
    settings = Settings(tmp_path / "programmes", tmp_path / "programme-index")
    for slug, fields in PROGRAMMES.items():
        write_practice(settings.practices_dir, slug, **fields)
    report = update_index(settings)
    assert report.problems == []
    return settings


@pytest.fixture
def programme_client(programmes):
    """A Flask test client on the PROGRAMMES index."""
    from kb.app import create_app

    return create_app(programmes, TESTING=True).test_client()


@pytest.fixture
def programme_server(programmes):
    """`kb serve` on the PROGRAMMES index; yields its base URL."""
    yield from _serve(programmes)


def _serve(settings: Settings):
    port = free_port()
    proc = subprocess.Popen(kb_command(settings, "serve", "--port", str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError(proc.stdout.read().decode())
    yield url
    proc.terminate()
    proc.wait(timeout=10)
