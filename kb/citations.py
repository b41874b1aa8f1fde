"""Citations of a practice entry, and of its original sources, as BibTeX, BibLaTeX, RIS and CSL-JSON.

The plain-text styles (APA 7, Chicago author-date) are in kb.citation_styles.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator

from kb import vocab

PUBLISHER = "CELAC–China Poverty Reduction Knowledge Base"
FORMATS = {"bib": ("application/x-bibtex", "BibTeX"), "biblatex": ("application/x-bibtex", "BibLaTeX"),
           "ris": ("application/x-research-info-systems", "RIS"),
           "json": ("application/vnd.citationstyles.csl+json", "CSL-JSON")}
EXTENSIONS = {"bib": "bib", "biblatex": "bib", "ris": "ris", "json": "json"}  # of the downloaded file


def entries(practice: dict, url: str, sources: bool = True) -> list[dict]:
    """The knowledge-base entry first, then each original source, as neutral citation data.

    The case study's year is its review year (the version cited); each source keeps its own year."""
    # the original: its title and language, whichever translation the reader was looking at
    language = practice["language"]
    main = {"key": f"kb-{practice['slug']}", "type": "webpage", "title": practice.get("original_title", practice["title"]),
            "authors": [], "author": PUBLISHER, "publisher": PUBLISHER, "container": None, "doi": None,
            "year": int(practice["last_reviewed"][:4]), "date": practice["last_reviewed"], "url": url,
            "language": language,
            "note": f"Case study in {vocab.languages().label(language)}, last reviewed {practice['last_reviewed']}"}
    out = [main]
    for n, s in enumerate(practice["sources"] if sources else (), 1):
        out.append({"key": f"{practice['slug']}-source-{n}", "type": "document", "title": s["title"],
                    "authors": s.get("authors") or [], "author": s["publisher"], "publisher": s["publisher"],
                    "container": s.get("container"), "doi": s.get("doi"), "year": s["year"], "date": None,
                    "url": s["url"], "language": None, "note": f"Source {n} of {main['title']}"})
    return out


def accessed() -> str:
    """Today's date (UTC), the access date of a web citation."""
    return dt.datetime.now(dt.UTC).date().isoformat()


# BibTeX ends a field at its closing brace whatever backslashes stand before it, so `\}` is no
# escape: braces and backslashes become commands whose own braces balance. One pass, so the
# braces of the replacements are not escaped again.
_BIB_TEXT = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}",
             "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}",
             "^": r"\textasciicircum{}"}
_BIB_TEXT_RE = re.compile("|".join(map(re.escape, _BIB_TEXT)))
# A URL field is read verbatim: what could end or break it is percent-encoded instead.
_URL_UNSAFE_RE = re.compile(r'[{}\\\s"<>]')


def _bib_escape(text: str) -> str:
    return _BIB_TEXT_RE.sub(lambda m: _BIB_TEXT[m.group()], " ".join(str(text).split()))


def _bib_url(url: str) -> str:
    return _URL_UNSAFE_RE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url)


def _bib_names(e: dict) -> str:
    """Persons joined with 'and'; an organisation in double braces so it is not split into names."""
    if e["authors"]:
        return " and ".join(_bib_escape(a) for a in e["authors"])
    return "{" + _bib_escape(e["author"]) + "}"


def _bib_entry(kind: str, key: str, fields: list[tuple[str, object]]) -> str:
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value is not None)
    return f"@{kind}{{{key},\n{body}\n}}\n"


def _bibtex_entry(e: dict, today: str) -> str:
    """Classic BibTeX (natbib, plainnat...): @article for a source in a journal or series, else @misc."""
    article = e["type"] == "document" and e["container"]
    url = _bib_url(e["url"])
    note = f"{e['note']}. Accessed {today}" if e["type"] == "webpage" else e["note"]
    return _bib_entry("article" if article else "misc", e["key"], [
        ("author", _bib_names(e)), ("title", "{" + _bib_escape(e["title"]) + "}"),
        ("journal", _bib_escape(e["container"]) if article else None),
        ("howpublished", None if article else r"\url{" + url + "}"),
        ("publisher", _bib_escape(e["publisher"])), ("year", e["year"]),
        ("doi", e["doi"] and _bib_url(e["doi"])), ("url", url), ("langid", e["language"]),
        ("note", _bib_escape(note))])


