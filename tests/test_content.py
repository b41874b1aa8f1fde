"""The real content in practices/: always valid, covering every country, with working links."""

from __future__ import annotations

from collections import Counter

from conftest import ROOT

from kb import vocab
from kb.fields import BLOCK_KEYS, FIELDS, SOURCE_OPTIONAL_KEYS
from kb.practice import load_tree

PRACTICES = ROOT / "practices"


def test_every_practice_file_validates():
    practices, problems = load_tree(PRACTICES)
    assert [str(p) for p in problems] == []
    assert len(practices) >= 89


def test_every_country_in_the_vocabulary_has_a_practice():
    practices, _ = load_tree(PRACTICES)
    covered = {c for p in practices for c in p.countries}
    assert sorted(set(vocab.countries().values()) - covered) == []


def test_every_related_link_points_to_an_existing_practice():
    practices, _ = load_tree(PRACTICES)
    slugs = {p.slug for p in practices}
    assert sorted((p.slug, r) for p in practices for r in p.related if r not in slugs) == []


def test_bodies_in_spanish_portuguese_and_chinese_exist():
    practices, _ = load_tree(PRACTICES)
    languages = Counter(p.language for p in practices)
    assert languages["es"] + languages["pt"] + languages["zh"] >= 8
    assert min(languages["es"], languages["pt"], languages["zh"]) >= 1


def test_the_readme_documents_every_front_matter_field():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [f.name for f in FIELDS if f"`{f.name}`" not in readme]
    assert missing == []


def test_the_readme_documents_every_optional_key_of_a_source():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [k.name for k in SOURCE_OPTIONAL_KEYS if f"| `{k.name}` (in a source) |" not in readme] == []


def test_the_readme_documents_every_key_and_value_of_the_comparable_data_blocks():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    keys = [k.name for keys in BLOCK_KEYS.values() for k in keys]
    values = [t.value for v in (vocab.indicators, vocab.outcomes, vocab.benefits,
                                vocab.conditionalities, vocab.targeting_methods,
                                vocab.periods, vocab.benefit_units) for t in v()]
    assert [name for name in keys + values if f"`{name}`" not in readme] == []
