#!/usr/bin/env python3
"""Build kb/data/map.json (SVG outlines of China and the 33 CELAC countries).

Build-time tool only; it is not imported by the package.

Source: Natural Earth admin-0 boundaries (public domain) as shipped in the npm
package ``world-atlas`` (TopoJSON, 50m resolution so that the small Caribbean
states exist)::

    mkdir -p /tmp/mapwork && cd /tmp/mapwork
    npm init -y && npm install world-atlas@2
    python3 /path/to/kb/data/build_map.py \
        /tmp/mapwork/node_modules/world-atlas/countries-50m.json

Optional second argument: output path (default: map.json next to this script).
The world-atlas version recorded in the output is read from the package.json
next to the TopoJSON file when present.

Layout: one SVG viewBox with Latin America and the Caribbean on the left and
China as an inset on the right, both drawn with an equirectangular projection
(x scaled by cos of the region's central latitude) at the same scale.
Pure Python standard library.
"""

import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ISO 3166-1 numeric -> alpha-3 for the 34 countries of countries.json.
# (Checked against the names in world-atlas countries-50m.json.)
CHINA_PARTS = ("158", "344", "446")  # Taiwan, Hong Kong, Macao
NUMERIC_TO_ALPHA3 = {
    "156": "CHN",  # China
    "028": "ATG",  # Antigua and Barb.
    "032": "ARG",  # Argentina
    "044": "BHS",  # Bahamas
    "052": "BRB",  # Barbados
    "084": "BLZ",  # Belize
    "068": "BOL",  # Bolivia
    "076": "BRA",  # Brazil
    "152": "CHL",  # Chile
    "170": "COL",  # Colombia
    "188": "CRI",  # Costa Rica
    "192": "CUB",  # Cuba
    "212": "DMA",  # Dominica
    "214": "DOM",  # Dominican Rep.
    "218": "ECU",  # Ecuador
    "222": "SLV",  # El Salvador
    "308": "GRD",  # Grenada
    "320": "GTM",  # Guatemala
    "328": "GUY",  # Guyana
    "332": "HTI",  # Haiti
    "340": "HND",  # Honduras
    "388": "JAM",  # Jamaica
    "484": "MEX",  # Mexico
    "558": "NIC",  # Nicaragua
    "591": "PAN",  # Panama
    "600": "PRY",  # Paraguay
    "604": "PER",  # Peru
    "659": "KNA",  # St. Kitts and Nevis
    "662": "LCA",  # Saint Lucia
    "670": "VCT",  # St. Vin. and Gren.
    "740": "SUR",  # Suriname
    "780": "TTO",  # Trinidad and Tobago
    "858": "URY",  # Uruguay
    "862": "VEN",  # Venezuela
}

# Nominal geographic frames (degrees).  Only the latitude span of the Latin
# America frame sets the common scale; the final placement is fitted to the
# bounding box of the geometry actually kept.
LATAM_LAT = (-56.5, 33.5)
LATAM_LAT0 = -11.5          # latitude used for the cos() x-correction
CHINA_LAT0 = 36.0

VIEW_H = 620.0
MARGIN = 10.0               # outer margin of the viewBox
GAP = 12.0                  # gap between Latin America and the China inset box
INSET_PAD = 8.0             # padding between China and its inset box

MIN_DIST = 0.6              # drop points closer than this to the last kept one
MIN_AREA = 0.3              # drop rings smaller than this (viewBox units^2) ...
                            # ... except the largest ring of every country
SMALL_SIZE = 12.0           # bbox smaller than this in both directions -> small


def decode_arcs(topo):
    """Absolute lon/lat coordinates of every arc (quantized, delta-encoded)."""
    tr = topo.get("transform")
    arcs = []
    for arc in topo["arcs"]:
        if tr:
            (sx, sy), (tx, ty) = tr["scale"], tr["translate"]
            x = y = 0
            pts = []
            for dx, dy in arc:
                x += dx
                y += dy
                pts.append((x * sx + tx, y * sy + ty))
        else:
            pts = [tuple(p[:2]) for p in arc]
        arcs.append(pts)
    return arcs


def geometry_polygons(geom):
    """List of polygons, each a list of rings, each a list of arc indices."""
    if geom["type"] == "Polygon":
        return [geom["arcs"]]
    if geom["type"] == "MultiPolygon":
        return list(geom["arcs"])
    return []


def ring_area(pts):
    """Signed shoelace area."""
    a = 0.0
    n = len(pts)
    for i in range(n):
        x1, y1 = pts[i]
        x2, y2 = pts[(i + 1) % n]
        a += x1 * y2 - x2 * y1
    return a / 2.0


