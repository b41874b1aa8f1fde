"""The map of a search as plain data: classed colours, a legend drawn from the same classes, and three
panels (Latin America and the Caribbean, China, the Eastern Caribbean enlarged) cut from one outline file.

Counts are skewed (China alone can have more practices than all of Central America), so shades are
quantile classes of the non-zero counts, not a linear ramp: every class holds some countries, and the
legend prints each class's range in the colour the map fills it with.
"""

from __future__ import annotations

import math
import re
from functools import cache

from kb import vocab
from kb.charts import map_shapes
from kb.search import SearchRequest, select

MAX_CLASSES = 5
NONE_COLOUR = "#f1f3f5"  # no practice: near white, outlined
# ColorBrewer "Blues" (sequential, colour-blind safe) without its palest step, which reads as "none".
PALETTES = {1: ("#3182bd",), 2: ("#9ecae1", "#3182bd"), 3: ("#bdd7e7", "#6baed6", "#2171b5"),
            4: ("#bdd7e7", "#6baed6", "#3182bd", "#08519c"),
            5: ("#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")}
EASTERN_CARIBBEAN = ("ATG", "BRB", "DMA", "GRD", "KNA", "LCA", "VCT", "TTO")
LABEL_COLUMN = 74  # map units right of the islands for their labels
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def classes(counts) -> list[dict]:
    """Up to five quantile classes of the non-zero counts, each an integer range with its colour."""
    values = sorted(c for c in counts if c > 0)
    if not values:
        return []
    k = min(MAX_CLASSES, len(set(values)))
    uppers: list[int] = []
    for i in range(1, k + 1):
        high = values[math.ceil(i * len(values) / k) - 1]
        if not uppers or high > uppers[-1]:
            uppers.append(high)
    out, low = [], values[0]
    for colour, high in zip(PALETTES[len(uppers)], uppers, strict=True):
        out.append({"low": low, "high": high, "colour": colour,
                    "label": str(low) if low == high else f"{low}–{high}",
                    "countries": sum(low <= v <= high for v in values)})
        low = high + 1
    return out


def colour_of(count: int, bins: list[dict]) -> str:
    """The fill of a count: its class's colour, or the colour of none."""
    return next((b["colour"] for b in bins if b["low"] <= count <= b["high"]), NONE_COLOUR)


@cache
def bounds(path: str) -> tuple[float, float, float, float]:
    """The bounding box (x0, y0, x1, y1) of an SVG path made of absolute M/L/Z commands."""
    numbers = [float(n) for n in _NUMBER.findall(path)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _box(codes, shapes, pad: float) -> tuple[float, float, float, float]:
    boxes = [bounds(c["path"]) for c in shapes["countries"] if c["alpha3"] in codes]
    return (min(b[0] for b in boxes) - pad, min(b[1] for b in boxes) - pad,
            max(b[2] for b in boxes) + pad, max(b[3] for b in boxes) + pad)


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@cache
def panel_frames() -> dict[str, dict]:
    """Each panel's viewBox and the countries it draws (any whose outline reaches into it)."""
    shapes = map_shapes()
    x, y, w, h = shapes["china_inset"]
    latam = [c["alpha3"] for c in shapes["countries"] if c["alpha3"] != "CHN"]
    caribbean = _box(EASTERN_CARIBBEAN, shapes, 4)
    # room on the right for a column of labels
    caribbean = (caribbean[0], caribbean[1], caribbean[2] + LABEL_COLUMN, caribbean[3])
    frames = {"latam": (*_box(latam, shapes, 4)[:2], x - 4, float(shapes["viewBox"].split()[3])),
              "china": (x, y, x + w, y + h), "caribbean": caribbean}
    out = {}
    for name, box in frames.items():
        drawn = [c["alpha3"] for c in shapes["countries"]
                 if _overlaps(bounds(c["path"]), box) and (c["alpha3"] == "CHN") == (name == "china")]
        out[name] = {"box": box, "codes": drawn,
                     "viewBox": " ".join(f"{v:g}" for v in (round(box[0], 1), round(box[1], 1),
                                                            round(box[2] - box[0], 1), round(box[3] - box[1], 1)))}
    return out


def spread(ys: list[float], gap: float, low: float, high: float) -> list[float]:
    """Label positions near `ys` (sorted), at least `gap` apart, kept between low and high."""
    out: list[float] = []
    for y in ys:
        out.append(max(y, out[-1] + gap) if out else max(y, low))
    overflow = out[-1] - high if out else 0
    if overflow > 0:  # push the column back up, keeping the gaps
        out = [v - overflow for v in out]
    return out


def _labels(countries: dict[str, dict], frame: dict) -> list[dict]:
    """The Eastern Caribbean panel's column of labels, each tied to its island by a leader line."""
    x0, y0, x1, y1 = frame["box"]
    islands = sorted((countries[c] for c in EASTERN_CARIBBEAN), key=lambda c: c["centroid"][1])
    ys = spread([c["centroid"][1] for c in islands], 6.5, y0 + 4, y1 - 2)
    return [{"code": c["alpha3"], "x": round(x1 - LABEL_COLUMN + 6, 1), "y": round(y, 1), "from": c["centroid"],
             "text": f"{c['name']}: {c['count']}"} for c, y in zip(islands, ys, strict=True)]


def country_map(store, request: SearchRequest, lang: str = "en") -> dict:
    """Each country's practices for the search (its facet count), class colour, outline and link."""
    sel = select(store, request)
    counts = sel.counts("country")
    shapes = map_shapes()
    selected = set(request.filters.get("country", ()))
    bins = classes(counts.get(c["alpha3"], 0) for c in shapes["countries"])
    countries = {}
    for c in shapes["countries"]:
        code = c["alpha3"]
        count = counts.get(code, 0)
        countries[code] = {**c, "name": vocab.countries().label(code, lang), "count": count,
                           "colour": colour_of(count, bins), "selected": code in selected,
                           "url": request.url("/search", country=sorted(selected | {code}), page=None)}
    frames = panel_frames()
    panels = [{"name": name, "viewBox": frame["viewBox"], "countries": [countries[c] for c in frame["codes"]],
               "labels": _labels(countries, frame) if name == "caribbean" else [],
               "markers": name != "china"} for name, frame in frames.items()]
    legend = [{"low": 0, "high": 0, "colour": NONE_COLOUR, "label": "0",
               "countries": sum(c["count"] == 0 for c in countries.values())}, *bins]
    return {"panels": panels, "legend": legend, "countries": list(countries.values()),
            "total": sel.final.bit_count(), "with_practices": sum(c["count"] > 0 for c in countries.values()),
            "source": shapes["source"], "caribbean_box": frames["caribbean"]["box"], "label_column": LABEL_COLUMN}


def csv_rows(data: dict):
    """The map as CSV rows: each country, its practices and the class it is drawn in."""
    for c in sorted(data["countries"], key=lambda c: c["alpha3"]):
        legend = next(b for b in data["legend"] if b["low"] <= c["count"] <= b["high"])
        yield [c["alpha3"], c["name"], c["count"], legend["label"], c["colour"]]


CSV_COLUMNS = ("country", "name", "practices", "class", "colour")
