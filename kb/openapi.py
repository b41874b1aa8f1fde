"""The OpenAPI 3.1 document of the JSON API, built from the field and facet declarations."""

from __future__ import annotations

from functools import cache

from kb.citations import FORMATS
from kb.evidence import CSV_COLUMNS as EVIDENCE_COLUMNS
from kb.export import CSV_COLUMNS, INDICATOR_COLUMNS, LIST_SEPARATOR
from kb.fields import (
    DESIGN_KEYS,
    EVALUATION_KEYS,
    FACETS,
    FIELDS,
    INDICATOR_KEYS,
    SOURCE_KEYS,
    SOURCE_OPTIONAL_KEYS,
)
from kb.search import EXCLUDE, MAX_PAGE, MAX_QUERY_CHARS, SORTS, max_values
from kb.vocab import LANGUAGES

_STR_LIST = {"type": "array", "items": {"type": "string"}}


def _error(text: str) -> dict:
    return {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


_400 = _error("A parameter that cannot be honoured (unknown, repeated, malformed or out of range); "
              "`error.parameter` names it")
_404 = _error("No such practice")
_503 = _error("The search index has not been built yet")


def _facet_param(facet) -> dict:
    schema = {"type": "string"}
    if facet.vocabulary is not None:
        schema["enum"] = facet.vocabulary().values()
    else:
        schema["pattern"] = "^(19|20)[0-9]0s$"
    return {"name": facet.name, "in": "query", "required": False, "explode": True,
            "description": f"{facet.label}; repeat to combine values with OR.",
            "schema": {"type": "array", "items": schema, "maxItems": max_values(facet.name)}}


def _search_params() -> list[dict]:
    scalars = [
        ("q", {"type": "string", "maxLength": MAX_QUERY_CHARS}, "Free-text query."),
        ("year_from", {"type": "integer", "minimum": 1900, "maximum": 2100}, "Earliest start year."),
        ("year_to", {"type": "integer", "minimum": 1900, "maximum": 2100},
         "Latest start year; before year_from, nothing is selected."),
        ("sort", {"type": "string", "enum": list(SORTS), "default": "relevance"}, "Order of hits."),
        ("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
         "Page number, from 1; a page beyond the last has no hits."),
        ("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}, "Hits per page."),
        ("exact", {"type": "integer", "enum": [0, 1], "default": 0},
         "1 to search only the words typed, without country names, policy-type labels and synonyms."),
        ("lang", {"type": "string", "enum": ["en", "es", "pt", "zh"], "default": "en"}, "Language of labels."),
    ]
    exclude = {"name": EXCLUDE, "in": "query", "required": False, "explode": True,
               "description": "facet:value, e.g. geographic_scale:multi-country: leave out the practices having "
                              "that value (every count too); repeat for more.",
               "schema": {"type": "array", "items": {"anyOf": [
                   {"type": "string", "enum": [f"{f.name}:{v}" for f in FACETS if f.vocabulary is not None
                                               for v in f.vocabulary().values()]},
                   {"type": "string", "pattern": "^decade:(19|20)[0-9]0s$"}]}}}
    # an empty value counts as not given (a form's empty year field), but `exact` takes 0 or 1 only
    return [{"name": n, "in": "query", "required": False, "schema": s, "description": d,
             **({"allowEmptyValue": True} if n != "exact" else {})} for n, s, d in scalars] + [
        _facet_param(f) for f in FACETS] + [exclude]


def _block_item(keys) -> dict:
    """A JSON schema for one item of a comparable-data block, from its declared keys."""
    types = {"int": {"type": "integer"}, "number": {"type": "number"}, "source": {"type": "integer", "minimum": 1},
             "list": _STR_LIST}
    props = {}
    for key in keys:
        schema = dict(types.get(key.kind, {"type": "string"}))
        if key.vocabulary is not None and key.kind == "enum":
            schema["enum"] = key.vocabulary().values()
        if not key.required:
            schema["type"] = [schema["type"], "null"]
            schema.update({"enum": [*schema["enum"], None]} if "enum" in schema else {})
        props[key.name] = {**schema, "description": key.doc}
    return {"type": "object", "properties": props, "required": [k.name for k in keys if k.required]}


BLOCK_SCHEMAS = {"design": _block_item(DESIGN_KEYS),
                 "indicators": {"type": "array", "items": _block_item(INDICATOR_KEYS)},
                 "evaluations": {"type": "array", "items": _block_item(EVALUATION_KEYS)}}


SOURCE_SCHEMA = {"type": "object", "required": list(SOURCE_KEYS), "properties": {
    "title": {"type": "string"}, "publisher": {"type": "string"}, "year": {"type": ["integer", "null"]},
    "url": {"type": "string"}, "authors": {**_STR_LIST, "description": SOURCE_OPTIONAL_KEYS[0].doc},
    "doi": {"type": "string", "description": SOURCE_OPTIONAL_KEYS[1].doc},
    "container": {"type": "string", "description": SOURCE_OPTIONAL_KEYS[2].doc}}}
CITATION_MEDIA = {"/api/export.bib": ("BibTeX (@misc entries)", "application/x-bibtex"),
                  "/api/export.biblatex.bib": ("BibLaTeX (@online entries)", "application/x-bibtex"),
                  "/api/export.ris": ("RIS", "application/x-research-info-systems"),
                  "/api/export.csl.json": ("CSL-JSON (an array of items)", "application/vnd.citationstyles.csl+json")}


def _citation_exports() -> dict:
    return {path: {"get": {
        "summary": f"A citation of every practice the search selects (all pages), as {name}, streamed",
        "description": "Same parameters as /api/search (checked before the first byte; page and per_page are "
                       "then ignored). One entry per practice (the case study, dated by its last review); the "
                       "sources of each practice are in /practices/{slug}/cite.{format}.",
        "parameters": _search_params(),
        "responses": {"200": {"description": name, "content": {media: {"schema": {
            "type": "array" if path.endswith(".json") else "string"}}}}, "400": _400, "503": _503}}}
        for path, (name, media) in CITATION_MEDIA.items()}


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
                "list": _STR_LIST, "slugs": _STR_LIST, "sdgs": _STR_LIST, "date": {"type": "string"},
                "translations": {"type": "object"},
                "sources": {"type": "array", "items": SOURCE_SCHEMA},
                **BLOCK_SCHEMAS}.get(f.kind, {"type": ["string", "null"]})
        props[f.name] = {**kind, "description": f.doc}
    return {"type": "object", "properties": props}


@cache
def openapi_document() -> dict:
    """The whole OpenAPI document."""
    hit = {"type": "object", "properties": {**{k: {} for k in (
        "slug", "url", "title", "countries", "policy_types", "year_start", "year_end", "status", "language",
        "summary", "snippet", "score", "translated")}, **BLOCK_SCHEMAS}}
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
                                                  "400": _400, "503": _503}}},
            "/api/practices/{slug}": {"get": {"summary": "One practice", "parameters": [
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": list(LANGUAGES)},
                 "description": "Title, summary and body in this language where translations have them."}],
                "responses": {"200": ok({"$ref": "#/components/schemas/Practice"}, "The practice"),
                              "400": _400, "404": _404, "503": _503}}},
            "/api/export.csv": {"get": {
                "summary": "Every practice the search selects (all pages), as CSV, streamed",
                "description": "Same parameters as /api/search (page and per_page are checked, then ignored). "
                               f"Columns, in this order, never renamed or removed: {', '.join(CSV_COLUMNS)}. Lists "
                               f"are joined with '{LIST_SEPARATOR}'. UTF-8 with a byte-order mark. A cell starting "
                               "with =, +, -, @, a tab or a carriage return has a single quote in front, so no "
                               "spreadsheet runs it as a formula. A failure after the first byte drops the "
                               "connection before the end of the body.",
                "parameters": _search_params(),
                "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                              "400": _400, "503": _503}}},
            "/api/export/indicators.csv": {"get": {
                "summary": "Every figure of every practice the search selects, one per line (long format), as CSV",
                "description": "Same parameters as /api/search (page and per_page are ignored). Columns: "
                               f"{', '.join(INDICATOR_COLUMNS)}; several countries joined with '{LIST_SEPARATOR}'; "
                               "kind is count, percent or money; source_url is the figure's source.",
                "parameters": _search_params(),
                "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                              "400": _400, "503": _503}}},
            "/api/export/evidence-map.csv": {"get": {
                "summary": "The evidence gap map of the search: coded evaluations by policy type and outcome, as CSV",
                "description": "Same parameters as /api/search (page and per_page are ignored). One row per policy "
                               f"type and outcome, empty cells included; columns: {', '.join(EVIDENCE_COLUMNS)} "
                               "(evaluations by design). A practice counts under each of its policy types.",
                "parameters": _search_params(),
                "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                              "400": _400, "503": _503}}},
            "/api/export.json": {"get": {
                "summary": "Every practice the search selects (all pages), as JSON, streamed",
                "description": "{query, practices: [...]}: each practice has its front-matter fields (design, "
                               "indicators and evaluations included), regions, url and latest_indicators (per "
                               "indicator, the entry of its latest year). A failure after the first byte drops the "
                               "connection before the end of the body.",
                "parameters": _search_params(),
                "responses": {"200": ok({"type": "object", "required": ["query", "practices"], "properties": {
                    "query": {"type": "object"}, "practices": {"type": "array", "items": {"type": "object"}}}},
                    "Practices"), "400": _400, "503": _503}}},
            **_citation_exports(),
            "/feed.atom": {"get": {
                "summary": "Atom feed of new and updated practices for the collection or a search",
                "parameters": _search_params(),
                "responses": {"200": {"description": "Atom",
                                      "content": {"application/atom+xml": {"schema": {"type": "string"}}}},
                              "400": _400, "503": _503}}},
            "/practices/{slug}/cite.{format}": {"get": {
                "summary": "Citation of a practice and its sources: format "
                           + ", ".join(f"{fmt} ({name})" for fmt, (_, name) in FORMATS.items()),
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                               {"name": "format", "in": "path", "required": True,
                                "schema": {"type": "string", "enum": list(FORMATS)}}],
                "responses": {"200": {"description": "The citation, in the media type of its format", "content": {
                    mimetype: {"schema": {"type": "array" if fmt == "json" else "string"}}
                    for fmt, (mimetype, _) in FORMATS.items()}},
                    "404": _404, "503": _503}}},
            "/api/facets": {"get": {"summary": "Vocabularies with labels in en, es, pt, zh",
                                    "responses": {"200": ok({"type": "object"}, "Vocabularies")}}},
            "/healthz": {"get": {"summary": "Health and index generation",
                                 "responses": {"200": ok({"type": "object"}, "Healthy"), "503": _503}}},
        },
        "components": {"schemas": {
            "SearchResult": search_schema, "Practice": _practice_schema(),
            "Error": {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {
                "error": {"type": "object", "required": ["status", "message"], "additionalProperties": False,
                          "properties": {"status": {"type": "integer"}, "message": {"type": "string"},
                                         "parameter": {"type": "string"}}}}},
        }},
    }