def ring_centroid(pts):
    a = ring_area(pts)
    if abs(a) < 1e-12:
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        return sum(xs) / len(xs), sum(ys) / len(ys)
    cx = cy = 0.0
    n = len(pts)
    for i in range(n):
        x1, y1 = pts[i]
        x2, y2 = pts[(i + 1) % n]
        f = x1 * y2 - x2 * y1
        cx += (x1 + x2) * f
        cy += (y1 + y2) * f
    return cx / (6 * a), cy / (6 * a)


def simplify(pts, tol):
    """Keep first/last point; drop points closer than tol to the last kept."""
    if len(pts) <= 2 or tol <= 0:
        return list(pts)
    out = [pts[0]]
    for p in pts[1:-1]:
        q = out[-1]
        if math.hypot(p[0] - q[0], p[1] - q[1]) >= tol:
            out.append(p)
    last = pts[-1]
    if len(out) > 1:
        q = out[-1]
        if math.hypot(last[0] - q[0], last[1] - q[1]) < tol:
            out.pop()   # keep the arc endpoint (shared node), drop the near one
    out.append(last)
    return out


class Region:
    """Equirectangular projection for one map region (scaled, unshifted)."""

    def __init__(self, lat0, scale):
        self.kx = math.cos(math.radians(lat0)) * scale
        self.ky = scale
        self.dx = 0.0
        self.dy = 0.0

    def project(self, lon, lat):
        return lon * self.kx, -lat * self.ky


def build_rings(poly_arcs, arc_pts, tol):
    """Assemble rings from (projected, simplified) arcs; returns point lists."""
    rings = []
    for ring in poly_arcs:
        pts = []
        for idx in ring:
            seg = arc_pts(idx if idx >= 0 else ~idx, tol)
            if idx < 0:
                seg = seg[::-1]
            if pts:
                seg = seg[1:]      # first point duplicates previous arc's end
            pts.extend(seg)
        rings.append(pts)
    return rings


def clean_ring(pts):
    """Round to 0.1, remove consecutive duplicates and the closing point."""
    out = []
    for x, y in pts:
        p = (round(x, 1), round(y, 1))
        if not out or out[-1] != p:
            out.append(p)
    while len(out) > 1 and out[-1] == out[0]:
        out.pop()
    return out


def fmt(v):
    s = f"{v:.1f}"
    if s.endswith(".0"):
        s = s[:-2]
    if s == "-0":
        s = "0"
    return s


def ring_path(pts):
    head = f"M{fmt(pts[0][0])},{fmt(pts[0][1])}"
    rest = " ".join(f"{fmt(x)},{fmt(y)}" for x, y in pts[1:])
    return head + "L" + rest + "Z"


