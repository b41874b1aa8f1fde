"""Single practices and browse lists, read from the index, as plain data for pages and the API."""

from __future__ import annotations

from kb import figures, vocab
from kb.config import REPO_EDIT_URL
from kb.errors import KbError
from kb.fields import FACETS_BY_NAME, facet_label
from kb.render import to_html
from kb.search import SearchRequest, run_search

RELATED_LIMIT = 6


class NotFound(KbError):
    """No practice has this slug."""


def _record(snap, slug: str) -> tuple[int, dict]:
    """The document number and stored record of a slug, or `NotFound`."""
    docnum = snap.doc_for_slug(slug)
    if docnum is None:
        raise NotFound(f"slug: no practice {slug!r}")
    return docnum, snap.record(docnum)


def get_practice(store, slug: str) -> dict:
    """A practice's metadata, rendered body, related practices and edit link."""
    snap = store.snapshot()
    docnum, record = _record(snap, slug)
    return {**{k: v for k, v in record.items() if k not in ("body", "path")},
            "body_html": to_html(record["body"]), "body_language": record["language"], "translation": None,
            "original_title": record["title"],
            "related_practices": _related(snap, docnum, record),
            "edit_url": REPO_EDIT_URL + "practices/" + record["path"],
            "url": f"/practices/{slug}"}


def in_language(practice: dict, lang: str) -> dict:
    """The title and summary to show in `lang`: a translation when there is one, else the original."""
    entry = practice.get("translations", {}).get(lang) if lang != practice["language"] else None
    if not entry:
        return {"lang": practice["language"], "title": practice["title"], "summary": practice["summary"],
                "translated": False}
    return {"lang": lang, "title": entry["title"], "summary": entry["summary"], "translated": True,
            "kind": entry["kind"], "reviewer": entry["reviewer"]}


def text_in(store, practice: dict, lang: str) -> dict:
    """The body to show in `lang`: its translation when there is one (with its kind, reviewer
    and whether it is stale), else the original's."""
    original = practice["language"]
    body = None
    if lang != original and lang in practice.get("versions", {}):
        snap = store.snapshot()
        docnum = snap.doc_for_slug(practice["slug"])
        body = snap.body_in(docnum, lang) if docnum is not None else None  # None: the index just changed
    if body is None:
        return {"body_language": original, "body_html": practice["body_html"], "translation": None}
    version = practice["versions"][lang]
    return {"body_language": lang, "body_html": to_html(body),
            "translation": {k: version[k] for k in ("kind", "reviewer", "stale")}}


def reading(store, practice: dict, ui_lang: str, asked: str | None = None) -> dict:
    """What a practice page shows: the version of the text asked for (`?text=`), else the one in
    the reader's language if there is one, else the original; its title and summary; and a link
    to every version of the text."""
    original, langs = practice["language"], practice.get("languages") or [practice["language"]]
    lang = asked if asked in langs else ui_lang
    body = text_in(store, practice, lang)
    url = f"/practices/{practice['slug']}"
    # `?text=` picks the text and leaves the interface as it is; `page_url` is the page wholly in v
    versions = [{"lang": v, "name": vocab.languages().label(v, v), "url": f"{url}?text={v}", "page_url": f"{url}?lang={v}",
                 "current": v == body["body_language"], "original": v == original} for v in langs]
    name = vocab.languages().label(original, ui_lang)
    return {**body, "shown": in_language(practice, lang), "versions": versions, "original_url": f"{url}?text={original}",
            # Spanish and Portuguese write language names in lowercase within a sentence
            "original_name": name.lower() if ui_lang in ("es", "pt") else name}


def localized(store, practice: dict, lang: str) -> dict:
    """A practice as the API gives it in `lang`: that language's title, summary and body where
    translations have them, the body's language and the translation's kind, reviewer and staleness."""
    shown = in_language(practice, lang)
    return {**practice, "title": shown["title"], "summary": shown["summary"], "original_title": practice["title"],
            **text_in(store, practice, lang)}


def _related(snap, docnum: int, record: dict) -> list[dict]:
    """The `related` field first, then more-like-this from the index, without repeats."""
    docs = [d for d in map(snap.doc_for_slug, record["related"]) if d is not None]
    for other in snap.more_like(docnum, record, RELATED_LIMIT + len(docs)):
        if other not in docs and other != docnum:
            docs.append(other)
    explicit = set(record["related"])
    out = []
    for other in docs[: max(RELATED_LIMIT, len(explicit))]:
        rec = snap.record(other)
        out.append({"slug": rec["slug"], "title": rec["title"], "countries": rec["countries"],
                    "year_start": rec["year_start"], "url": f"/practices/{rec['slug']}",
                    "declared": rec["slug"] in explicit})
    return out


def browse(store, facet_name: str) -> list[dict]:
    """Every value of a facet's vocabulary with its number of practices (zero included)."""
    result = run_search(store, SearchRequest.build(per_page=1))
    counts = {v["value"]: v["count"] for v in result.facets[facet_name]["values"]}
    facet = FACETS_BY_NAME[facet_name]
    return [{"value": term.value, "label": facet_label(facet, term.value), "count": counts.get(term.value, 0),
             "url": SearchRequest().url(**{facet_name: [term.value]})}
            for term in facet.vocabulary()]


