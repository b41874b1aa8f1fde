"""HTML pages: thin views that parse the request, call one function and render a template."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from kb import catalog
from kb.app import store_of
from kb.fields import FACETS_BY_NAME, facet_label
from kb.search import SORTS, SearchRequest, SearchResult, run_search

bp = Blueprint("pages", __name__)


@bp.get("/")
@bp.get("/search")
def search():
    """The search page with facets, chips, sorting and pagination."""
    search_request = SearchRequest.from_args(request.args)
    result = run_search(store_of(current_app), search_request)
    return render_template("search.html", **page_context(result))


def page_context(result: SearchResult) -> dict:
    """Everything the search template prints, with every link prepared here."""
    r = result.request
    facets = []
    for name, facet in result.facets.items():
        values = [{**v, "toggle_url": r.toggle(name, v["value"])} for v in facet["values"]]
        facets.append({"name": name, "label": facet["label"], "options": values,
                       "selected": sum(v["selected"] for v in values)})
    chips = [{"label": f"{FACETS_BY_NAME[name].label}: {facet_label(FACETS_BY_NAME[name], value)}",
              "remove_url": r.toggle(name, value)}
             for name, values in r.filters.items() for value in values]  # in the order they were chosen
    for key in ("year_from", "year_to"):
        if getattr(r, key):
            chips.append({"label": f"{'From' if key == 'year_from' else 'To'} {getattr(r, key)}",
                          "remove_url": r.url(**{key: None, "page": None})})
    links = result.links("/search")
    hidden = [(k, v) for k, v in r.params() if k not in ("q", "sort", "page", "year_from", "year_to")]
    return {"result": result, "req": r, "facets": facets, "chips": chips, "links": links,
            "sorts": SORTS, "hidden": hidden, "api_url": r.url("/api/search"),
            "clear_filters_url": r.url(**{f: [] for f in FACETS_BY_NAME}, year_from=None, year_to=None, page=None),
            "suggestion_url": r.url(q=result.suggestion, page=None) if result.suggestion else None,
            "first": (r.page - 1) * r.per_page + 1, "last": (r.page - 1) * r.per_page + len(result.hits)}


@bp.get("/practices/<slug>")
def practice(slug: str):
    """One practice: rendered body, metadata linked to searches, sources and related practices."""
    return render_template("practice.html", p=catalog.get_practice(store_of(current_app), slug))


@bp.get("/countries")
def countries():
    """All countries with their number of practices."""
    return render_template("browse.html", title="Countries", facet="country",
                           items=catalog.browse(store_of(current_app), "country"))


@bp.get("/policy-types")
def policy_types():
    """All policy types with their labels and number of practices."""
    return render_template("browse.html", title="Policy types", facet="policy_type",
                           items=catalog.browse(store_of(current_app), "policy_type"))


@bp.get("/about")
def about():
    """Scope of the data and how to contribute."""
    total = run_search(store_of(current_app), SearchRequest()).total
    return render_template("about.html", total=total)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says."""
    return current_app.send_static_file("favicon.svg")
