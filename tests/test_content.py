"""The real content in practices/: always valid, covering every country, with working links."""

from __future__ import annotations

import re
from collections import Counter

from conftest import ROOT

from kb import vocab
from kb.fields import BLOCK_KEYS, FIELDS, SOURCE_OPTIONAL_KEYS
from kb.practice import load_tree
from kb.translation import coverage, stale_warnings

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


def own_practices_by_country(practices) -> Counter:
    """Practices of a single country (multi-country cooperation projects left out), by country."""
    return Counter(p.countries[0] for p in practices
                   if len(p.countries) == 1 and p.geographic_scale != "multi-country")


def test_every_country_has_at_least_two_practices_of_its_own():
    practices, _ = load_tree(PRACTICES)
    own = own_practices_by_country(practices)
    assert {code: own[code] for code in vocab.countries().values() if own[code] < 2} == {}


def test_every_policy_type_has_at_least_five_practices():
    practices, _ = load_tree(PRACTICES)
    counts = Counter(t for p in practices for t in p.policy_types)
    assert {t: counts[t] for t in vocab.policy_types().values() if counts[t] < 5} == {}


SELF_REFERENCE = re.compile(
    r"fact ?sheet|this record|this case study'?s sources|sources used (in|for) this|stored cop(y|ies)"
    r"|not (confirmed|verified) in the sources|ficha de datos|ficha técnica de este|fuentes (usadas|utilizadas) en este"
    r"|fontes usadas neste|ficha de dados|本记录|事实表", re.IGNORECASE)


def test_no_case_study_speaks_of_how_it_was_made():
    practices, _ = load_tree(PRACTICES)
    found = {p.slug: m.group(0) for p in practices
             for m in [SELF_REFERENCE.search(p.body + " " + p.summary)] if m}
    assert found == {}


MIRRORS = re.compile(r"scribd|docslib|studylib|123dok|fdokumen|vdocuments?\.|paperzz|pdffox|docsbay|happylibnet"
                     r"|kiwix|dokumen\.pub|pdfcoffee|documents\.pub|idoc\.pub|silo\.tips", re.IGNORECASE)


def test_a_mirror_is_cited_only_with_a_note_that_the_publishers_copy_is_gone():
    practices, _ = load_tree(PRACTICES)
    unnoted = [(p.slug, s["url"]) for p in practices for s in p.sources
               if MIRRORS.search(s["url"]) and "mirror" not in s["title"].lower()]
    assert unnoted == []


def test_every_practice_carries_comparable_data():
    practices, _ = load_tree(PRACTICES)

    def having(kind):
        return sum(1 for p in practices if any(i["indicator"].startswith(kind) for i in p.indicators))

    assert [p.slug for p in practices if not p.design] == []
    counts = {"coverage": having("coverage"), "expenditure": having("expenditure"), "benefit": having("benefit"),
              "evaluation": sum(1 for p in practices if p.evaluations)}
    minimum = {"coverage": 60, "expenditure": 30, "benefit": 40, "evaluation": 25}
    assert {k: v for k, v in counts.items() if v < minimum[k]} == {}


def test_every_case_study_reads_in_all_four_languages_and_no_translation_is_stale():
    practices, _ = load_tree(PRACTICES)
    table = coverage(practices)
    statuses = Counter(cell["status"] for row in table for cell in row["languages"].values())
    assert statuses == {"original": len(practices), "present": 3 * len(practices)}
    assert stale_warnings(practices) == []
    assert {cell["kind"] for row in table for cell in row["languages"].values() if cell["status"] == "present"} \
        == {"machine"}
