"""The interface in four languages: locale choice, message catalogs and locale-aware formatting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel, format_date, format_decimal, get_locale

from kb.vocab import LANGUAGES

COOKIE = "kb_lang"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGE_NAMES = {"en": "English", "es": "Español", "pt": "Português", "zh": "中文"}


def N_(text: str) -> str:  # noqa: N802 - the conventional name for "extract, translate later"
    """Mark a string for extraction; it is translated where it is shown."""
    return text


# Strings defined in Python data (facet titles, sort names, comparison rows) for the catalogs.
DATA_STRINGS = (
    N_("Country"), N_("Region"), N_("Policy type"), N_("Status"), N_("Language"), N_("Evidence"),
    N_("Start year"), N_("Relevance"), N_("Newest first"), N_("Oldest first"), N_("Title A-Z"),
    N_("Countries"), N_("Policy types"), N_("Years"), N_("Target groups and keywords"), N_("Scale"),
    N_("Results"), N_("Sources"), N_("National"), N_("Subnational"), N_("Local"), N_("Multi-country"),
    N_("Randomised controlled trial"), N_("Quasi-experimental evaluation"), N_("Mixed methods"),
    N_("Qualitative study"), N_("Monitoring data"), N_("Descriptive only"),
    N_("Impact evaluation"), N_("Evaluated outcome"), N_("Conditionality"), N_("Benefits"), N_("Targeting"),
    N_("Target group"), N_("Evaluations"),
)


def select_locale() -> str:
    """?lang= first (and remembered), then the cookie, then the browser's Accept-Language."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        g.remember_lang = asked
        return asked
    saved = request.cookies.get(COOKIE)
    if saved in LANGUAGES:
        return saved
    return request.accept_languages.best_match(LANGUAGES) or "en"


def current_language() -> str:
    """The two-letter language of the current request."""
    return str(get_locale().language) if request else "en"


def _remember(response):
    lang = g.get("remember_lang")
    if lang:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def _language_links() -> list[dict]:
    """The current page in each language (the switch keeps the search)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    links = []
    for lang in LANGUAGES:
        from urllib.parse import urlencode

        query = urlencode(args + [("lang", lang)])
        links.append({"lang": lang, "name": LANGUAGE_NAMES[lang], "url": f"{request.path}?{query}",
                      "current": lang == current_language()})
    return links


def _date(value) -> str:
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(day, format="long")


def init_app(app: Flask) -> None:
    """Attach Babel, the cookie that remembers the language and the template helpers."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    Babel(app, locale_selector=select_locale)
    app.after_request(_remember)
    app.jinja_env.globals.update(current_language=current_language, language_links=_language_links,
                                 language_name=LANGUAGE_NAMES.get)
    app.jinja_env.filters.update(localdate=_date, number=format_decimal)
