"""Chart pages (map, timeline, gap matrix, evidence gap map) and their downloads as SVG and CSV, each for
any search: thin views that parse the request, build the chart's data once and render or stream it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _

from kb import charts, choropleth, evidence, export
from kb.extensions import base_url_of, store_of
from kb.fields import FACETS_BY_NAME
from kb.i18n import N_, current_language
from kb.search import SearchRequest
from kb.views import active_filters, view_links

bp = Blueprint("charts", __name__)

# name -> (builder, page template, standalone SVG template, CSV header, CSV rows of the built data)
CHARTS = {
    "map": (choropleth.country_map, "map.html", "charts/map.svg", lambda: choropleth.CSV_COLUMNS,
            choropleth.csv_rows),
    "timeline": (charts.timeline, "timeline.html", "charts/timeline.svg", lambda: charts.TIMELINE_COLUMNS,
                 charts.timeline_rows),
    "gaps": (charts.gap_matrix, "gaps.html", "charts/matrix.svg", charts.gap_columns, charts.gap_rows),
    "evidence": (evidence.evidence_map, "evidence.html", "charts/matrix.svg", lambda: evidence.CSV_COLUMNS,
                 evidence.map_rows),
}
TITLES = {"map": N_("Number of practices by country"), "timeline": N_("Practices over time"),
          "gaps": N_("Practices by country and policy type"), "evidence": N_("Evaluations by policy type and outcome")}


def chart_context(r: SearchRequest, name: str) -> dict:
    """What every chart page shows about its search: words, filters as removable chips, downloads."""
    path = f"/{name}"
    return {"req": r, "view": name, "chips": active_filters(r, path),
            "edit_url": r.url("/search", page=None) + "#filters",
            "hidden": [(k, v) for k, v in r.params(page=None) if k != "q"],
            "clear_url": r.url(path, **{f: [] for f in FACETS_BY_NAME}, exclude=[], year_from=None, year_to=None,
                               page=None),
            "chart_downloads": {"svg": r.url(f"/{name}.svg", page=None, per_page=None),
                                "csv": r.url(f"/{name}.csv", page=None, per_page=None)},
            **view_links(r, path)}


def _build(name: str):
    search_request = SearchRequest.from_args(request.args)
    return search_request, CHARTS[name][0](store_of(current_app), search_request, current_language())


def _page(name: str, key: str):
    search_request, data = _build(name)
    return render_template(CHARTS[name][1], **{key: data}, **chart_context(search_request, name))


@bp.get("/map")
def map_view():
    """A map of the countries coloured by their number of practices for the search."""
    return _page("map", "map")


@bp.get("/timeline")
def timeline_view():
    """Practices of the search as bars from start to end, with start years as a summary."""
    return _page("timeline", "timeline")


@bp.get("/gaps")
def gaps_view():
    """Country by policy type counts for the search: where practices are missing."""
    return _page("gaps", "matrix")


@bp.get("/evidence")
def evidence_view():
    """Evidence gap map of the search: evaluations by policy type and outcome, with their designs."""
    return _page("evidence", "emap")


@bp.get("/<name>.svg")
def chart_svg(name: str):
    """A chart of the search as a standalone SVG file (absolute links, text escaped)."""
    if name not in CHARTS:
        abort(404)
    search_request, data = _build(name)
    body = render_template(CHARTS[name][2], data=data, name=name, title=_(TITLES[name]),
                           link_base=base_url_of(current_app), **chart_context(search_request, name))
    return Response(body, mimetype="image/svg+xml",
                    headers={"Content-Disposition": f'attachment; filename="{name}.svg"'})


@bp.get("/<name>.csv")
def chart_csv(name: str):
    """A chart's numbers for the search as CSV (cells neutralised against formulas)."""
    if name not in CHARTS:
        abort(404)
    _, data = _build(name)
    header, rows = CHARTS[name][3](), list(CHARTS[name][4](data))
    return Response(export.stream_rows(header, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@bp.get("/api/export/evidence-map.csv")
def export_evidence_map():
    """The evidence gap map of the search, one row per policy type and outcome, as CSV."""
    rows = list(evidence.csv_rows(store_of(current_app), SearchRequest.from_args(request.args)))  # a few hundred
    return Response(export.stream_rows(evidence.CSV_COLUMNS, rows), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="evidence-map.csv"'})
