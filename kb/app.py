"""The Flask application factory: one store per process, security headers, errors at the edge."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_compress import Compress

from kb import config
from kb.catalog import NotFound
from kb.errors import IndexDamaged, IndexMissing
from kb.extensions import init_store
from kb.fields import FACETS_BY_NAME, facet_label
from kb.search import BadRequest

MAX_QUERY_STRING = 4096
# Brotli where the browser takes it, else gzip; streamed exports in brotli only (gzip cannot be
# flushed chunk by chunk). Small answers are not worth the bytes of the header.
COMPRESSION = {
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["br"],
    "COMPRESS_MIN_SIZE": 1024,
    "COMPRESS_BR_LEVEL": 4,
    "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/csv", "text/javascript", "application/javascript",
                           "application/json", "application/atom+xml", "application/xml", "image/svg+xml",
                           "application/x-bibtex", "application/x-research-info-systems",
                           "application/vnd.citationstyles.csl+json"],
}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def create_app(settings: config.Settings | None = None, **overrides) -> Flask:
    """Build the app for `settings` (default: from the environment)."""
    app = Flask("kb", template_folder=str(config.TEMPLATES_DIR), static_folder=str(config.STATIC_DIR))
    app.config.update(SETTINGS=settings or config.settings(), JSON_SORT_KEYS=False, **COMPRESSION, **overrides)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    init_store(app, app.config["SETTINGS"])
    app.jinja_env.globals.update(label=_label, scale_label=_scale_label)
    app.jinja_env.policies["json.dumps_kwargs"] = {"ensure_ascii": False}

    from kb import api, caching, i18n, views

    i18n.init_app(app)
    Compress(app)  # registered before the validators, so it runs after them and sees their ETag
    caching.init_app(app)

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    _register_errors(app)
    app.before_request(_limit_query_string)
    app.after_request(_security_headers)
    return app


def _scale_label(value: str) -> str:
    from kb import vocab
    from kb.i18n import current_language

    return vocab.scales().label(value, current_language())


def _label(facet: str, value: str) -> str:
    from kb.i18n import current_language

    return facet_label(FACETS_BY_NAME[facet], value, current_language())


def _limit_query_string():
    if len(request.query_string) > MAX_QUERY_STRING:
        raise BadRequest("query string", f"is longer than {MAX_QUERY_STRING} bytes")


def _security_headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _error(status: int, message: str, param: str | None = None):
    if _wants_json():
        body = {"error": {"status": status, "message": message}}
        if param:
            body["error"]["parameter"] = param
        return jsonify(body), status
    g.error_status = status
    return render_template("error.html", status=status, message=message), status


def _index_damaged(exc: IndexDamaged):
    current_app.logger.error("index damaged: %s", exc)  # the path is for the log, not the visitor
    return _error(503, "The search index is damaged. An administrator must run `kb index`, which rebuilds it.")


def _register_errors(app: Flask) -> None:
    app.register_error_handler(BadRequest, lambda e: _error(400, str(e), e.param))
    app.register_error_handler(NotFound, lambda e: _error(404, str(e)))
    app.register_error_handler(IndexMissing, lambda e: _error(
        503, "The search index has not been built yet. An administrator must run `kb index`."))
    app.register_error_handler(IndexDamaged, _index_damaged)
    app.register_error_handler(404, lambda e: _error(404, "No page at this address."))
    app.register_error_handler(405, lambda e: _error(405, "This method is not allowed here."))
    app.register_error_handler(500, lambda e: _error(500, "Something went wrong on our side."))
