"""Comparable figures of practices as plain data: key-figure and evaluation tables, the comparison's
rows and a chart of each indicator over time. Labels are in the reader's language and numbers are
formatted for its locale with Babel; templates only loop and print."""

from __future__ import annotations

from decimal import Decimal

from babel import Locale
from babel.numbers import format_compact_decimal, format_currency, format_decimal, format_percent

from kb import vocab
from kb.fields import FACETS_BY_NAME

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 240, 48
SERIES = 4  # colours in the stylesheet: one per compared practice


def format_number(value: float | int, lang: str) -> str:
    """A plain number in the locale's way (14,100,000 / 14.100.000)."""
    return format_decimal(value, locale=lang, decimal_quantization=False)


def format_value(entry: dict, lang: str) -> str:
    """An indicator's value with its unit: a count, a percentage, or money with its currency, unit and period."""
    rule = vocab.indicator_rules()[entry["indicator"]]
    value = entry["value"]
    if rule.kind == "percent":
        return format_percent(Decimal(str(value)) / 100, locale=lang, decimal_quantization=False)
    if rule.kind == "count":
        return format_number(value, lang)
    amount = _money(value, entry["currency"], lang)
    extras = [vocab.benefit_units().label(entry["unit"], lang) if entry.get("unit") else "",
              vocab.periods().label(entry["period"], lang) if entry.get("period") else ""]
    return ("" if lang == "zh" else " ").join([amount, *filter(None, extras)])


def _money(value, currency: str, lang: str) -> str:
    if float(value).is_integer():  # no ".00" on whole amounts, as sources write them
        pattern = Locale.parse(lang).currency_formats["standard"].pattern.replace(".00", "")
        return format_currency(int(value), currency, format=pattern, locale=lang, currency_digits=False)
    return format_currency(value, currency, locale=lang, decimal_quantization=False)


def _source(practice: dict, number: int) -> dict:
    source = practice["sources"][number - 1]
    return {"number": number, "title": source["title"], "url": source["url"], "anchor": f"#source-{number}"}


def key_figures(practice: dict, lang: str) -> list[dict]:
    """The 'Key figures' rows: indicator label, formatted value, year, note and source, by indicator then year."""
    order = vocab.indicators().values()
    rows = sorted(practice.get("indicators") or [], key=lambda e: (order.index(e["indicator"]), e["year"]))
    return [{"indicator": e["indicator"], "label": vocab.indicators().label(e["indicator"], lang),
             "value": format_value(e, lang), "year": e["year"], "note": e.get("note"),
             "source": _source(practice, e["source"])} for e in rows]


def evaluation_rows(practice: dict, lang: str) -> list[dict]:
    """The 'Evaluations' rows: design, outcome, effect, year, note and source, strongest design first."""
    designs = vocab.evidence_levels().values()
    rows = sorted(practice.get("evaluations") or [], key=lambda e: (designs.index(e["design"]), -e["year"]))
    return [{"design": e["design"], "design_label": vocab.evidence_levels().label(e["design"], lang),
             "outcome": e["outcome"], "outcome_label": vocab.outcomes().label(e["outcome"], lang),
             "effect": e["effect"], "year": e["year"], "note": e.get("note"),
             "source": _source(practice, e["source"])} for e in rows]


def design_rows(practice: dict, lang: str) -> list[dict]:
    """The design block as labelled rows, with the facet each value filters by (absent keys left out)."""
    design = practice.get("design") or {}
    rows = []
    for key, facet, vocabulary in (("benefits", "benefits", vocab.benefits),
                                   ("conditionality", "conditionality", vocab.conditionalities),
                                   ("targeting", "targeting", vocab.targeting_methods)):
        values = design.get(key) or []
        values = [values] if isinstance(values, str) else values
        if values:
            rows.append({"key": key, "facet": facet, "label": FACETS_BY_NAME[facet].label,
                         "values": [{"value": v, "label": vocabulary().label(v, lang)} for v in values]})
    return rows


def latest(practice: dict) -> dict[str, dict]:
    """Per indicator, the entry of its latest year."""
    out: dict[str, dict] = {}
    for entry in practice.get("indicators") or []:
        if entry["indicator"] not in out or entry["year"] > out[entry["indicator"]]["year"]:
            out[entry["indicator"]] = entry
    return out


