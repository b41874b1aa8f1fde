"""Pictures of a search as plain data: a timeline of practices and a country-by-type gap matrix (the map
is in kb/choropleth.py). Everything is computed here (positions, shades, links); templates only draw.

The timeline is drawn in percentages of its width with text in pixels, so it fills a phone or a wide
screen with labels of the same readable size on both.
"""

from __future__ import annotations

import datetime
import json
from functools import cache

from kb import vocab
from kb.config import PACKAGE
from kb.fields import FACETS_BY_NAME, facet_label
from kb.search import SearchRequest, select

SHADES = 6  # 0 = no practice, 1..5 = increasing counts
MAP_FILE = PACKAGE / "data" / "map.json"
MAX_BARS = 200  # one bar per practice up to this many; past it the summary still counts every practice
LEFT, RIGHT = 1.0, 97.0  # the plotting band, in percent of the timeline's width
TICK_STEPS = (1, 2, 5, 10, 20, 25, 50)
SEVERAL = "several"
AXIS, GROUP, ROW = 30, 26, 32  # heights in pixels of an axis band, a group heading and a practice  # the group of practices in more than one country


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


def year_ticks(first: int, last: int, most: int = 7) -> list[int]:
    """Round years between first and last (inclusive), at most `most` of them."""
    step = next((s for s in TICK_STEPS if (last - first) // s + 1 <= most), 100)
    start = -(-first // step) * step
    return list(range(start, last + 1, step))


def _bar(record: dict, this_year: int) -> dict:
    given = record.get("year_end")
    ongoing = given is None and record.get("status") == "ongoing"
    end = this_year if ongoing else given if given is not None else record["year_start"]
    return {"slug": record["slug"], "title": record["title"], "start": record["year_start"],
            "end": end, "end_given": given is not None,
            "ongoing": ongoing, "status": record.get("status"), "countries": record["countries"],
            "url": f"/practices/{record['slug']}"}


def timeline(store, request: SearchRequest, lang: str = "en", today: datetime.date | None = None) -> dict:
    """Each practice of the search as a bar from its start to its end (ongoing ones to this year),
    grouped by country, on a year axis; and a small histogram of start years as a summary."""
    sel = select(store, request)
    this_year = (today or datetime.date.today()).year
    total = sel.final.bit_count()
    docs = sel.snap.sorted_docs(sel.final, "year")[:MAX_BARS]
    bars = [_bar(sel.snap.record(d), this_year) for d in docs]
    by_year = sel.snap.docs_by_year(sel.final)
    if not bars:
        return {"groups": [], "total": 0, "shown": 0, "ticks": [], "summary": None, "height": 0}
    first = min(min(by_year), *(b["start"] for b in bars))
    last = max(this_year, *(b["end"] for b in bars))
    span = last + 1 - first
    def x(year: float) -> float:
        return round(LEFT + (RIGHT - LEFT) * (year - first) / span, 2)
    groups: dict[str, list] = {}
    for b in bars:
        b["x"], b["width"] = x(b["start"]), round(max(x(b["end"] + 1) - x(b["start"]), 0.4), 2)
        groups.setdefault(b["countries"][0] if len(b["countries"]) == 1 else SEVERAL, []).append(b)
    label = vocab.countries().label
    for b in bars:
        text = b["title"] if len(b["title"]) <= 34 else b["title"][:33].rstrip() + "…"  # fits a phone
        b["label"] = f"{text} · {b['start']}–{'' if b['ongoing'] else b['end'] if b['end_given'] else '?'}"
    out = [{"key": k, "label": label(k, lang) if k != SEVERAL else None, "bars": v,
            "url": request.url("/search", country=[k], page=None) if k != SEVERAL else None}
           for k, v in groups.items()]
    out.sort(key=lambda g: (g["key"] == SEVERAL, g["label"] or ""))
    y = AXIS
    for group in out:
        group["y"], y = y, y + GROUP
        for b in group["bars"]:
            b["y"], y = y, y + ROW
    ticks = [{"year": t, "x": x(t)} for t in year_ticks(first, last)]
    return {"groups": out, "total": total, "shown": len(bars), "ticks": ticks, "first": first, "last": last,
            "height": y + AXIS,
            "this_year": this_year, "summary": histogram(by_year, first, last, request, x)}


def histogram(by_year: dict[int, int], first: int, last: int, request: SearchRequest, x) -> dict:
    """Practices by start year on the timeline's own year axis, with a count axis."""
    top = max(by_year.values())
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if top // s <= 4)
    height = 80
    bars = [{"year": year, "count": n, "x": x(year), "width": round(max(x(year + 1) - x(year) - 0.15, 0.2), 2),
             "height": round(height * n / top, 1), "y": round(height - height * n / top, 1),
             "url": request.url("/search", year_from=year, year_to=year, page=None)}
            for year, n in sorted(by_year.items())]
    y_ticks = [{"value": v, "y": round(height - height * v / top, 1)} for v in range(0, top + 1, step)]
    return {"bars": bars, "top": top, "height": height, "y_ticks": y_ticks}


def timeline_rows(data: dict):
    """The timeline as CSV rows: one practice per row, in its group."""
    for group in data["groups"]:
        for b in group["bars"]:
            yield [b["slug"], b["title"], "; ".join(b["countries"]), b["start"],
                   b["end"] if b["end_given"] else "", "yes" if b["ongoing"] else "no", b["status"] or ""]


TIMELINE_COLUMNS = ("slug", "title", "countries", "year_start", "year_end", "ongoing", "status")


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
    top = max((c["count"] for r in rows for c in r["cells"]), default=0)
    for row in rows:
        for cell in row["cells"]:
            cell["shade"] = shade(cell["count"], top)
    columns = []
    for i, t in enumerate(types):
        none = [{"code": r["code"], "label": r["label"]} for r in rows if not r["cells"][i]["count"]]
        columns.append({"value": t, "label": facet_label(FACETS_BY_NAME["policy_type"], t, lang),
                        "total": sum(r["cells"][i]["count"] for r in rows), "none": none})
    return {"rows": rows, "columns": columns, "total": sel.final.bit_count()}


def gap_rows(data: dict):
    """The gap matrix as CSV rows: a country per row, a policy type per column, then its total."""
    for row in data["rows"]:
        yield [row["code"], row["label"], *(c["count"] for c in row["cells"]), row["total"]]


def gap_columns() -> tuple[str, ...]:
    """The gap matrix CSV's header: country, name, each policy type's code, all."""
    return ("country", "name", *vocab.policy_types().values(), "all")