def vocabularies() -> dict:
    """The controlled vocabularies with labels in four languages, for `/api/facets`."""
    out = {}
    for name, facet in FACETS_BY_NAME.items():
        if facet.vocabulary is None:
            continue
        out[name] = {"label": facet.label,
                     "values": [{"value": t.value, "labels": {lang: t.label(lang) for lang in vocab.LANGUAGES}}
                                for t in facet.vocabulary()]}
    return out


RESULTS_HEADINGS = ("results", "resultados", "成效", "结果")
COMPARE_MIN, COMPARE_MAX = 2, 4


def results_section(body: str, limit: int = 700) -> str:
    """The plain text of a case study's Results section (in any of its languages), shortened."""
    from kb.render import plain_text

    lines, inside, taken = body.splitlines(), False, []
    for line in lines:
        if line.startswith("## "):
            if inside:
                break
            inside = line[3:].strip().lower() in RESULTS_HEADINGS
        elif inside:
            taken.append(line)
    text = plain_text("\n".join(taken))
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def compare(store, slugs: list[str], lang: str = "en") -> dict:
    """2 to 4 practices side by side, row by row, with the rows whose values differ marked."""
    from kb.search import BadRequest

    slugs = list(dict.fromkeys(slugs))
    if not COMPARE_MIN <= len(slugs) <= COMPARE_MAX:
        raise BadRequest("slug", f"choose {COMPARE_MIN} to {COMPARE_MAX} practices to compare, got {len(slugs)}")
    snap = store.snapshot()
    records = [_record(snap, slug)[1] for slug in slugs]
    practices = [{**r, **in_language(r, lang), "url": f"/practices/{r['slug']}"} for r in records]
    label = lambda facet, values: [facet_label(FACETS_BY_NAME[facet], v, lang) for v in values]  # noqa: E731
    rows = [
        ("Countries", [", ".join(label("country", p["countries"])) for p in practices]),
        ("Policy types", ["; ".join(label("policy_type", p["policy_types"])) for p in practices]),
        ("Years", [f"{p['year_start']}–{p['year_end'] or ''}" for p in practices]),
        ("Status", [label("status", [p["status"]])[0] for p in practices]),
        ("Target groups and keywords", [", ".join(p["tags"]) or "—" for p in practices]),
        ("Scale", [vocab.scales().label(p["geographic_scale"], lang) if p["geographic_scale"] else "—"
                   for p in practices]),
        ("Evidence", [label("evidence_level", [p["evidence_level"]])[0] if p["evidence_level"] else "—"
                      for p in practices]),
        *((row["label"], row["cells"]) for row in figures.compare_rows(practices, lang)),
        ("Results", [results_section(p["body"]) or "—" for p in practices]),
        ("Sources", [len(p["sources"]) for p in practices]),
    ]
    return {"practices": practices, "rows": [{"label": name, "cells": values, "differs": len(set(values)) > 1}
                                             for name, values in rows],
            "charts": figures.indicator_charts(practices, lang),
            "remove_urls": [_compare_url([s for s in slugs if s != slug]) for slug in slugs]}


def _compare_url(slugs: list[str]) -> str:
    from urllib.parse import urlencode

    return "/compare?" + urlencode([("slug", s) for s in slugs])


def compare_url_for(practice: dict) -> str | None:
    """A comparison of a practice with its first related practices, if it has any."""
    others = [r["slug"] for r in practice["related_practices"]][: COMPARE_MAX - 1]
    return _compare_url([practice["slug"], *others]) if others else None


def json_ld(practice: dict, url: str) -> str:
    """schema.org metadata of a practice page, safe to embed in a <script> element."""
    import json

    data = {
        "@context": "https://schema.org", "@type": "Article", "headline": practice["title"],
        "alternativeHeadline": practice["local_name"], "description": practice["summary"], "url": url,
        "inLanguage": practice["language"], "dateModified": practice["last_reviewed"],
        "keywords": practice["tags"] + practice["policy_types"],
        "spatialCoverage": [{"@type": "Country", "name": vocab.countries().label(c), "identifier": c}
                            for c in practice["countries"]],
        "temporalCoverage": f"{practice['year_start']}/{practice['year_end'] or '..'}",
        "publisher": {"@type": "Organization", "name": "CELAC–China Poverty Reduction Knowledge Base"},
        "citation": [{"@type": "CreativeWork", "name": s["title"], "publisher": s["publisher"], "url": s["url"]}
                     for s in practice["sources"]],
    }
    if practice.get("versions"):  # the translations of the text, each a page of its own
        data["workTranslation"] = [{"@type": "Article", "inLanguage": lang, "headline": v["title"], "url": f"{url}?text={lang}"}
                                   for lang, v in practice["versions"].items()]
    # '<' escaped so that no text in the data can close the script element
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
