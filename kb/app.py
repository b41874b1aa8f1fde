"""The Flask application factory: one store per process, security headers, errors at the edge."""

from __future__ import annotations

import re

from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask_compress import Compress
from werkzeug.exceptions import MethodNotAllowed, SecurityError

from kb import config
from kb.catalog import NotFound
from kb.errors import IndexDamaged, IndexMissing
from kb.extensions import init_store
from kb.fields import FACETS_BY_NAME, facet_label
from kb.search import BadRequest

# Room for every documented parameter at its limits (a 500-character query of 4-byte characters,
# percent-encoded, and every facet value): a request the API describes as valid is never refused.
MAX_QUERY_STRING = 16384
# Answered in JSON, errors included: the API and the downloads made for programs.
_MACHINE_PATH_RE = re.compile(r"^/(api/|healthz$|feed\.atom$|practices/[^/]+/cite\.[^/]+$)")
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
    settings = settings or config.settings()
    # Flask checks each request's Host against TRUSTED_HOSTS and answers 400 (SecurityError) to others
    app.config.update(SETTINGS=settings, JSON_SORT_KEYS=False, TRUSTED_HOSTS=settings.allowed_hosts and
                      list(settings.allowed_hosts), **COMPRESSION, **overrides)
    if settings.base_url is None and not (app.debug or app.testing):
        raise config.ConfigError("KB_BASE_URL is not set: absolute links would take the host of each request; "
                                 "set it, or run `kb serve`, which chooses a default")
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    init_store(app, app.config["SETTINGS"])
    app.jinja_env.globals.update(label=_label, scale_label=_scale_label)
    app.jinja_env.policies["json.dumps_kwargs"] = {"ensure_ascii": False}

    from kb import api, caching, chart_views, i18n, views

    i18n.init_app(app)
    Compress(app)  # registered before the validators, so it runs after them and sees their ETag
    caching.init_app(app)

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(chart_views.bp)
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
    return bool(_MACHINE_PATH_RE.match(request.path))


def _not_allowed(error: MethodNotAllowed):
    response = make_response(_error(405, "This method is not allowed here."))
    response.headers["Allow"] = ", ".join(sorted(error.valid_methods or ()))  # RFC 9110, 15.5.6
    return response


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
def _untrusted_host(error: SecurityError):
    # no template: without a trusted host Flask has no URL adapter to build the page's links
    message = "This site does not answer for this host name."
    if _wants_json():
        return jsonify({"error": {"status": 400, "message": message, "parameter": "Host"}}), 400
    return Response(message + "\n", 400, mimetype="text/plain")


def _register_errors(app: Flask) -> None:
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_error_handler(BadRequest, lambda e: _error(400, str(e), e.param))
    app.register_error_handler(NotFound, lambda e: _error(404, str(e)))
    app.register_error_handler(IndexMissing, lambda e: _error(
        503, "The search index has not been built yet. An administrator must run `kb index`."))
    app.register_error_handler(IndexDamaged, _index_damaged)
    app.register_error_handler(404, lambda e: _error(404, "No page at this address."))
    app.register_error_handler(405, _not_allowed)
    app.register_error_handler(500, lambda e: _error(500, "Something went wrong on our side."))
