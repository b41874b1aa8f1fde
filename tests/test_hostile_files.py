"""Practice files from an untrusted pull request: each attack ends in one clear problem, fast, and
the next file is read as usual."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BASE, kb_command, practice_text, write_practice

from kb.config import Settings
from kb.engine import update_index
from kb.practice import MAX_PROBLEMS, Problem, load_tree, read_practice

LETTERS = "abcdefghi"


def alias_bomb(target: str) -> str:
    """The 360-byte 'billion laughs': nine anchors, each nine aliases of the one before."""
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    lines += [f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]" for prev, name in zip(LETTERS, LETTERS[1:], strict=False)]
    return "---\n" + "\n".join(lines) + f"\n{target}: *i\n---\nBody.\n"


def hostile_files(folder) -> dict[str, str]:
    """Write every kind of hostile file into `folder`; return name -> the start of its one problem."""
    folder.mkdir(exist_ok=True)
    texts = {
        "bomb-title.md": alias_bomb("title"),
        "bomb-sources.md": alias_bomb("sources"),
        "deep-flow.md": "---\ntitle: " + "[" * 100_000 + "]" * 100_000 + "\n---\nBody.\n",
        "deep-lists.md": "---\ntitle: " + "[" * 1000 + "]" * 1000 + "\n---\nBody.\n",
        "deep-mappings.md": "---\ntitle: " + "{a: " * 5000 + "}" * 5000 + "\n---\nBody.\n",
        "noncharacter.md": practice_text(title="A \ufffe title"),
        "many-fields.md": "---\n" + "".join(f"field{n}: {'v' * 5000}\n" for n in range(180)) + "---\nBody.\n",
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "dev-zero.md").symlink_to("/dev/zero")
    (folder / "passwd.md").symlink_to("/etc/passwd")
    os.mkfifo(folder / "fifo.md")
    with open(folder / "huge.md", "wb") as handle:  # sparse: 4 GB that take no disk
        handle.truncate(4_000_000_000)
    return {
        "bomb-title.md": "3: front matter: uses the alias *a; anchors and aliases are not allowed",
        "bomb-sources.md": "3: front matter: uses the alias *a; anchors and aliases are not allowed",
        "deep-flow.md": "2: front matter: nests lists or mappings more than 8 levels deep",
        "deep-lists.md": "2: front matter: nests lists or mappings more than 8 levels deep",
        "deep-mappings.md": "2: front matter: nests lists or mappings more than 8 levels deep",
        "noncharacter.md": "2: title: contains U+FFFE, a character that XML and feeds cannot carry",
        "many-fields.md": "2: countries: is missing",
        "dev-zero.md": "0: file: is a symbolic link out of its folder (to /dev/zero)",
        "passwd.md": "0: file: is a symbolic link out of its folder (to /etc/passwd)",
        "fifo.md": "0: file: is a named pipe (FIFO), not a regular file",
        "huge.md": "0: file: is 4,000,000,000 bytes; at most 1,000,000 allowed",
    }


def read(tmp_path, text: str, name: str = "bra-bolsa-familia.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_practice(path, name)


@pytest.mark.parametrize("target", ["title", "sources"])
def test_an_alias_bomb_is_refused_at_its_first_alias(tmp_path, target):
    started = time.perf_counter()
    practice, problems = read(tmp_path, alias_bomb(target))
    assert time.perf_counter() - started < 1
    assert (practice, problems) == (None, [Problem(
        "bra-bolsa-familia.md", 3, "front matter",
        "uses the alias *a; anchors and aliases are not allowed in front matter: write each value out")])


def test_a_single_harmless_alias_is_refused_too(tmp_path):
    text = practice_text().replace("title: Bolsa Família", "title: &t Bolsa Família\nlocal_name: *t")
    assert read(tmp_path, text)[1] == [Problem(
        "bra-bolsa-familia.md", 3, "front matter",
        "uses the alias *t; anchors and aliases are not allowed in front matter: write each value out")]


@pytest.mark.parametrize("value", [
    "[" * 100_000 + "]" * 100_000,  # crashed libyaml's composer (SIGSEGV)
    "[" * 1000 + "]" * 1000,  # RecursionError
    "{a: " * 5000 + "}" * 5000,  # RecursionError
    "\n" + "".join(" " * n + "- \n" for n in range(0, 40, 2)) + " " * 40 + "- x",  # block lists
])
def test_deep_nesting_is_refused_before_it_is_built(tmp_path, value):
    started = time.perf_counter()
    practice, problems = read(tmp_path, f"---\ntitle: {value}\n---\nBody.\n")
    assert time.perf_counter() - started < 1
    assert problems[0].field == "front matter"
    assert problems[0].message == "nests lists or mappings more than 8 levels deep; front matter needs three"
    assert (practice, len(problems)) == (None, 1)


def test_nesting_as_deep_as_the_format_needs_is_read(tmp_path):
    sources = [{"title": "A study", "publisher": "World Bank", "year": 2020, "url": "https://example.org/a"}]
    practice, problems = read(tmp_path, practice_text(sources=sources, translations={
        "es": {"title": "Bolsa", "summary": "Transferencias.", "kind": "machine"}}))
    assert problems == []
    assert practice.sources == sources


def test_a_second_yaml_document_in_the_front_matter_is_refused(tmp_path):
    text = practice_text().replace("status: ongoing", "status: ongoing\n--- more: x")
    assert read(tmp_path, text)[1] == [Problem("bra-bolsa-familia.md", 13, "front matter",
                                               "holds more than one YAML document")]


@pytest.mark.parametrize("target, message", [
    ("/dev/zero", "is a symbolic link out of its folder (to /dev/zero); practice files must be regular files "
                  "in the practices folder"),
    ("/etc/passwd", "is a symbolic link out of its folder (to /etc/passwd); practice files must be regular "
                    "files in the practices folder"),
    ("../elsewhere.md", "is a symbolic link out of its folder (to {tmp}/elsewhere.md); practice files must be "
                        "regular files in the practices folder"),
    ("missing.md", "cannot be read: No such file or directory"),
])
def test_a_symbolic_link_out_of_the_folder_is_not_followed(tmp_path, target, message):
    (tmp_path / "elsewhere.md").write_text(practice_text(), encoding="utf-8")
    folder = tmp_path / "practices"
    folder.mkdir()
    (folder / "x.md").symlink_to(target)
    started = time.perf_counter()
    practices, problems = load_tree(folder)
    assert time.perf_counter() - started < 1
    assert (practices, problems) == ([], [Problem(str(folder / "x.md"), 0, "file",
                                                  message.format(tmp=tmp_path))])
    assert "root:" not in str(problems)  # not a line of /etc/passwd


def test_a_symbolic_link_inside_the_folder_is_read(tmp_path):
    write_practice(tmp_path, "bra-bolsa-familia")
    (tmp_path / "bra-bolsa-familia-copy.md").symlink_to("bra-bolsa-familia.md")
    practice, problems = read_practice(tmp_path / "bra-bolsa-familia-copy.md")
    assert problems == []
    assert practice.slug == "bra-bolsa-familia-copy"


@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_files_that_are_not_regular_are_refused_without_opening_them(tmp_path, kind):
    path = tmp_path / "x.md"
    if kind == "fifo":
        os.mkfifo(path)  # opening it for reading would wait for a writer forever
    elif kind == "folder":
        path.mkdir()
    else:
        path = Path("/dev/null")  # `kb validate /dev/null`: a device named on the command line
    expected = {"fifo": "is a named pipe (FIFO), not a regular file", "folder": "is a folder, not a regular file",
                "device": "is a device file, not a regular file"}[kind]
    assert read_practice(path, "x.md") == (None, [Problem("x.md", 0, "file", expected)])


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.md"
    with open(path, "wb") as handle:  # sparse: 4 GB that take no disk and would take the memory
        handle.truncate(4_000_000_000)
    started = time.perf_counter()
    assert read_practice(path, "huge.md") == (None, [Problem(
        "huge.md", 0, "file", "is 4,000,000,000 bytes; at most 1,000,000 allowed")])
    assert time.perf_counter() - started < 1


def test_the_problems_of_one_file_are_few_and_short(tmp_path):
    fields = {f"field{n}": "v" * 5000 for n in range(100)}
    text = practice_text(title=["x" * 10_000] * 40, summary={"k": "y" * 10_000}, status="z" * 10_000,
                         tags=[["nested"]], **fields)
    practice, problems = read(tmp_path, text)
    assert practice is None
    assert len(problems) <= MAX_PROBLEMS + 1
    assert len("\n".join(map(str, problems))) < 4000
    assert max(len(p.message) for p in problems) <= 301
    by_field = {p.field: p.message for p in problems}
    cut = "'{0}...{1}'".format  # a long value is shown by its two ends
    assert by_field["status"] == (f"{cut('z' * 27, 'z' * 28)} is unknown; expected one of pilot, ongoing, "
                                  "scaled-up, completed, replaced, discontinued")
    assert by_field["title"] == f"expected text, found list [{cut('x' * 27, 'x' * 28)}, {cut('x' * 27, 'x' * 28)}, ...]"
    assert by_field["front matter"] == "has 95 more unknown field(s)"


def test_a_field_name_that_would_rewrite_the_terminal_is_shown_escaped(tmp_path):
    text = practice_text().replace("status: ongoing", 'status: ongoing\n"\\e[2J\\u202eevil": 1')
    problems = read(tmp_path, text)[1]
    assert [(p.field, p.message) for p in problems] == [
        ("\\x1b[2J\\u202eevil", "is not a field of the practice format")]


SOURCE = BASE["sources"][0]
TRANSLATION = {"title": "Bolsa", "summary": "Transferencias.", "kind": "machine"}


@pytest.mark.parametrize("fields, field, message", [
    ({"title": "A \ufffe title"}, "title", "contains U+FFFE"),
    ({"title": "A \uffff title"}, "title", "contains U+FFFF"),
    ({"summary": "Bell \x07 rings"}, "summary", "contains U+0007"),
    ({"local_name": "Nul \x00"}, "local_name", "contains U+0000"),
    ({"local_name": "C1 \x9b"}, "local_name", "contains U+009B"),
    ({"local_name": "Plane 1 \U0001fffe"}, "local_name", "contains U+1FFFE"),
    ({"local_name": "Non-character \ufdd0"}, "local_name", "contains U+FDD0"),
    ({"tags": ["fine", "bad \x1b"]}, "tags", "[2]: contains U+001B"),
    ({"sources": [SOURCE, {**SOURCE, "title": "T\ufffe"}]}, "sources", "[2].title: contains U+FFFE"),
    ({"sources": [{**SOURCE, "publisher": "P\x01"}]}, "sources", "[1].publisher: contains U+0001"),
    ({"translations": {"es": {**TRANSLATION, "summary": "S\ufffe"}}}, "translations", "es.summary: contains U+FFFE"),
    ({"translations": {"es": {**TRANSLATION, "reviewer": "R\x08", "kind": "human"}}}, "translations",
     "es.reviewer: contains U+0008"),
    ({"countries": ["BRA\x00"]}, "countries", "[1]: contains U+0000"),
])
def test_characters_xml_cannot_carry_are_refused_in_every_text(tmp_path, fields, field, message):
    practice, problems = read(tmp_path, practice_text(**fields))
    assert [(p.field, p.message) for p in problems] == [
        (field, f"{message}, a character that XML and feeds cannot carry; remove it")]


def test_characters_xml_cannot_carry_are_refused_in_the_body(tmp_path):
    practice, problems = read(tmp_path, practice_text(body="## Context\n\nFine.\n\nNot \ufffe fine.\n"))
    assert problems == [Problem("bra-bolsa-familia.md", 26, "body", "contains U+FFFE, a character that pages "
                                "and feeds cannot carry; remove it")]


def test_kb_validate_on_a_folder_of_hostile_files_is_quick_and_clear(tmp_path):
    folder = tmp_path / "practices"
    expected = hostile_files(folder)
    write_practice(folder, "bra-bolsa-familia")
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "kb", "validate", str(folder)], capture_output=True, text=True,
                         timeout=60)
    assert time.monotonic() - started < 10
    assert (run.returncode, run.stderr) == (1, "")
    lines = run.stdout.splitlines()
    assert lines[-1] == "Checked 12 file(s): 1 valid, 11 invalid; 25 problem(s) in 11 file(s)."
    assert len(run.stdout) < 10_000
    for name, start in expected.items():
        mine = [line for line in lines if line.startswith(f"{folder / name}:")]
        assert mine[0].startswith(f"{folder / name}:{start}")
        assert len(mine) <= (MAX_PROBLEMS + 1 if name == "many-fields.md" else 8)


def test_a_rebuild_skips_hostile_files_and_indexes_the_rest(tmp_path):
    settings = Settings(tmp_path / "practices", tmp_path / "index")
    expected = hostile_files(settings.practices_dir)
    write_practice(settings.practices_dir, "bra-bolsa-familia")
    report = update_index(settings, rebuild=True)
    assert report.indexed == 1
    firsts = {}
    for problem in report.problems:
        firsts.setdefault(problem.path, str(problem))
    assert {path: text.startswith(f"{path}:{expected[path]}") for path, text in firsts.items()} == {
        name: True for name in expected}
    run = subprocess.run(kb_command(settings, "index", "--rebuild"), capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stdout.startswith("Rebuilt index gen-")
    assert "1 indexed" in run.stdout


YAML_SAMPLES = [
    "a: 1\nb: 1.5\nc: true\nd: null\ne: ~\nf: 2021-02-03\ng: '2021'\nh: \"x\\ty\"\ni: 0x1F\nj: .inf\n",
    "list: [a, 'b', \"c\", 1, [x, y], {k: v}]\nblock:\n  - one\n  -  two\n  - k: v\n    k2: [1]\n",
    "folded: >\n  one\n  two\nliteral: |\n  keep\n  lines\nempty:\nq: ''\n",
    "dates: [2026-11-01, 2026-11-01T10:00:00Z]\nbin: !!binary aGVsbG8=\nstr: !!str 12\n",
    "sources:\n- {title: T, publisher: P, year: 2020, url: 'https://example.org/a'}\n",
]


@pytest.mark.parametrize("text", YAML_SAMPLES)
def test_the_reader_loads_front_matter_as_safe_load_does(text):
    import yaml

    from kb.practice import _load

    loader = yaml.CSafeLoader(text)
    try:
        data, keys, _ = _load(loader)
    finally:
        loader.dispose()
    assert data == yaml.safe_load(text)
    assert [key for key, _ in keys] == list(data)


def test_the_practices_folder_loads_as_safe_load_does():
    import yaml

    from kb.practice import _load

    folder = Path(__file__).resolve().parent.parent / "practices"
    for path in sorted(folder.rglob("*.md")):
        front = path.read_text(encoding="utf-8").split("---\n")[1]
        loader = yaml.CSafeLoader(front)
        try:
            assert _load(loader)[0] == yaml.safe_load(front), path.name
        finally:
            loader.dispose()


@pytest.mark.parametrize("extra, line, message", [
    ("? [a, b]\n: x", 13, "uses a list or mapping as a key; keys are field names"),
    ("tags: !!set {a, b}", 13, "uses the tag tag:yaml.org,2002:set; front matter needs plain lists and mappings"),
    ("tags: !custom [a]", 13, "uses the tag !custom; front matter needs plain lists and mappings"),
    ("tags: !custom a", 13, "is not valid YAML: could not determine a constructor for the tag '!custom'"),
])
def test_front_matter_that_is_not_plain_data_is_refused(tmp_path, extra, line, message):
    text = practice_text().replace("status: ongoing", f"status: ongoing\n{extra}")
    assert read(tmp_path, text)[1] == [Problem("bra-bolsa-familia.md", line, "front matter", message)]


def test_a_merge_key_and_a_number_key_are_unknown_fields_on_their_lines(tmp_path):
    text = practice_text().replace("status: ongoing", "status: ongoing\n<<: {a: 1}\n2021: x")
    assert [(p.line, p.field, p.message) for p in read(tmp_path, text)[1]] == [
        (13, "<<", "is not a field of the practice format"),
        (14, "2021", "is not a field of the practice format")]


def test_a_field_given_twice_is_named_with_both_lines(tmp_path):
    text = practice_text().replace("status: ongoing", "status: ongoing\nstatus: pilot")
    assert read(tmp_path, text)[1] == [Problem("bra-bolsa-familia.md", 13, "status",
                                               "appears twice (first on line 12); keep one")]
