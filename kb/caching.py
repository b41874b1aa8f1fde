"""HTTP validators and caching: ETags tied to the index generation, hashed static URLs.

A page depends only on its URL, the interface language, the canonical host and the index
generation, so its ETag is a hash of those, known before any work: a matching conditional request
is answered 304 without searching or rendering. Static files carry a hash of their content in
their URL (`?v=...`) and may be cached for a year.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, request

from kb.errors import IndexMissing
from kb.extensions import store_of
from kb.i18n import current_language

STATIC_MAX_AGE = 365 * 24 * 3600
UNCACHED = frozenset({"api.healthz", "static"})  # health is always fresh; static has its own


def init_app(app: Flask) -> None:
    """Answer conditional GETs early, set validators on pages and hash the static URLs."""
    app.before_request(_not_modified)
    app.after_request(_validators)
    app.url_defaults(_static_version)


def page_etag() -> str | None:
    """The ETag of the current GET page, or None where it has none."""
    if request.method not in ("GET", "HEAD") or request.endpoint in UNCACHED or request.endpoint is None:
        return None
    try:
        generation = store_of().snapshot().generation
    except IndexMissing:
        return None  # the page will say so; nothing to validate
    key = "\n".join((generation, request.full_path, current_language(), request.host_url,
                     current_app.config.get("KB_VERSION", "")))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _not_modified():
    etag = page_etag()
    if etag is None:
        return None
    # Flask-Compress appends ":<coding>" to strong ETags it compresses, so accept both forms
    matched = [tag for tag in request.if_none_match.as_set() if tag.split(":", 1)[0] == etag]
    if matched or request.if_none_match.star_tag:
        response = current_app.response_class(status=304)
        response.set_etag(matched[0] if matched else etag)  # the tag of the copy the client holds
        response.headers["Cache-Control"] = "no-cache"
        response.vary.update(("Accept-Language", "Cookie"))
        return response
    return None


def _validators(response):
    if request.endpoint == "static":
        return _static_response(response)
    if response.status_code != 200 or response.get_etag()[0]:
        return response
    etag = page_etag()
    if etag is not None:
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-cache"  # revalidate: a 304 is cheap
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def _static_response(response):
    if response.status_code == 200:
        # our static files are a few KB: read into memory, they are gzip-compressed like pages
        # (a streamed file would only get the streaming codings) and keep a strong ETag
        response.direct_passthrough = False
        response.make_sequence()
    if request.args.get("v") and request.args["v"] == static_version(request.view_args["filename"]):
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = STATIC_MAX_AGE
        response.cache_control.immutable = True
    return response


def _static_version(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "v" not in values and "filename" in values:
        version = static_version(values["filename"])
        if version:
            values["v"] = version


def static_version(filename: str) -> str | None:
    """A short hash of a static file's content (None if there is no such file)."""
    folder = Path(current_app.static_folder)
    path = (folder / filename).resolve()
    if folder.resolve() not in path.parents or not path.is_file():
        return None
    stat = path.stat()
    return _content_hash(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _content_hash(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
