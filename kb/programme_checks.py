"""Checks of the three comparable-data blocks (issue 14): `design`, `indicators` and `evaluations`.

A block can hold many mistakes at once, so each one is reported on its own, with the line of the
list item or key (from the line map `kb.practice` builds) and a dotted field name such as
`indicators[2].value` (items numbered from 1, like `sources`).
"""

from __future__ import annotations

import difflib
import math
import re

from kb import vocab
from kb.fields import DESIGN_KEYS, EVALUATION_KEYS, INDICATOR_KEYS, Field
from kb.validation import Invalid, _found, check_enum, check_int, check_text

MAX_ITEMS = 200
CURRENCY_ALIASES = {"RMB": "CNY", "R$": "BRL", "US$": "USD", "RD$": "DOP", "S/": "PEN", "BS": "BOB"}
EMPTY_DESIGN = {"target_group": None, "benefits": [], "conditionality": None, "targeting": []}


class Report:
    """Collects (line, field, message) problems, each at the most precise line known."""

    def __init__(self, lines: dict[str, int], problems: list):
        self.lines = lines
        self.problems = problems

    def line(self, name: str) -> int:
        """The line of `name`, or of the nearest enclosing item or block."""
        while name:
            if name in self.lines:
                return self.lines[name]
            name = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", name) if re.search(r"[.\[]", name) else ""
        return min(self.lines.values(), default=1)

    def add(self, name: str, message: str, at: str | None = None) -> None:
        """Report `message` for field `name` (at the line of `at`, default `name`)."""
        self.problems.append((self.line(at or name), name, message))


def check_blocks(data: dict, lines: dict[str, int], values: dict, problems: list) -> None:
    """Check the three blocks into `values`, appending (line, field, message) to `problems`."""
    report = Report(lines, problems)
    sources = len(data["sources"]) if isinstance(data.get("sources"), list) else 0
    values["design"] = check_design(data.get("design"), "design" in data, report)
    values["indicators"] = _check_list(data.get("indicators"), "indicators", INDICATOR_KEYS, sources, report,
                                       "{indicator: coverage-people, value: 1200000, year: 2020, source: 1}")
    values["evaluations"] = _check_list(data.get("evaluations"), "evaluations", EVALUATION_KEYS, sources, report,
                                        "{design: rct, outcome: poverty, effect: \"-5%\", year: 2010, source: 1}")
    _check_duplicates(values["indicators"], report)
    _check_agreement(values.get("evidence_level"), values["evaluations"], report)
    values["indicators"] = [i for i in values["indicators"] if i["ok"]]
    values["evaluations"] = [e for e in values["evaluations"] if e["ok"]]
    for entry in values["indicators"] + values["evaluations"]:
        del entry["ok"]


def check_design(raw, present: bool, report: Report) -> dict:
    """The design block: any of target_group, benefits, conditionality, targeting, but not none."""
    keys = ", ".join(k.name for k in DESIGN_KEYS)
    if not present:
        return dict(EMPTY_DESIGN)
    if raw is None or raw == {}:
        report.add("design", f"is empty; give at least one of {keys}, or leave the block out")
        return dict(EMPTY_DESIGN)
    if not isinstance(raw, dict):
        report.add("design", f"expected a mapping with {keys}; found {_found(raw)}")
        return dict(EMPTY_DESIGN)
    entry = _check_mapping(raw, "design", DESIGN_KEYS, 0, report)
    return {**EMPTY_DESIGN, **{k: v for k, v in entry.items() if k != "ok" and v is not None}}


def _check_list(raw, block: str, keys: tuple[Field, ...], sources: int, report: Report, example: str) -> list:
    if raw is None or raw == []:
        return []
    if not isinstance(raw, list):
        report.add(block, f"expected a list of mappings, one per line like - {example}; found {_found(raw)}")
        return []
    if len(raw) > MAX_ITEMS:
        report.add(block, f"has {len(raw)} items; at most {MAX_ITEMS} allowed")
        return []
    out = []
    for number, item in enumerate(raw, 1):
        name = f"{block}[{number}]"
        if not isinstance(item, dict):
            report.add(name, f"expected a mapping like {example}; found {_found(item)}")
            continue
        entry = _check_mapping(item, name, keys, sources, report)
        if block == "indicators":
            _check_indicator_rules(entry, item, name, report)
        out.append(entry)
    return out


def _check_mapping(item: dict, name: str, keys: tuple[Field, ...], sources: int, report: Report) -> dict:
    """Check each key of one item; the entry has every declared key (None when absent) and `ok`."""
    before = len(report.problems)
    known = {k.name: k for k in keys}
    for key in item:
        if str(key) not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            report.add(f"{name}.{key}", f"is not a key of {name.split('[')[0]} (expected {', '.join(known)}){hint}")
    entry = {}
    for spec in keys:
        raw = item.get(spec.name)
        if raw is None or raw == "" or raw == []:
            entry[spec.name] = [] if spec.kind == "list" else None
            if spec.required:
                report.add(f"{name}.{spec.name}", f"is missing; expected {spec.doc[0].lower()}{spec.doc[1:]}", at=name)
            continue
        try:
            entry[spec.name] = _check_value(raw, spec, f"{name}.{spec.name}", sources, report)
        except Invalid as exc:
            entry[spec.name] = None
            report.add(f"{name}.{spec.name}", str(exc))
    entry["ok"] = len(report.problems) == before
    return entry


def _check_value(raw, spec: Field, name: str, sources: int, report: Report):
    if spec.kind == "list":
        return _check_terms(raw, spec, name, report)
    return VALUE_CHECKS[spec.kind](raw, spec, sources)


def _check_terms(raw, spec: Field, name: str, report: Report) -> list[str]:
    """A list of vocabulary values (one value alone is a list of one), each item reported on its line."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise Invalid(f"expected a list like [{', '.join(spec.vocabulary().values()[:2])}], found {_found(raw)}")
    out = []
    for number, item in enumerate(items, 1):
        try:
            out.append(check_enum(item, spec))
        except Invalid as exc:
            report.add(name, str(exc), at=f"{name}[{number}]")
    return list(dict.fromkeys(out))


def check_number(raw, spec: Field, sources: int = 0) -> int | float:
    """A number as the source states it: an int or a float, zero or more."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        if isinstance(raw, str):
            raise Invalid(f"expected a number, found the string {raw!r}; write digits only, without quotes, "
                          "words or thousands separators (14.1 million is 14100000)")
        raise Invalid(f"expected a number, found {_found(raw)}")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise Invalid(f"expected a finite number, found {raw}")
    if raw < 0:
        raise Invalid(f"expected a number of zero or more, found {raw}")
    return raw


def check_source(raw, spec: Field, sources: int) -> int:
    """The 1-based position of a document in the file's `sources`."""
    listed = f"the file lists {sources} source{'' if sources == 1 else 's'}"
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise Invalid(f"expected the number of a document in sources (1 to {sources}), found {_found(raw)}")
    if not 1 <= raw <= sources:
        expected = f"expected a number from 1 to {sources}" if sources else "add the document to sources first"
        raise Invalid(f"is {raw}, but {listed}; {expected}")
    return raw


def check_currency(raw, spec: Field, sources: int = 0) -> str:
    """An active ISO 4217 code such as BRL, MXN or CNY."""
    codes = vocab.currencies()
    if isinstance(raw, str) and raw in codes:
        return raw
    text = str(raw).strip()
    guess = CURRENCY_ALIASES.get(text.upper()) or (text.upper() if text.upper() in codes else None)
    hint = f"; did you mean {guess!r}?" if guess else ""
    raise Invalid(f"{_found(raw)} is not an active ISO 4217 currency code; expected three capital letters "
                  f"such as BRL, MXN or CNY{hint}")


VALUE_CHECKS = {
    "text": lambda raw, spec, sources: check_text(raw, spec),
    "enum": lambda raw, spec, sources: check_enum(raw, spec),
    "int": lambda raw, spec, sources: check_int(raw, spec),
    "number": check_number,
    "source": check_source,
    "currency": check_currency,
}


def _check_indicator_rules(entry: dict, item: dict, name: str, report: Report) -> None:
    """The keys an indicator needs or refuses (currency, period, unit) and the range of percentages."""
    indicator = entry["indicator"]
    rule = vocab.indicator_rules().get(indicator)
    if rule is None:
        return
    before = len(report.problems)
    if rule.currency == "required" and "currency" not in item:
        report.add(f"{name}.currency", f"is missing; {indicator} needs currency, an ISO 4217 code such as "
                   "BRL, MXN or CNY", at=name)
    elif rule.currency == "none" and "currency" in item:
        report.add(f"{name}.currency", f"{indicator} takes no currency; remove it")
    elif rule.currency not in ("required", "none"):
        if entry["currency"] not in (None, rule.currency) and "currency" in item:
            report.add(f"{name}.currency", f"{indicator} is in {rule.currency}, found {entry['currency']!r}; "
                       "use expenditure-local-currency for other currencies")
        entry["currency"] = rule.currency
    for key, needed, allowed in (("period", rule.period, _one_of(vocab.periods())),
                                 ("unit", rule.unit, _one_of(vocab.benefit_units()))):
        if needed and key not in item:
            report.add(f"{name}.{key}", f"is missing; {indicator} needs {key}: {allowed}", at=name)
        elif not needed and key in item:
            report.add(f"{name}.{key}", f"{indicator} takes no {key}; remove it")
    value = entry["value"]
    if rule.kind == "percent" and isinstance(value, (int, float)) and value > 100:
        report.add(f"{name}.value", f"is a percentage (25.3 means 25.3%); expected at most 100, found {value}")
    if len(report.problems) != before:
        entry["ok"] = False


def _check_duplicates(indicators: list[dict], report: Report) -> None:
    seen: dict[tuple, int] = {}
    for number, entry in enumerate(indicators, 1):
        key = (entry["indicator"], entry["year"])
        if None in key:
            continue
        name = f"indicators[{number}]"
        if key in seen:
            first = f"indicators[{seen[key]}]"
            report.add(name, f"{key[0]} for {key[1]} is already given by {first} on line {report.line(first)}; "
                       "keep one")
            entry["ok"] = False
        else:
            seen[key] = number


def strongest_design(evaluations: list[dict]) -> str | None:
    """The strongest design among evaluations (rct > quasi-experimental > ... > descriptive)."""
    order = vocab.evidence_levels().values()
    designs = [e["design"] for e in evaluations if e.get("design") in order]
    return min(designs, key=order.index) if designs else None


def _check_agreement(level: str | None, evaluations: list[dict], report: Report) -> None:
    strongest = strongest_design(evaluations)
    if level and strongest and level != strongest:
        at = next(n for n, e in enumerate(evaluations, 1) if e["design"] == strongest)
        report.add("evidence_level", f"is {level!r}, but the strongest design in evaluations is {strongest!r} "
                   f"(evaluations[{at}]); evidence_level must be the strongest design listed")


def _one_of(vocabulary) -> str:
    """'a, b or c': the values a contributor may write."""
    values = vocabulary.values()
    return f"{', '.join(values[:-1])} or {values[-1]}"
