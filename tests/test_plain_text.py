"""The plain text of real case studies (for the index and the snippets): no space before punctuation,
headings that do not run into the text after them, and snippets built from it."""

from __future__ import annotations

import re

import frontmatter
from conftest import ROOT

from kb.engine.highlight import snippet
from kb.render import plain_text

PRACTICES = ROOT / "practices"


def body(slug: str) -> str:
    return frontmatter.load(PRACTICES / f"{slug}.md").content


def test_bold_words_before_punctuation_leave_no_space_on_real_markdown():
    text = plain_text(body("bra-brasil-sem-miseria"))
    assert "Chronic poverty, measured with a World Bank method, fell from 8.35% in 2002" in text
    assert "Access to food, with 14 sub-programmes." in plain_text(body("bra-fome-zero"))


def test_no_case_study_has_a_space_before_a_comma_or_full_stop_or_markup_left():
    found = {}
    for path in sorted(PRACTICES.glob("*.md")):
        text = plain_text(frontmatter.load(path).content)
        bad = re.findall(r"\S{0,12} [,.;:)](?!\d)\S{0,12}|\*\*|__|\|", text)
        if bad:
            found[path.name] = bad[:3]
    assert found == {}


def test_headings_end_with_a_full_stop_on_real_markdown():
    markdown = body("bra-fome-zero")
    headings = re.findall(r"^#{2,6}\s+(.+?)\s*$", markdown, re.M)
    text = plain_text(markdown)
    assert headings and [h for h in headings if f"{h.rstrip('.')}. " not in text and not h.endswith(("?", ":"))] == []
    chinese = plain_text(body("chn-dibao"))
    assert re.findall(r"^#{2,6}\s+(.+?)\s*$", body("chn-dibao"), re.M)[0] + "。" in chinese


def test_a_snippet_of_a_real_body_reads_as_text():
    text = plain_text(body("bra-brasil-sem-miseria"))
    html = snippet(text, "en", frozenset({"chronic"}))
    assert "<mark>Chronic</mark> poverty, measured" in html