def compare_rows(practices: list[dict], lang: str) -> list[dict]:
    """Rows of the comparison for the comparable data: design, the latest value of each indicator, evaluations
    (only the rows some practice fills)."""
    rows = [{"label": "Target group", "cells": [(p.get("design") or {}).get("target_group") or "—" for p in practices]}]
    for key, label, vocabulary in (("benefits", "Benefits", vocab.benefits),
                                   ("conditionality", "Conditionality", vocab.conditionalities),
                                   ("targeting", "Targeting", vocab.targeting_methods)):
        cells = []
        for p in practices:
            values = (p.get("design") or {}).get(key) or []
            values = [values] if isinstance(values, str) else values
            cells.append(", ".join(vocabulary().label(v, lang) for v in values) or "—")
        rows.append({"label": label, "cells": cells})
    latest_values = [latest(p) for p in practices]
    for indicator in vocab.indicators():
        if any(indicator.value in values for values in latest_values):
            cells = [f"{format_value(v[indicator.value], lang)} ({v[indicator.value]['year']})"
                     if indicator.value in v else "—" for v in latest_values]
            rows.append({"label": indicator.label(lang), "translated": True, "cells": cells})
    rows.append({"label": "Evaluations", "cells": ["; ".join(
        f"{r['design_label']}: {r['outcome_label']}, {r['effect']} ({r['year']})" for r in evaluation_rows(p, lang))
        or "—" for p in practices]})
    return [row for row in rows if any(cell != "—" for cell in row["cells"])]  # rows nobody fills say nothing


def indicator_charts(practices: list[dict], lang: str) -> list[dict]:
    """A line chart per indicator that has two or more years for some practice, one series per practice."""
    charts = []
    for indicator in vocab.indicators():
        series = []
        for n, p in enumerate(practices):
            points = sorted((e["year"], e) for e in p.get("indicators") or [] if e["indicator"] == indicator.value)
            if points:
                series.append({"slug": p["slug"], "title": p["title"], "colour": n % SERIES, "points": points})
        if any(len(s["points"]) >= 2 for s in series):
            charts.append(_chart(indicator, series, lang))
    return charts


def _chart(indicator: vocab.Term, series: list[dict], lang: str) -> dict:
    """Coordinates of one line chart (and the rows of its table twin)."""
    years = sorted({year for s in series for year, _ in s["points"]})
    top = max(e["value"] for s in series for _, e in s["points"]) or 1
    first, last = years[0], years[-1]
    width, height = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD

    def x(year):
        return round(CHART_PAD + (width * (year - first) / (last - first) if last > first else width / 2), 1)

    def y(value):
        return round(CHART_PAD + height - height * value / top, 1)

    lines = []
    for s in series:
        points = [{"x": x(year), "y": y(e["value"]), "year": year, "text": format_value(e, lang)}
                  for year, e in s["points"]]
        lines.append({**{k: s[k] for k in ("slug", "title", "colour")}, "points": points,
                      "path": " ".join(f"{p['x']},{p['y']}" for p in points)})
    rule = vocab.indicator_rules()[indicator.value]
    ticks = [{"value": _tick(top * i / 4, rule.kind, lang), "y": y(top * i / 4)} for i in range(5)]
    # money in different currencies, periods or units shares no scale: only the table is shown
    mixed = len({(e.get("currency"), e.get("period"), e.get("unit")) for s in series for _, e in s["points"]}) > 1
    table = [{"year": year, "cells": [next((p["text"] for p in line["points"] if p["year"] == year), "—")
                                      for line in lines]} for year in years]
    label = indicator.label(lang)
    if rule.kind == "money" and not mixed:  # the axis shows bare numbers: say what they count
        first_entry = series[0]["points"][0][1]
        extras = [first_entry["currency"]] + [vocabulary().label(first_entry[key], lang) for key, vocabulary in
                                              (("unit", vocab.benefit_units), ("period", vocab.periods))
                                              if first_entry.get(key)]
        label = f"{label} ({' '.join(extras)})"
    return {"indicator": indicator.value, "label": label, "width": CHART_WIDTH,
            "height": CHART_HEIGHT, "pad": CHART_PAD, "lines": lines, "y_ticks": ticks,
            "x_ticks": _year_ticks(years, x), "table": table,
            "baseline": CHART_PAD + height, "right": CHART_PAD + width, "mixed": mixed}


def _year_ticks(years: list[int], x) -> list[dict]:
    """Year labels at least 40 units apart, counted back from the latest year (which is always shown)."""
    ticks: list[dict] = []
    for year in reversed(years):
        if not ticks or ticks[-1]["x"] - x(year) >= 40:
            ticks.append({"year": year, "x": x(year)})
    return ticks[::-1]


def _tick(value: float, kind: str, lang: str) -> str:
    if kind == "percent":
        return format_percent(Decimal(str(round(value, 2))) / 100, locale=lang, decimal_quantization=False)
    return format_compact_decimal(value, locale=lang, fraction_digits=1)
