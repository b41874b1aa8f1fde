"""The practice format: what a valid file is, and the exact message for each way a file can be wrong."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import BASE, BODY, practice_text, write_practice

from kb.practice import Problem, load_tree, read_practice


def read(tmp_path, text: str | bytes, name: str = "bra-bolsa-familia.md"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return read_practice(path, name)


def test_a_valid_file_reads_into_a_normalized_practice(tmp_path):
    practice, problems = read(tmp_path, practice_text(tags=["school  attendance"], sdg_targets=["1.3"]))
    assert problems == []
    assert practice.metadata() == {
        "slug": "bra-bolsa-familia", "title": "Bolsa Família", "local_name": "Programa Bolsa Família",
        "countries": ["BRA"], "policy_types": ["cash-transfers", "targeting-registries"],
        "summary": "Conditional cash transfer to poor families.", "year_start": 2003, "year_end": None,
        "status": "ongoing", "language": "en", "geographic_scale": None, "evidence_level": "quasi-experimental",
        "sdg_targets": ["1.3"], "tags": ["school attendance"], "related": [],
        "sources": BASE["sources"], "last_reviewed": "2026-11-01", "translations": {},
        "design": {"target_group": None, "benefits": [], "conditionality": None, "targeting": []},
        "indicators": [], "evaluations": [], "regions": ["south-america"],
    }
    assert practice.body == BODY
    assert practice.decade == "2000s"


@pytest.mark.parametrize("variant", ["crlf", "bom", "block-lists", "date-string", "blank-line-first"])
def test_messy_but_valid_files_are_accepted(tmp_path, variant):
    text = practice_text()
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    elif variant == "bom":
        text = "\ufeff" + text
    elif variant == "block-lists":
        text = text.replace("countries:\n- BRA", "countries: [BRA]")
        assert "countries: [BRA]" in text or "- BRA" in text
    elif variant == "date-string":
        text = text.replace("last_reviewed: '2026-11-01'", "last_reviewed: 2026-11-01")
    elif variant == "blank-line-first":
        text = "\n\n" + text
    practice, problems = read(tmp_path, text)
    assert problems == []
    assert (practice.countries, practice.last_reviewed) == (["BRA"], dt.date(2026, 11, 1))


CASES = [
    ({"title": ...}, "title", "is missing; expected name of the practice."),
    ({"countries": ["BR"]}, "countries", "'BR' is not an alpha-3 code; did you mean 'BRA' (Brazil)?"),
    ({"countries": ["USA"]}, "countries",
     "'USA' is unknown; expected a countries value (see `kb vocab countries`)"),
    ({"countries": "BRA"}, None, None),  # a single string is accepted as a list of one
    ({"policy_types": ["cash transfer"]}, "policy_types",
     "'cash transfer' is unknown; expected a policy_types value (see `kb vocab policy_types`); "
     "did you mean 'cash-transfers'?"),
    ({"summary": "x" * 601}, "summary", "is 601 characters; at most 600 allowed"),
    ({"year_start": "2003"}, "year_start",
     "expected an integer year, found the string '2003'; write it without quotes"),
    ({"year_start": 203}, "year_start", "expected a year between 1900 and 2100, found 203"),
    ({"year_end": 2001}, "year_end", "is 2001, before year_start 2003"),
    ({"status": "active"}, "status",
     "'active' is unknown; expected one of pilot, ongoing, scaled-up, completed, replaced, discontinued"),
    ({"language": "fr"}, "language", "'fr' is unknown; expected one of en, es, pt, zh"),
    ({"evidence_level": "RCT"}, "evidence_level",
     "'RCT' is unknown; expected one of rct, quasi-experimental, mixed-methods, qualitative, monitoring, "
     "descriptive; did you mean 'rct'?"),
    ({"sources": []}, "sources",
     "is missing; expected at least one; each has title, publisher, year (int or null), url, "
     "and optionally authors, doi, container."),
    ({"sources": [{"title": "T", "publisher": "P", "year": 2020, "url": "ftp://x.org"}]}, "sources",
     "source 1: url must start with http:// or https://, found 'ftp://x.org'"),
    ({"sources": [{"title": "T", "year": 2020, "url": "https://x.org"}]}, "sources",
     "source 1: missing publisher (expected title, publisher, year, url, optionally authors, doi, container)"),
    ({"sources": [{"title": "T", "publisher": "P", "year": "2020", "url": "https://x.org"}]}, "sources",
     "source 1: year must be an integer or null, found '2020'"),
    ({"last_reviewed": "last week"}, "last_reviewed", "expected a date as YYYY-MM-DD, found 'last week'"),
    ({"sdg_targets": [1.3]}, "sdg_targets", 'write each target as a quoted string like "1.3", found float 1.3'),
    ({"contry": "BRA"}, "contry", "is not a field of the practice format; did you mean 'countries'?"),
    ({"related": ["Not A Slug"]}, "related", "expected practice slugs like 'mex-prospera', found 'Not A Slug'"),
]


def line_of(text: str, key: str) -> int:
    """The 1-based line on which `key:` is written (the first field's line if it is absent)."""
    lines = text.splitlines()
    return next((i for i, line in enumerate(lines, 1) if line.startswith(f"{key}:")), 2)


@pytest.mark.parametrize("fields, field, message", CASES)
def test_each_rule_names_the_line_field_and_what_was_expected(tmp_path, fields, field, message):
    text = practice_text(**fields)
    practice, problems = read(tmp_path, text)
    line = line_of(text, field or "title")
    if field is None:
        assert problems == [] and practice is not None
    else:
        assert problems == [Problem("bra-bolsa-familia.md", line, field, message)]
        assert practice is None


@pytest.mark.parametrize("text, expected", [
    ("# Just Markdown\n", Problem("x.md", 1, "front matter",
                                   "missing: the file must start with a '---' line, found '# Just Markdown'")),
    ("", Problem("x.md", 1, "front matter", "missing: the file must start with a '---' line, found an empty file")),
    ("---\ntitle: x\n", Problem("x.md", 1, "front matter",
                                "opened with '---' on line 1 but never closed by a second '---' line")),
    ("---\n- a\n- b\n---\nbody\n", Problem("x.md", 2, "front matter",
                                          "must be a mapping of 'field: value' lines, found a list")),
    ("---\n---\nbody\n", Problem("x.md", 2, "front matter",
                                 "must be a mapping of 'field: value' lines, found nothing")),
    ("---\ntitle: a\ncountries: [BRA\n---\nbody\n", Problem("x.md", 4, "front matter",
                                                          "is not valid YAML: did not find expected ',' or ']'")),
    (b"---\ntitle: \xff\n---\n", Problem("x.md", 0, "file", "is not UTF-8 text (byte 11)")),
])
def test_what_the_yaml_library_would_hide_is_reported(tmp_path, text, expected):
    practice, problems = read(tmp_path, text, "x.md")
    assert (practice, problems) == (None, [expected])


def test_a_duplicate_key_is_reported_and_the_rest_still_checked(tmp_path):
    text = practice_text(status="ongoing").replace("status: ongoing\n", "status: ongoing\nstatus: done\n")
    _, problems = read(tmp_path, text, "x.md")
    line = line_of(text, "status")
    assert problems == [
        Problem("x.md", line + 1, "status", f"appears twice (first on line {line}); keep one"),
        Problem("x.md", line, "status", "'done' is unknown; expected one of pilot, ongoing, scaled-up, "
                                        "completed, replaced, discontinued"),
    ]


def test_an_empty_body_and_a_bad_file_name_are_reported(tmp_path):
    _, problems = read(tmp_path, practice_text(body="\n"), "Bolsa Familia.md")
    assert [(p.field, p.message) for p in problems] == [
        ("slug", "file name 'Bolsa Familia.md' must be lowercase letters, digits and hyphens ending in .md, "
                 "e.g. 'bra-bolsa-familia.md'"),
        ("body", "is empty; expected the case study in Markdown"),
    ]


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    _, problems = read(tmp_path, practice_text(countries=["XX"], status="done", year_start="x"))
    assert [p.field for p in problems] == ["countries", "year_start", "status"]


def test_the_tree_is_walked_recursively_and_cross_file_rules_apply(tmp_path):
    write_practice(tmp_path / "a", "bra-one")
    write_practice(tmp_path / "b", "bra-one")
    write_practice(tmp_path, "mex-two", related=["bra-one", "gone-slug"])
    practices, problems = load_tree(tmp_path)
    assert [p.slug for p in practices] == ["bra-one"]
    assert [str(p) for p in problems] == [
        f"{tmp_path}/b/bra-one.md:0: slug: 'bra-one' is already used by {tmp_path}/a/bra-one.md; "
        "slugs must be unique in the whole tree",
        f"{tmp_path}/mex-two.md:21: related: 'gone-slug' is not the slug of any practice file",
    ]
