"""The JSON API: the twin of every page, plus health and an OpenAPI description."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request

from kb import catalog
from kb.extensions import store_of
from kb.openapi import openapi_document
from kb.search import BadRequest, SearchRequest, run_search
from kb.vocab import LANGUAGES

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search():
    """Search with facets; the same parameters as the search page."""
    search_request = SearchRequest.from_args(request.args)
    result = run_search(store_of(current_app), search_request, lang=search_request.lang or "en")
    return jsonify(result.to_dict("/api/search"))


@bp.get("/api/practices/<slug>")
def practice(slug: str):
    """One practice: every front-matter field plus `body_html`; with ?lang=, in that language."""
    lang = request.args.get("lang")
    if lang is not None and lang not in LANGUAGES:
        raise BadRequest("lang", f"{lang[:20]!r} is unknown; expected one of {', '.join(LANGUAGES)}")
    store = store_of(current_app)
    found = catalog.get_practice(store, slug)
    return jsonify(catalog.localized(store, found, lang) if lang else found)


@bp.get("/api/facets")
def facets():
    """The controlled vocabularies with labels in four languages."""
    return jsonify(catalog.vocabularies())


@bp.get("/api/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API."""
    return jsonify(openapi_document())


@bp.get("/healthz")
def healthz():
    """Liveness and index freshness."""
    info = store_of(current_app).info()
    return jsonify({"status": "ok", "practices": info["practices"], "last_good_versions": info["last_good"],
                    "generation": info["generation"],
                    "age_seconds": round(info["age_seconds"], 1), "checked_at": int(time.time()),
                    "read_only": bool(current_app.config.get("READ_ONLY"))})
