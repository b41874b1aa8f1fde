"""HTML pages: thin views that parse the request, call one function and render a template."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, render_template, request, stream_with_context
from flask_babel import gettext as _

from kb import catalog, citation_styles, citations, export, figures
from kb.extensions import base_url_of, store_of
from kb.feed import FEED_SIZE, atom
from kb.fields import FACETS_BY_NAME, facet_label
from kb.i18n import current_language
from kb.search import SORTS, BadRequest, SearchRequest, SearchResult, all_records, latest_records, run_search

bp = Blueprint("pages", __name__)


@bp.get("/")
@bp.get("/search")
def search():
    """The search page with facets, chips, sorting and pagination."""
    search_request = SearchRequest.from_args(request.args)
    result = run_search(store_of(current_app), search_request, lang=current_language())
    result.check_page()  # a person is told; the API answers an empty page
    return render_template("search.html", **page_context(result))


def page_context(result: SearchResult) -> dict:
    """Everything the search template prints, with every link prepared here."""
    r = result.request
    facets = []
    for name, facet in result.facets.items():
        values = [{**v, "toggle_url": r.toggle(name, v["value"]), "anchor": facet_anchor(name, v["value"])}
                  for v in facet["values"]]
        facets.append({"name": name, "label": facet["label"], "options": values,
                       "selected": sum(v["selected"] for v in values)})
    chips = active_filters(r)
    links = result.links("/search")
    hidden = [(k, v) for k, v in r.params() if k not in ("q", "sort", "page", "year_from", "year_to")]
    return {"result": result, "req": r, "facets": facets, "chips": chips, "links": links,
            **view_links(r), "view": "list",
            "sorts": SORTS, "hidden": hidden, "api_url": r.url("/api/search"),
            "clear_filters_url": r.url(**{f: [] for f in FACETS_BY_NAME}, exclude=[], year_from=None, year_to=None,
                                       page=None),
            "suggestion_url": r.url(q=result.suggestion, page=None) if result.suggestion else None,
            "exact_url": r.url(exact=1, page=None), "expand_url": r.url(exact=None, page=None),
            "first": (r.page - 1) * r.per_page + 1, "last": (r.page - 1) * r.per_page + len(result.hits)}


def active_filters(r: SearchRequest, base: str = "/search") -> list[dict]:
    """The request's filters as chips, each with a link to the same view without it."""
    lang = current_language()
    chips = [{"label": f"{_(FACETS_BY_NAME[name].label)}: {facet_label(FACETS_BY_NAME[name], value, lang)}",
              "remove_url": r.toggle(name, value, base)}
             for name, values in r.filters.items() for value in values]  # in the order they were chosen
    chips += [{"label": _("Without %(value)s", value=facet_label(FACETS_BY_NAME[name], value, lang)),
               "remove_url": r.toggle_exclusion(name, value, base)} for name, value in r.excludes]
    for key in ("year_from", "year_to"):
        if getattr(r, key):
            chips.append({"label": f"{_('From') if key == 'year_from' else _('to')} {getattr(r, key)}",
                          "remove_url": r.url(base, **{key: None, "page": None})})
    return chips


