"""The JSON API: the twin of every page, plus health and an OpenAPI description."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request

from kb import catalog
from kb.extensions import store_of
from kb.openapi import openapi_document
from kb.search import SearchRequest, run_search

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search():
    """Search with facets; the same parameters as the search page."""
    search_request = SearchRequest.from_args(request.args)
    result = run_search(store_of(current_app), search_request, lang=search_request.lang or "en")
    return jsonify(result.to_dict("/api/search"))


@bp.get("/api/practices/<slug>")
def practice(slug: str):
    """One practice: every front-matter field plus `body_html`."""
    return jsonify(catalog.get_practice(store_of(current_app), slug))


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