def main(argv):
    if len(argv) < 2:
        print("usage: build_map.py countries-50m.json [out.json]", file=sys.stderr)
        return 2
    topo_path = argv[1]
    out_path = argv[2] if len(argv) > 2 else os.path.join(HERE, "map.json")

    with open(topo_path, encoding="utf-8") as f:
        topo = json.load(f)
    with open(os.path.join(HERE, "countries.json"), encoding="utf-8") as f:
        countries = json.load(f)

    version = "2"
    pkg = os.path.join(os.path.dirname(os.path.abspath(topo_path)), "package.json")
    if os.path.exists(pkg):
        with open(pkg, encoding="utf-8") as f:
            version = json.load(f).get("version", version)

    alpha3_to_numeric = {v: k for k, v in NUMERIC_TO_ALPHA3.items()}
    wanted = [c["alpha3"] for c in countries]
    missing = [a for a in wanted if a not in alpha3_to_numeric]
    if missing:
        raise SystemExit(f"no numeric code for {missing}")

    geoms = {}
    for g in topo["objects"]["countries"]["geometries"]:
        gid = g.get("id")
        if gid in NUMERIC_TO_ALPHA3:
            if gid in geoms:
                raise SystemExit(f"duplicate feature for id {gid}")
            geoms[gid] = g
    # China is drawn as the People's Republic of China sees it and the UN records it: with Taiwan,
    # Hong Kong and Macao, which Natural Earth keeps as separate features.
    extra_china = [g for g in topo["objects"]["countries"]["geometries"] if g.get("id") in CHINA_PARTS]
    absent = [n for n in NUMERIC_TO_ALPHA3 if n not in geoms]
    if absent:
        raise SystemExit(f"ids not found in TopoJSON: {absent}")

    arcs = decode_arcs(topo)

    scale = (VIEW_H - 2 * MARGIN) / (LATAM_LAT[1] - LATAM_LAT[0])
    regions = {"latam": Region(LATAM_LAT0, scale), "china": Region(CHINA_LAT0, scale)}

    # Arcs are projected and simplified once per region so that borders shared
    # by two countries stay identical after simplification.
    cache = {}

    def arc_getter(region_name):
        region = regions[region_name]

        def get(i, tol):
            key = (region_name, i, tol)
            if key not in cache:
                pts = [region.project(lon, lat) for lon, lat in arcs[i]]
                cache[key] = simplify(pts, tol)
            return cache[key]
        return get

    # Pass 1: rings per country in unshifted region coordinates.
    shapes = {}
    for a3 in wanted:
        region_name = "china" if a3 == "CHN" else "latam"
        get = arc_getter(region_name)
        polys = geometry_polygons(geoms[alpha3_to_numeric[a3]])
        if a3 == "CHN":
            polys += [p for g in extra_china for p in geometry_polygons(g)]
        kept = []
        largest = None      # (area, rings-index) over raw rings
        for poly in polys:
            raw = build_rings(poly, get, 0)
            simp = build_rings(poly, get, MIN_DIST)
            for ring_arcs, r_raw, r_simp in zip(poly, raw, simp, strict=False):
                area = abs(ring_area(r_raw))
                kept.append((area, r_raw, r_simp, ring_arcs))
                if largest is None or area > largest[0]:
                    largest = (area, len(kept) - 1)
        shapes[a3] = (region_name, kept, largest[1])

    # Fit placement to the extent of the rings that will be kept (unsimplified).
    def extent(region_name):
        xs, ys = [], []
        for _a3, (rn, kept, li) in shapes.items():
            if rn != region_name:
                continue
            for i, (area, r_raw, _r_simp, _ring_arcs) in enumerate(kept):
                if area >= MIN_AREA or i == li:
                    xs.extend(p[0] for p in r_raw)
                    ys.extend(p[1] for p in r_raw)
        return min(xs), min(ys), max(xs), max(ys)

    lx0, ly0, lx1, ly1 = extent("latam")
    cx0, cy0, cx1, cy1 = extent("china")
    regions["latam"].dx = MARGIN - lx0
    regions["latam"].dy = MARGIN - ly0
    latam_right = MARGIN + (lx1 - lx0)
    inset_x = latam_right + GAP
    inset_y = MARGIN
    inset_w = (cx1 - cx0) + 2 * INSET_PAD
    inset_h = (cy1 - cy0) + 2 * INSET_PAD
    regions["china"].dx = inset_x + INSET_PAD - cx0
    regions["china"].dy = inset_y + INSET_PAD - cy0
    view_w = math.ceil(inset_x + inset_w + MARGIN)
    view_h = math.ceil(max(MARGIN + (ly1 - ly0), inset_h) + MARGIN)

    # Pass 2: shift, round, filter, emit.
    out_countries = []
    for a3 in wanted:
        region_name, kept, li = shapes[a3]
        reg = regions[region_name]

        def shift(pts, reg=reg):
            return [(x + reg.dx, y + reg.dy) for x, y in pts]

        rings = []
        largest_ring = None
        for i, (area, _r_raw, r_simp, ring_arcs) in enumerate(kept):
            if area < MIN_AREA and i != li:
                continue
            ring = clean_ring(shift(r_simp))
            if len(ring) < 3 and i == li:
                # keep at least the country's largest ring: retry finer
                for tol in (MIN_DIST / 3, 0):
                    r = build_rings([ring_arcs], arc_getter(region_name), tol)[0]
                    ring = clean_ring(shift(r))
                    if len(ring) >= 3:
                        break
            if len(ring) < 3:
                continue
            rings.append(ring)
            if i == li:
                largest_ring = ring
        if largest_ring is None:
            raise SystemExit(f"{a3}: largest ring vanished")
        xs = [p[0] for r in rings for p in r]
        ys = [p[1] for r in rings for p in r]
        w, h = max(xs) - min(xs), max(ys) - min(ys)
        cx, cy = ring_centroid(largest_ring)
        out_countries.append({
            "alpha3": a3,
            "path": "".join(ring_path(r) for r in rings),
            "centroid": [round(cx, 1), round(cy, 1)],
            "small": w < SMALL_SIZE and h < SMALL_SIZE,
        })

    result = {
        "source": f"Natural Earth via world-atlas@{version} countries-50m (public domain)",
        "viewBox": f"0 0 {view_w:d} {view_h:d}",
        "countries": out_countries,
        "china_inset": [round(inset_x, 1), round(inset_y, 1),
                        round(inset_w, 1), round(inset_h, 1)],
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out_path} ({os.path.getsize(out_path)} bytes, {len(out_countries)} countries, "
          f"viewBox {result['viewBox']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
