"""Pictures of a search as plain data: a map, a timeline and a country-by-type gap matrix.

Everything is computed here (counts, shades, bar sizes, links); the templates draw inline SVG.
"""

from __future__ import annotations

import json
from functools import cache

from kb import vocab
from kb.config import PACKAGE
from kb.fields import FACETS_BY_NAME, facet_label
from kb.search import SearchRequest, select

SHADES = 6  # 0 = no practice, 1..5 = increasing counts
MAP_FILE = PACKAGE / "data" / "map.json"


@cache
def map_shapes() -> dict:
    """Country outlines (Natural Earth, public domain) in SVG coordinates."""
    with open(MAP_FILE, encoding="utf-8") as handle:
        return json.load(handle)


def shade(count: int, top: int) -> int:
    """A shade from 0 (none) to SHADES - 1 (the most)."""
    if count <= 0 or top <= 0:
        return 0
    return 1 + min(SHADES - 2, (count - 1) * (SHADES - 1) // top)


def country_map(store, request: SearchRequest, lang: str = "en") -> dict:
    """Each country's number of practices for the search (its facet count) with its shape and link."""
    counts = select(store, request).counts("country")
    top = max(counts.values(), default=0)
    shapes = map_shapes()
    selected = set(request.filters.get("country", ()))
    countries = []
    for c in shapes["countries"]:
        code = c["alpha3"]
        count = counts.get(code, 0)
        countries.append({**c, "name": vocab.countries().label(code, lang), "count": count,
                          "shade": shade(count, top),
                          "selected": code in selected,
                          "url": request.url("/search", country=sorted(selected | {code}), page=None)})
    return {"viewBox": shapes["viewBox"], "countries": countries, "top": top, "source": shapes["source"]}


def timeline(store, request: SearchRequest, lang: str = "en", width: int = 900, height: int = 180) -> dict:
    """Practices by start year for the search, as bars with their links."""
    sel = select(store, request)
    counts = sel.snap.docs_by_year(sel.final)
    if not counts:
        return {"bars": [], "width": width, "height": height, "ticks": []}
    first, last = min(counts), max(counts)
    years = list(range(first, last + 1))
    step, top = width / len(years), max(counts.values())
    bars = []
    for i, year in enumerate(years):
        n = counts.get(year, 0)
        bar_height = round((height - 20) * n / top, 1)
        bars.append({"year": year, "count": n, "x": round(i * step, 1), "width": round(max(step - 1, 1), 1),
                     "y": round(height - 20 - bar_height, 1), "height": bar_height,
                     "url": request.url("/search", year_from=year, year_to=year, page=None)})
    ticks = [{"x": b["x"] + b["width"] / 2, "year": b["year"]} for b in bars if b["year"] % 10 == 0]
    return {"bars": bars, "width": width, "height": height, "ticks": ticks, "top": top}


def gap_matrix(store, request: SearchRequest, lang: str = "en") -> dict:
    """Counts for every country and policy type in the search; empty cells show the gaps."""
    sel = select(store, request)
    snap = sel.snap
    types = vocab.policy_types().values()
    rows = []
    for code in vocab.countries().values():
        country_bits = sel.final & snap.with_values("country", [code])
        cells = []
        for t in types:
            n = snap.count_with(country_bits, policy_type=t)
            cells.append({"type": t, "count": n,
                          "url": request.url("/search", country=[code], policy_type=[t], page=None)})
        rows.append({"code": code, "label": vocab.countries().label(code, lang), "cells": cells,
                     "total": country_bits.bit_count()})
    columns = [{"value": t, "label": facet_label(FACETS_BY_NAME["policy_type"], t, lang)} for t in types]
    top = max((c["count"] for r in rows for c in r["cells"]), default=0)
    for row in rows:
        for cell in row["cells"]:
            cell["shade"] = shade(cell["count"], top)
    return {"rows": rows, "columns": columns}
