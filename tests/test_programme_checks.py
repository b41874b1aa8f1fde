"""The comparable-data blocks (design, indicators, evaluations): what is valid, and the exact
message, line and field for each way they can be wrong."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kb.cli import main
from kb.practice import read_practice

HEAD = """---
title: Bolsa Família
countries: [BRA]
policy_types: [cash-transfers]
summary: Conditional cash transfer to poor families.
year_start: 2003
status: ongoing
language: en
evidence_level: {level}
sources:
  - {{title: A, publisher: P, year: 2020, url: "https://example.org/a"}}
  - {{title: B, publisher: P, year: 2021, url: "https://example.org/b"}}
last_reviewed: 2026-11-01
"""  # the blocks start on line 14
VALID = """design:
  target_group: "Poor families with children"
  benefits: [cash, services]
  conditionality: conditional
  targeting: [means-test, geographic]
indicators:
  - {indicator: coverage-households, value: 14100000, year: 2019, source: 2}
  - {indicator: expenditure-gdp-pct, value: 0.44, year: 2019, source: 2}
  - {indicator: benefit-amount, value: 600, currency: BRL, period: month, unit: household, year: 2023, source: 1}
  - {indicator: expenditure-usd, value: 5000000000, year: 2019, source: 1, note: "planned budget"}
evaluations:
  - {design: quasi-experimental, outcome: school-enrolment, effect: "+4.4 percentage points", year: 2004, source: 2}
  - {design: monitoring, outcome: poverty, effect: "no significant effect", year: 2010, source: 1}