def _biblatex_entry(e: dict, today: str) -> str:
    """BibLaTeX: @online for the case study (with its date and urldate), @article or @misc for a source."""
    article = e["type"] == "document" and e["container"]
    kind = "online" if e["type"] == "webpage" else "article" if article else "misc"
    return _bib_entry(kind, e["key"], [
        ("author", _bib_names(e)), ("title", "{" + _bib_escape(e["title"]) + "}"),
        ("journaltitle", _bib_escape(e["container"]) if article else None),
        ("publisher", _bib_escape(e["publisher"])), ("year", e["year"]), ("date", e["date"]),
        ("doi", e["doi"] and _bib_url(e["doi"])), ("url", _bib_url(e["url"])),
        ("urldate", today if e["type"] == "webpage" else None), ("langid", e["language"]),
        ("note", _bib_escape(e["note"]))])


def bibtex(practice: dict, url: str) -> str:
    """Classic BibTeX: a @misc entry for the case study (howpublished URL, access date), one per source."""
    return "\n".join(_bibtex_entry(e, accessed()) for e in entries(practice, url))


def biblatex(practice: dict, url: str) -> str:
    """BibLaTeX: an @online entry for the case study and an entry per source."""
    return "\n".join(_biblatex_entry(e, accessed()) for e in entries(practice, url))


def _ris_record(e: dict) -> list[str]:
    journal = e["type"] == "document" and e["container"]
    kind = "ELEC" if e["type"] == "webpage" else "JOUR" if journal else "GEN"
    authors = [("AU", a) for a in e["authors"]] or [("AU", e["author"])]
    lines = [("TY", kind), ("TI", e["title"]), *authors, ("T2", e["container"]), ("PB", e["publisher"]),
             ("PY", e["year"]), ("DA", e["date"] and e["date"].replace("-", "/")), ("DO", e["doi"]),
             ("UR", e["url"]), ("LA", e["language"]), ("N1", e["note"]), ("ID", e["key"])]
    return [f"{tag}  - {' '.join(str(value).split())}" for tag, value in lines if value is not None] + ["ER  - ", ""]


def ris(practice: dict, url: str) -> str:
    """RIS: one ELEC record for the case study and one JOUR or GEN record per source."""
    return "\r\n".join(line for e in entries(practice, url) for line in _ris_record(e))


def _csl_name(name: str) -> dict:
    family, comma, given = name.partition(",")
    return {"family": family.strip(), "given": given.strip()} if comma and given.strip() else {"literal": name}


def _csl_item(e: dict) -> dict:
    item = {"id": e["key"], "type": e["type"], "title": e["title"],
            "author": [_csl_name(a) for a in e["authors"]] or [{"literal": e["author"]}],
            "publisher": e["publisher"], "URL": e["url"], "note": e["note"]}
    if e["type"] == "document" and e["container"]:
        item.update(type="article-journal", **{"container-title": e["container"]})
    if e["doi"]:
        item["DOI"] = e["doi"]
    if e["language"]:
        item["language"] = e["language"]
    if e["year"] is not None:
        parts = [int(p) for p in e["date"].split("-")] if e["date"] else [e["year"]]
        item["issued"] = {"date-parts": [parts]}
    return item


def csl_json(practice: dict, url: str) -> str:
    """CSL-JSON: an array of items, the case study first."""
    return json.dumps([_csl_item(e) for e in entries(practice, url)], ensure_ascii=False, indent=1)


RENDERERS = {"bib": bibtex, "biblatex": biblatex, "ris": ris, "json": csl_json}


def stream(fmt: str, records: Iterable[dict], base_url: str) -> Iterator[str]:
    """The case-study entry of every practice of a search, in format `fmt`, one practice at a time."""
    today = accessed()
    first = True
    if fmt == "json":
        yield "["
    for record in records:
        [e] = entries(record, f"{base_url}/practices/{record['slug']}", sources=False)
        if fmt == "json":
            yield ("\n" if first else ",\n") + json.dumps(_csl_item(e), ensure_ascii=False)
        elif fmt == "ris":
            yield "\r\n".join(_ris_record(e))
        else:
            yield ("" if first else "\n") + (_bibtex_entry if fmt == "bib" else _biblatex_entry)(e, today)
        first = False
    if fmt == "json":
        yield "\n]\n"
