"""The `kb` command as contributors and admins use it: output, exit codes, never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import COLLECTION, SHARED, kb_command, practice_text, write_practice

from kb.cli import main


def run(settings, *args, input=None):
    runner = CliRunner()
    return runner.invoke(main, ["--practices", str(settings.practices_dir), "--index", str(settings.index_dir),
                                *args], input=input, catch_exceptions=False)


def test_validate_prints_each_problem_and_a_summary(settings):
    write_practice(settings.practices_dir, "bra-good")
    (settings.practices_dir / "bra-bad.md").write_text(practice_text(countries=["BR"], status="x"))
    result = run(settings, "validate")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{settings.practices_dir}/bra-bad.md:4: countries: 'BR' is not an alpha-3 code; did you mean 'BRA' (Brazil)?",
        f"{settings.practices_dir}/bra-bad.md:12: status: 'x' is unknown; expected one of pilot, ongoing, "
        "scaled-up, completed, replaced, discontinued",
        "Checked 2 file(s): 1 valid, 1 invalid; 2 problem(s) in 1 file(s).",
    ]


def test_validate_json_and_success(settings):
    path = write_practice(settings.practices_dir, "bra-good")
    result = run(settings, "validate", "--json", str(path))
    assert (result.exit_code, json.loads(result.output)) == (0, {"files": 1, "valid": 1, "invalid": 0,
                                                                 "problems": [], "warnings": []})


def test_validate_a_missing_path_is_a_clean_error(settings):
    result = run(settings, "validate", "/no/such/place")
    assert (result.exit_code, result.output) == (1, "Error: no such file or folder: /no/such/place\n")


FOREIGN = Path(__file__).resolve().parent / "corpus" / "foreign"
CORPORA = [pytest.param(FOREIGN, id="tests-corpus"),
           pytest.param(SHARED / "corpora" / "digitalgov-sample", id="shared-digitalgov",
                        marks=pytest.mark.skipif(not (SHARED / "corpora").is_dir(),
                                                 reason="../shared/corpora is not beside this checkout"))]


@pytest.mark.parametrize("corpus", CORPORA)
def test_validating_someone_elses_markdown_reports_every_file_cleanly(corpus):
    result = subprocess.run(kb_command_for_validate(corpus), capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    files = {line.split(":", 1)[0] for line in lines[:-1]}
    assert files == {str(p) for p in corpus.rglob("*.md")}
    assert lines[-1].startswith(f"Checked {len(files)} file(s): 0 valid, {len(files)} invalid;")
    assert all(re.match(r"^[^:]+:\d+: [^:]+: \S", line) for line in lines[:-1])


def test_the_foreign_corpus_gets_the_messages_a_contributor_needs():
    result = subprocess.run(kb_command_for_validate(FOREIGN / "docs"), capture_output=True, text=True, timeout=60)
    shown = {line.replace(str(FOREIGN / "docs") + "/", "") for line in result.stdout.splitlines()}
    assert {
        "no-front-matter.md:1: front matter: missing: the file must start with a '---' line, found '# Just a note'",
        "unterminated.md:1: front matter: opened with '---' on line 1 but never closed by a second '---' line",
        "list-front-matter.md:2: front matter: must be a mapping of 'field: value' lines, found a list",
        "latin1.md:0: file: is not UTF-8 text (byte 14)",
        "programa-social.md:3: countries: 'Brasil' is unknown; expected a countries value "
        "(see `kb vocab countries`); did you mean 'BRA' (Brazil)?",
        "programa-social.md:5: year_start: expected an integer year, found 'dos mil tres'",
        "programa-social.md:6: language: 'español' is unknown; expected one of en, es, pt, zh; did you mean 'es'?",
    } <= shown


def kb_command_for_validate(path):
    import sys

    return [sys.executable, "-m", "kb", "validate", str(path)]


def test_new_scaffolds_a_valid_file_and_refuses_to_overwrite(settings):
    args = ("new", "--title", "Bolsa Verde", "--country", "BRA", "--policy-type", "ecological-compensation")
    first = run(settings, *args)
    path = settings.practices_dir / "bra-bolsa-verde.md"
    assert first.exit_code == 0 and first.output.startswith(f"Created {path}\nNext: fill in")
    assert run(settings, "validate", str(path)).exit_code == 0
    before = path.read_text()
    second = subprocess.run(kb_command(settings, *args), capture_output=True, text=True)
    assert (second.returncode, second.stderr) == (1, f"Error: {path} already exists; nothing written\n")
    assert path.read_text() == before


@pytest.mark.parametrize("args, message", [
    (("--country", "BR", "--policy-type", "cash-transfers"), "country 'BR' is not CHN or a CELAC member; did you mean 'BRA'?"),
    (("--country", "BRA", "--policy-type", "cash transfer"), "policy type 'cash transfer' is unknown; did you mean 'cash-transfers'?"),
])
def test_new_explains_bad_vocabulary(settings, args, message):
    result = subprocess.run(kb_command(settings, "new", "--title", "X", *args), capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (1, f"Error: {message}\n")
    assert list(settings.practices_dir.iterdir()) == []


def test_new_asks_on_a_terminal_and_wants_flags_otherwise(settings):
    result = run(settings, "new")
    assert result.exit_code == 2 and "give --title, --country and --policy-type" in result.output


def test_index_summarises_and_exit_code_says_whether_files_were_skipped(built):
    (built.practices_dir / "broken.md").write_text("no front matter\n")
    result = subprocess.run(kb_command(built, "index"), capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == "broken.md:1: front matter: missing: the file must start with a '---' line, found 'no front matter'\n"
    assert result.stdout.startswith("Updated index gen-") and ": 0 indexed, 0 updated, 0 removed, 9 unchanged, 1 skipped (invalid) in " in result.stdout


def test_search_and_stats(built):
    result = run(built, "search", "relocation", "--country", "CHN")
    assert result.output.splitlines() == [
        "1 practice(s) for 'relocation'",
        "  chn-relocation                                CHN          2016-2020  Poverty Alleviation Relocation"]
    data = json.loads(run(built, "search", "--json", "--policy-type", "relocation").output)
    assert (data["total"], data["hits"][0]["slug"]) == (1, "chn-relocation")
    stats = run(built, "stats").output
    assert stats.startswith(f"{len(COLLECTION)} practices; index generation gen-")
    assert "      3  BRA                        Brazil" in stats


def test_search_without_an_index_is_a_clean_error(settings):
    result = subprocess.run(kb_command(settings, "search", "x"), capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (
        1, f"Error: no index at {settings.index_dir}; run `kb index` to build it\n")


def test_paths_come_from_the_environment_unless_given(settings, monkeypatch, tmp_path):
    from kb.config import ROOT
    from kb.config import settings as make_settings

    monkeypatch.delenv("KB_PRACTICES_DIR", raising=False)
    monkeypatch.delenv("KB_INDEX_DIR", raising=False)
    assert make_settings() == type(settings)(ROOT / "practices", ROOT / "instance" / "index")
    monkeypatch.setenv("KB_PRACTICES_DIR", str(settings.practices_dir))
    monkeypatch.setenv("KB_INDEX_DIR", str(settings.index_dir))
    assert make_settings() == settings
    assert make_settings(tmp_path / "p", tmp_path / "i") == type(settings)(tmp_path / "p", tmp_path / "i")
    write_practice(settings.practices_dir, "bra-env")
    result = CliRunner().invoke(main, ["validate"], catch_exceptions=False)
    assert result.output == "Checked 1 file(s): 1 valid, 0 invalid; all valid.\n"
