"""Citations of a practice entry, and of its original sources, as BibTeX, RIS and CSL-JSON."""

from __future__ import annotations

import json
import re

from kb import vocab

PUBLISHER = "CELAC–China Poverty Reduction Knowledge Base"
FORMATS = {"bib": ("application/x-bibtex", "BibTeX"), "ris": ("application/x-research-info-systems", "RIS"),
           "json": ("application/vnd.citationstyles.csl+json", "CSL-JSON")}


def entries(practice: dict, url: str) -> list[dict]:
    """The knowledge-base entry first, then each original source, as neutral citation data."""
    # the original: its title and language, whichever translation the reader was looking at
    language = practice["language"]
    main = {"key": f"kb-{practice['slug']}", "type": "webpage",
            "title": practice.get("original_title", practice["title"]),
            "author": PUBLISHER, "publisher": PUBLISHER, "year": int(practice["last_reviewed"][:4]),
            "date": practice["last_reviewed"], "url": url, "language": language,
            "note": f"Case study in {vocab.languages().label(language)}, last reviewed {practice['last_reviewed']}"}
    sources = [{"key": f"{practice['slug']}-source-{n}", "type": "document", "title": s["title"],
                "author": s["publisher"], "publisher": s["publisher"], "year": s["year"], "date": None,
                "url": s["url"], "language": None, "note": f"Source {n} of {main['title']}"}
               for n, s in enumerate(practice["sources"], 1)]
    return [main, *sources]


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


def bibtex(practice: dict, url: str) -> str:
    """BibTeX: an @online entry for the case study and a @misc entry per source."""
    out = []
    for e in entries(practice, url):
        kind = "online" if e["type"] == "webpage" else "misc"
        fields = [("title", "{" + _bib_escape(e["title"]) + "}"), ("author", "{" + _bib_escape(e["author"]) + "}"),
                  ("publisher", _bib_escape(e["publisher"])), ("year", e["year"]),
                  ("date", e["date"]), ("url", _bib_url(e["url"])), ("langid", e["language"]),
                  ("note", _bib_escape(e["note"]))]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value is not None)
        out.append(f"@{kind}{{{e['key']},\n{body}\n}}\n")
    return "\n".join(out)


def ris(practice: dict, url: str) -> str:
    """RIS: one ELEC record for the case study and one GEN record per source."""
    out = []
    for e in entries(practice, url):
        lines = [("TY", "ELEC" if e["type"] == "webpage" else "GEN"), ("TI", e["title"]), ("AU", e["author"]),
                 ("PB", e["publisher"]), ("PY", e["year"]), ("DA", e["date"] and e["date"].replace("-", "/")),
                 ("UR", e["url"]), ("LA", e["language"]), ("N1", e["note"]), ("ID", e["key"])]
        out += [f"{tag}  - {' '.join(str(value).split())}" for tag, value in lines if value is not None]
        out.append("ER  - ")
        out.append("")
    return "\r\n".join(out)


def csl_json(practice: dict, url: str) -> str:
    """CSL-JSON: an array of items, the case study first."""
    items = []
    for e in entries(practice, url):
        item = {"id": e["key"], "type": e["type"], "title": e["title"], "author": [{"literal": e["author"]}],
                "publisher": e["publisher"], "URL": e["url"], "note": e["note"]}
        if e["language"]:
            item["language"] = e["language"]
        if e["year"] is not None:
            parts = [int(p) for p in e["date"].split("-")] if e["date"] else [e["year"]]
            item["issued"] = {"date-parts": [parts]}
        items.append(item)
    return json.dumps(items, ensure_ascii=False, indent=1)


RENDERERS = {"bib": bibtex, "ris": ris, "json": csl_json}