"""


def read(tmp_path, blocks: str, level: str = "quasi-experimental"):
    path = tmp_path / "bra-bolsa-familia.md"
    path.write_text(HEAD.format(level=level) + blocks + "---\nBody.\n", encoding="utf-8")
    return read_practice(path, "f.md")


def test_the_blocks_are_normalized_once(tmp_path):
    practice, problems = read(tmp_path, VALID)
    assert problems == []
    assert practice.design == {"target_group": "Poor families with children", "benefits": ["cash", "services"],
                               "conditionality": "conditional", "targeting": ["means-test", "geographic"]}
    blank = {"currency": None, "period": None, "unit": None, "note": None}
    assert practice.indicators == [
        {**blank, "indicator": "coverage-households", "value": 14100000, "year": 2019, "source": 2},
        {**blank, "indicator": "expenditure-gdp-pct", "value": 0.44, "year": 2019, "source": 2},
        {**blank, "indicator": "benefit-amount", "value": 600, "year": 2023, "source": 1, "currency": "BRL",
         "period": "month", "unit": "household"},
        {**blank, "indicator": "expenditure-usd", "value": 5000000000, "year": 2019, "source": 1,
         "currency": "USD", "note": "planned budget"},
    ]
    assert practice.evaluations == [
        {"design": "quasi-experimental", "outcome": "school-enrolment", "effect": "+4.4 percentage points",
         "year": 2004, "source": 2, "note": None},
        {"design": "monitoring", "outcome": "poverty", "effect": "no significant effect", "year": 2010, "source": 1,
         "note": None},
    ]
    assert (practice.benefits, practice.conditionality, practice.targeting, practice.outcomes,
            practice.impact_evaluation) == (["cash", "services"], "conditional", ["means-test", "geographic"],
                                            ["school-enrolment", "poverty"], "yes")
    meta = practice.metadata()
    assert (meta["design"], meta["indicators"], meta["evaluations"]) == (
        practice.design, practice.indicators, practice.evaluations)


def test_files_without_the_blocks_stay_valid_with_empty_values(tmp_path):
    practice, problems = read(tmp_path, "")
    assert problems == []
    assert (practice.design, practice.indicators, practice.evaluations, practice.impact_evaluation) == (
        {"target_group": None, "benefits": [], "conditionality": None, "targeting": []}, [], [], None)


ITEM = "indicators:\n  - {{indicator: {indicator}, value: {value}, year: {year}, source: {source}{extra}}}\n"


def item(indicator="coverage-people", value="1000", year="2019", source="1", extra=""):
    return ITEM.format(indicator=indicator, value=value, year=year, source=source, extra=extra)


def evaluation(design="rct", outcome="poverty", effect='"-5%"', year="2010", source="1", extra=""):
    return (f"evaluations:\n  - {{design: {design}, outcome: {outcome}, effect: {effect}, year: {year}, "
            f"source: {source}{extra}}}\n")


CASES = [
    (item(indicator="coverage-household"),
     "f.md:15: indicators[1].indicator: 'coverage-household' is unknown; expected one of coverage-people, "
     "coverage-households, coverage-share-population, expenditure-local-currency, expenditure-usd, "
     "expenditure-gdp-pct, benefit-amount; did you mean 'coverage-households'?"),
    (item(value='"14.1 million"'),
     "f.md:15: indicators[1].value: expected a number, found the string '14.1 million'; write digits only, "
     "without quotes, words or thousands separators (14.1 million is 14100000)"),
    (item(value="-3"), "f.md:15: indicators[1].value: expected a number of zero or more, found -3"),
    (item(indicator="coverage-share-population", value="253"),
     "f.md:15: indicators[1].value: is a percentage (25.3 means 25.3%); expected at most 100, found 253"),
    (item(year="1850"), "f.md:15: indicators[1].year: expected a year between 1900 and 2100, found 1850"),
    (item(year='"2019"'),
     "f.md:15: indicators[1].year: expected an integer year, found the string '2019'; write it without quotes"),
    (item(source="3"),
     "f.md:15: indicators[1].source: is 3, but the file lists 2 sources; expected a number from 1 to 2"),
    (item(source="0"),
     "f.md:15: indicators[1].source: is 0, but the file lists 2 sources; expected a number from 1 to 2"),
    (item(indicator="expenditure-local-currency", extra=", currency: R$"),
     "f.md:15: indicators[1].currency: 'R$' is not an active ISO 4217 currency code; expected three capital "
     "letters such as BRL, MXN or CNY; did you mean 'BRL'?"),
    (item(indicator="expenditure-local-currency", extra=", currency: VEF"),
     "f.md:15: indicators[1].currency: 'VEF' is not an active ISO 4217 currency code; expected three capital "
     "letters such as BRL, MXN or CNY"),
    (item(indicator="expenditure-local-currency"),
     "f.md:15: indicators[1].currency: is missing; expenditure-local-currency needs currency, an ISO 4217 code "
     "such as BRL, MXN or CNY"),
    (item(indicator="expenditure-usd", extra=", currency: BRL"),
     "f.md:15: indicators[1].currency: expenditure-usd is in USD, found 'BRL'; use expenditure-local-currency "
     "for other currencies"),
    (item(extra=", currency: BRL"), "f.md:15: indicators[1].currency: coverage-people takes no currency; remove it"),
    (item(indicator="benefit-amount", extra=", currency: BRL, unit: household"),
     "f.md:15: indicators[1].period: is missing; benefit-amount needs period: month, two-months, year or once"),
    (item(indicator="benefit-amount", extra=", currency: BRL, period: month"),
     "f.md:15: indicators[1].unit: is missing; benefit-amount needs unit: person or household"),
    (item(indicator="benefit-amount", extra=", currency: BRL, period: weekly, unit: household"),
     "f.md:15: indicators[1].period: 'weekly' is unknown; expected one of month, two-months, year, once"),
    (item(extra=", period: month"), "f.md:15: indicators[1].period: coverage-people takes no period; remove it"),
    (item(extra=", valeu: 3"),
     "f.md:15: indicators[1].valeu: is not a key of indicators (expected indicator, value, year, source, currency, "
     "period, unit, note); did you mean 'value'?"),
    (item(extra=", note: " + "x" * 201), "f.md:15: indicators[1].note: is 201 characters; at most 200 allowed"),
    ("indicators:\n  - {indicator: coverage-people, value: 5, source: 1}\n",
     "f.md:15: indicators[1].year: is missing; expected the year the figure refers to."),
    ("indicators:\n  - {indicator: coverage-people, value: 5, year: 2019, source: 1}\n"
     "  - indicator: coverage-people\n    value: 6\n    year: 2019\n    source: 2\n",
     "f.md:16: indicators[2]: coverage-people for 2019 is already given by indicators[1] on line 15; keep one"),
    ("indicators:\n  - indicator: coverage-people\n    value: lots\n    year: 2019\n    source: 1\n",
     "f.md:16: indicators[1].value: expected a number, found the string 'lots'; write digits only, without "
     "quotes, words or thousands separators (14.1 million is 14100000)"),
    ("indicators: coverage-people\n",
     "f.md:14: indicators: expected a list of mappings, one per line like - {indicator: coverage-people, "
     "value: 1200000, year: 2020, source: 1}; found 'coverage-people'"),
    ("indicators:\n  - coverage-people\n",
     "f.md:15: indicators[1]: expected a mapping like {indicator: coverage-people, value: 1200000, year: 2020, "
     "source: 1}; found 'coverage-people'"),
    ("design:\n", "f.md:14: design: is empty; give at least one of target_group, benefits, conditionality, "
                  "targeting, or leave the block out"),
    ("design:\n  benefits:\n    - cash\n    - in kind\n",
     "f.md:17: design.benefits: 'in kind' is unknown; expected one of cash, in-kind, services, credit, "
     "insurance, training, infrastructure, employment; did you mean 'in-kind'?"),
    ("design:\n  conditionality: conditioned\n",
     "f.md:15: design.conditionality: 'conditioned' is unknown; expected one of conditional, unconditional, "
     "labelled, not-applicable; did you mean 'conditional'?"),
    ("design:\n  targeting: [means-tested]\n",
     "f.md:15: design.targeting: 'means-tested' is unknown; expected one of means-test, proxy-means-test, "
     "categorical, geographic, community, self-targeting, universal; did you mean 'means-test'?"),
    ("design:\n  target_group: " + "y" * 201 + "\n",
     "f.md:15: design.target_group: is 201 characters; at most 200 allowed"),
    (evaluation(outcome="schooling"),
     "f.md:15: evaluations[1].outcome: 'schooling' is unknown; expected a outcomes value (see `kb vocab outcomes`)"),
    (evaluation(outcome="school enrolment"),
     "f.md:15: evaluations[1].outcome: 'school enrolment' is unknown; expected a outcomes value "
     "(see `kb vocab outcomes`); did you mean 'school-enrolment'?"),
    (evaluation(design="RCT"),
     "f.md:15: evaluations[1].design: 'RCT' is unknown; expected one of rct, quasi-experimental, mixed-methods, "
     "qualitative, monitoring, descriptive; did you mean 'rct'?"),
    (evaluation(effect='"' + "z" * 201 + '"'), "f.md:15: evaluations[1].effect: is 201 characters; at most 200 allowed"),
    (evaluation(source="5"),
     "f.md:15: evaluations[1].source: is 5, but the file lists 2 sources; expected a number from 1 to 2"),
    ("evaluations:\n  - {design: rct, outcome: poverty, year: 2010, source: 1}\n",
     "f.md:15: evaluations[1].effect: is missing; expected the finding as the study states it, "
     "at most 200 characters."),
    (evaluation(design="quasi-experimental"),
     "f.md:9: evidence_level: is 'rct', but the strongest design in evaluations is 'quasi-experimental' "
     "(evaluations[1]); evidence_level must be the strongest design listed"),
]


@pytest.mark.parametrize("blocks, message", CASES, ids=[c[1].split(": ", 2)[1] + str(i) for i, c in enumerate(CASES)])
def test_each_mistake_is_named_with_file_line_and_field(tmp_path, blocks, message):
    level = "rct" if "evaluations" in blocks else "quasi-experimental"  # agrees unless the case says not
    practice, problems = read(tmp_path, blocks, level=level)
    assert practice is None
    assert [str(p) for p in problems] == [message]


def test_every_mistake_of_a_file_is_reported_at_once(tmp_path):
    blocks = item(indicator="benefit-amount", value='"600"', source="9")
    practice, problems = read(tmp_path, blocks)
    assert [str(p) for p in problems] == [
        "f.md:15: indicators[1].value: expected a number, found the string '600'; write digits only, without "
        "quotes, words or thousands separators (14.1 million is 14100000)",
        "f.md:15: indicators[1].source: is 9, but the file lists 2 sources; expected a number from 1 to 2",
        "f.md:15: indicators[1].currency: is missing; benefit-amount needs currency, an ISO 4217 code such as "
        "BRL, MXN or CNY",
        "f.md:15: indicators[1].period: is missing; benefit-amount needs period: month, two-months, year or once",
        "f.md:15: indicators[1].unit: is missing; benefit-amount needs unit: person or household",
    ]


@pytest.mark.parametrize("name, first_lines", [
    ("indicators", ["coverage-people            People covered", "coverage-households        Households covered"]),
    ("conditionality", ["conditional                Conditional", "unconditional              Unconditional"]),
    ("currencies", ["AED                        United Arab Emirates Dirham", "AFN                        Afghan Afghani"]),
])
def test_kb_vocab_lists_the_new_vocabularies(settings, name, first_lines):
    result = CliRunner().invoke(main, ["--practices", str(settings.practices_dir), "--index",
                                       str(settings.index_dir), "vocab", name])
    assert (result.exit_code, result.output.splitlines()[:2]) == (0, first_lines)


def test_a_validate_run_reports_block_mistakes_like_any_other(tmp_path):
    path = tmp_path / "bra-bolsa-familia.md"
    path.write_text(HEAD.format(level="rct") + evaluation(outcome="poverty", source="4") + "---\nBody.\n",
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"{path}:15: evaluations[1].source: is 4, but the file lists 2 sources; expected a number from 1 to 2")
