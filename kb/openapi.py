"""The OpenAPI 3.1 document of the JSON API, built from the field and facet declarations."""

from __future__ import annotations

from functools import cache

from kb.export import CSV_COLUMNS, LIST_SEPARATOR
from kb.fields import FACETS, FIELDS
from kb.search import MAX_QUERY_CHARS, SORTS
from kb.vocab import LANGUAGES

_ERROR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_STR_LIST = {"type": "array", "items": {"type": "string"}}


def _facet_param(facet) -> dict:
    schema = {"type": "string"}
    if facet.vocabulary is not None:
        schema["enum"] = facet.vocabulary().values()
    else:
        schema["pattern"] = "^(19|20)[0-9]0s$"
    return {"name": facet.name, "in": "query", "required": False, "explode": True,
            "description": f"{facet.label}; repeat to combine values with OR.",
            "schema": {"type": "array", "items": schema}}


def _search_params() -> list[dict]:
    scalars = [
        ("q", {"type": "string", "maxLength": MAX_QUERY_CHARS}, "Free-text query."),
        ("year_from", {"type": "integer", "minimum": 1900, "maximum": 2100}, "Earliest start year."),
        ("year_to", {"type": "integer", "minimum": 1900, "maximum": 2100}, "Latest start year."),
        ("sort", {"type": "string", "enum": list(SORTS), "default": "relevance"}, "Order of hits."),
        ("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number, from 1."),
        ("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}, "Hits per page."),
        ("exact", {"type": "integer", "enum": [0, 1], "default": 0},
         "1 to search only the words typed, without country names, policy-type labels and synonyms."),
        ("lang", {"type": "string", "enum": ["en", "es", "pt", "zh"], "default": "en"}, "Language of labels."),
    ]
    return [{"name": n, "in": "query", "required": False, "schema": s, "description": d} for n, s, d in scalars] + [
        _facet_param(f) for f in FACETS]


def _practice_schema() -> dict:
    props = {"slug": {"type": "string"}, "url": {"type": "string"}, "body_html": {"type": "string"},
             "regions": _STR_LIST, "edit_url": {"type": "string"}, "related_practices": {"type": "array"},
             "original_title": {"type": "string", "description": "The title in the original's language."},
             "body_language": {"type": "string", "enum": list(LANGUAGES),
                               "description": "Language of body_html: the one asked for (?lang=) if the body "
                                              "is translated into it, else the original's."},
             "translation": {"type": ["object", "null"], "description": "null when body_html is the original; "
                             "else {kind: machine|human, reviewer, stale}, stale when the original changed since.",
                             "properties": {"kind": {"type": "string", "enum": ["machine", "human"]},
                                            "reviewer": {"type": ["string", "null"]}, "stale": {"type": "boolean"}}},
             "languages": {**_STR_LIST, "description": "Languages the body is available in (original and translations)."},
             "versions": {"type": "object", "description": "Per translated language: {title, summary, local_name, "
                          "kind, reviewer, stale}."}}
    for f in FIELDS:
        kind = {"int": {"type": "integer"}, "year_end": {"type": ["integer", "null"]},
                "list": _STR_LIST, "slugs": _STR_LIST, "sdgs": _STR_LIST,
                "sources": {"type": "array", "items": {"type": "object"}}}.get(f.kind, {"type": ["string", "null"]})
        props[f.name] = {**kind, "description": f.doc}
    return {"type": "object", "properties": props}


@cache
def openapi_document() -> dict:
    """The whole OpenAPI document."""
    hit = {"type": "object", "properties": {k: {} for k in (
        "slug", "url", "title", "countries", "policy_types", "year_start", "year_end", "status", "language",
        "summary", "snippet", "score", "translated")}}
    hit["properties"]["matched_language"] = {
        "type": ["string", "null"], "enum": [*LANGUAGES, None],
        "description": "Language of the version of the text the query matched (the snippet's); null without query text."}
    search_schema = {"type": "object", "properties": {
        "query": {"type": "string"}, "total": {"type": "integer"}, "page": {"type": "integer"},
        "per_page": {"type": "integer"}, "pages": {"type": "integer"}, "hits": {"type": "array", "items": hit},
        "facets": {"type": "object", "description": "Per facet: label, mode ('disjunctive') and values "
                   "[{value, label, count, selected}]; each facet's counts apply all other filters."},
        "suggestion": {"type": ["string", "null"]}, "links": {"type": "object"}}}
    ok = lambda ref, text: {"description": text, "content": {"application/json": {"schema": ref}}}  # noqa: E731
    return {
        "openapi": "3.1.0",
        "info": {"title": "CELAC-China poverty-reduction knowledge base API", "version": "1.0.0",
                 "description": "Faceted search over case studies of poverty-reduction practices."},
        "paths": {
            "/api/search": {"get": {"summary": "Search practices", "parameters": _search_params(),
                                    "responses": {"200": ok({"$ref": "#/components/schemas/SearchResult"}, "Results"),
                                                  "400": _ERROR, "503": _ERROR}}},
            "/api/practices/{slug}": {"get": {"summary": "One practice", "parameters": [
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": list(LANGUAGES)},
                 "description": "Title, summary and body in this language where translations have them."}],
                "responses": {"200": ok({"$ref": "#/components/schemas/Practice"}, "The practice"),
                              "404": _ERROR, "503": _ERROR}}},
            "/api/export.csv": {"get": {
                "summary": "Every practice the search selects (all pages), as CSV, streamed",
                "description": "Same parameters as /api/search (page and per_page are ignored). Columns, in this "
                               f"order, never renamed or removed: {', '.join(CSV_COLUMNS)}. Lists are joined with "
                               f"'{LIST_SEPARATOR}'. UTF-8 with a byte-order mark.",
                "parameters": _search_params(),
                "responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}, "400": _ERROR}}},
            "/api/export.json": {"get": {
                "summary": "Every practice the search selects (all pages), as JSON, streamed",
                "description": "{query, practices: [...]}: each practice has its front-matter fields, regions and url.",
                "parameters": _search_params(),
                "responses": {"200": ok({"type": "object"}, "Practices"), "400": _ERROR}}},
            "/feed.atom": {"get": {
                "summary": "Atom feed of new and updated practices for the collection or a search",
                "parameters": _search_params(),
                "responses": {"200": {"description": "Atom", "content": {"application/atom+xml": {}}}}}},
            "/practices/{slug}/cite.{format}": {"get": {
                "summary": "Citation of a practice and its sources: format bib (BibTeX), ris (RIS) or json (CSL-JSON)",
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                               {"name": "format", "in": "path", "required": True,
                                "schema": {"type": "string", "enum": ["bib", "ris", "json"]}}],
                "responses": {"200": {"description": "The citation"}, "404": _ERROR}}},
            "/api/facets": {"get": {"summary": "Vocabularies with labels in en, es, pt, zh",
                                    "responses": {"200": ok({"type": "object"}, "Vocabularies")}}},
            "/healthz": {"get": {"summary": "Health and index generation",
                                 "responses": {"200": ok({"type": "object"}, "Healthy"), "503": _ERROR}}},
        },
        "components": {"schemas": {
            "SearchResult": search_schema, "Practice": _practice_schema(),
            "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "status": {"type": "integer"}, "message": {"type": "string"}, "parameter": {"type": "string"}}}}},
        }},
    }