def facet_anchor(name: str, value: str) -> str:
    """The id of a facet value's link, also the fragment of its toggle URL (focus comes back to it)."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "_", f"{name}-{value}")


def view_links(r: SearchRequest, base: str = "/search") -> dict:
    """Links to the other views and the downloads of the same search."""
    views = {name: r.url(path, page=None) for name, path in (("list", "/search"), ("map", "/map"),
                                                                ("timeline", "/timeline"), ("gaps", "/gaps"),
                                                                ("evidence", "/evidence"))}
    downloads = {"csv": r.url("/api/export.csv", page=None, per_page=None),
                 "json": r.url("/api/export.json", page=None, per_page=None),
                 "indicators": r.url("/api/export/indicators.csv", page=None, per_page=None),
                 **{f"cite_{fmt}": r.url(path, page=None, per_page=None) for fmt, path in CITATION_EXPORTS.items()},
                 "atom": r.url("/feed.atom", page=None, per_page=None, sort=None)}
    multi = ("geographic_scale", "multi-country")
    scale = {"url": r.toggle_exclusion(*multi, base=base), "excluded": multi in r.excludes}
    return {"views": views, "downloads": downloads, "multi_country": scale}


@bp.get("/practices/<slug>")
def practice(slug: str):
    """One practice: rendered body, metadata linked to searches, sources, citation and related practices."""
    store = store_of(current_app)
    p = catalog.get_practice(store, slug)
    url = f"{_base_url()}/practices/{slug}"
    lang = current_language()
    text = catalog.reading(store, p, current_language(), request.args.get("text"))
    return render_template("practice.html", p=p, bibtex=citations.bibtex(p, url),
                           references=citation_styles.formatted(p, url),
                           key_figures=figures.key_figures(p, lang), evaluations=figures.evaluation_rows(p, lang),
                           design=figures.design_rows(p, lang),
                           json_ld=catalog.json_ld(p, url), compare_url=catalog.compare_url_for(p),
                           shown=text["shown"], text=text, base_url=_base_url())


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


def _base_url() -> str:
    return base_url_of(current_app)


@bp.get("/practices/<slug>/cite.<fmt>")
def cite(slug: str, fmt: str):
    """The practice's citation (and its sources) as BibTeX, RIS or CSL-JSON."""
    if fmt not in citations.FORMATS:
        abort(404)
    practice = catalog.get_practice(store_of(current_app), slug)
    body = citations.RENDERERS[fmt](practice, f"{_base_url()}/practices/{slug}")
    mimetype = citations.FORMATS[fmt][0]
    name = f"{slug}{'-biblatex' if fmt == 'biblatex' else ''}.{citations.EXTENSIONS[fmt]}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# The whole search as one citation file: format -> its path (the case study of each practice).
CITATION_EXPORTS = {"bib": "/api/export.bib", "biblatex": "/api/export.biblatex.bib", "ris": "/api/export.ris",
                    "json": "/api/export.csl.json"}


def _export_citations(fmt: str):
    search_request = SearchRequest.from_args(request.args)  # a bad parameter is a 400 before the first byte
    records = all_records(store_of(current_app), search_request)
    name = f"practices{'-biblatex' if fmt == 'biblatex' else ''}.{citations.EXTENSIONS[fmt]}"
    return Response(stream_with_context(citations.stream(fmt, records, _base_url())),
                    mimetype=citations.FORMATS[fmt][0],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


for _fmt, _path in CITATION_EXPORTS.items():
    bp.add_url_rule(_path, f"export_citations_{_fmt}", lambda fmt=_fmt: _export_citations(fmt), methods=["GET"])


@bp.get("/api/export.csv")
def export_csv():
    """Every practice the search selects, as CSV, streamed."""
    search_request = SearchRequest.from_args(request.args)
    records = all_records(store_of(current_app), search_request)
    return Response(stream_with_context(export.stream_csv(records, _base_url())), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="practices.csv"'})


@bp.get("/api/export/indicators.csv")
def export_indicators():
    """Every figure of every practice the search selects, one per line (long format), as CSV."""
    records = all_records(store_of(current_app), SearchRequest.from_args(request.args))
    return Response(stream_with_context(export.stream_indicators_csv(records)), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="indicators.csv"'})


@bp.get("/api/export.json")
def export_json():
    """Every practice the search selects, as JSON, streamed."""
    search_request = SearchRequest.from_args(request.args)
    records = all_records(store_of(current_app), search_request)
    query = {k: v for k, v in search_request.params()}
    body = export.stream_json(records, _base_url(), query)
    return Response(stream_with_context(body), mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="practices.json"'})


@bp.get("/feed.atom")
def feed():
    """Atom feed of new and updated practices for the collection or a search."""
    search_request = SearchRequest.from_args(request.args)
    records = latest_records(store_of(current_app), search_request, FEED_SIZE)
    query = search_request.url("")
    title = "CELAC–China poverty-reduction practices" + (f" ({query.lstrip('?')})" if query else "")
    body = atom(records, _base_url(), _base_url() + search_request.url("/feed.atom"),
                _base_url() + search_request.url("/search"), title)
    return Response(body, mimetype="application/atom+xml")


@bp.get("/compare")
def compare():
    """2 to 4 practices side by side; the selection lives in the URL."""
    unknown = [k for k in request.args if k not in ("slug", "lang")]  # the language switch adds lang
    if unknown:
        raise BadRequest(unknown[0], "unknown parameter; expected slug (repeat it for each practice)")
    slugs = request.args.getlist("slug")
    return render_template("compare.html", cmp=catalog.compare(store_of(current_app), slugs, current_language()))
