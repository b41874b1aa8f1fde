"""Single practices and browse lists, read from the index, as plain data for pages and the API."""

from __future__ import annotations

from kb import vocab
from kb.config import REPO_EDIT_URL
from kb.errors import KbError
from kb.fields import FACETS_BY_NAME, facet_label
from kb.render import to_html
from kb.search import SearchRequest, run_search

RELATED_LIMIT = 6


class NotFound(KbError):
    """No practice has this slug."""


def get_practice(store, slug: str) -> dict:
    """A practice's metadata, rendered body, related practices and edit link."""
    snap = store.snapshot()
    docnum = snap.slug_to_doc.get(slug)
    if docnum is None:
        raise NotFound(f"slug: no practice {slug!r}")
    record = snap.record(docnum)
    return {**{k: v for k, v in record.items() if k not in ("body", "path")},
            "body_html": to_html(record["body"]),
            "related_practices": _related(snap, docnum, record),
            "edit_url": REPO_EDIT_URL + "practices/" + record["path"],
            "url": f"/practices/{slug}"}


def _related(snap, docnum: int, record: dict) -> list[dict]:
    """The `related` field first, then more-like-this from the index, without repeats."""
    docs = [snap.slug_to_doc[s] for s in record["related"] if s in snap.slug_to_doc]
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
