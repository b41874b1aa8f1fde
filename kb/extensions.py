"""What the app factory sets up once and the blueprints use: the process's index store.

A module of its own so that views and the API never import the factory's module (kb.app),
which imports them.
"""

from __future__ import annotations

from flask import Flask, current_app

from kb.config import Settings
from kb.engine import Store, open_store


def init_store(app: Flask, settings: Settings) -> None:
    """Open the index store of an app (one per process, shared by its threads)."""
    app.extensions["kb_store"] = open_store(settings)


def store_of(app: Flask | None = None) -> Store:
    """The index store of an app (default: the current one)."""
    return (app or current_app).extensions["kb_store"]


def base_url_of(app: Flask | None = None) -> str:
    """The configured base URL of absolute links, or (in development) the current request's."""
    from flask import request

    return (app or current_app).config["SETTINGS"].base_url or request.host_url.rstrip("/")
