"""An Atom feed (RFC 4287) of new and updated practices, for the collection or any search."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

from kb.characters import without_forbidden

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50


def _timestamp(day: str) -> str:
    return dt.date.fromisoformat(day).strftime("%Y-%m-%dT00:00:00Z")


def atom(records: list[dict], base_url: str, self_url: str, search_url: str, title: str) -> bytes:
    """The feed document: the most recently reviewed practices first."""
    records = sorted(records, key=lambda r: (r["last_reviewed"], r["slug"]), reverse=True)[:FEED_SIZE]
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", self_url)
    _text(feed, "title", title)
    updated = _timestamp(records[0]["last_reviewed"]) if records else "2021-08-31T00:00:00Z"
    _text(feed, "updated", updated)
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "CELAC–China Poverty Reduction Knowledge Base")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", type="application/atom+xml", href=self_url)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=search_url)
    for record in records:
        url = f"{base_url}/practices/{record['slug']}"
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", url)
        _text(entry, "title", record["title"])
        _text(entry, "updated", _timestamp(record["last_reviewed"]))
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=url)
        _text(entry, "summary", record["summary"])
        for term in record["countries"] + record["policy_types"]:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=term)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _text(parent, tag: str, text: str) -> None:
    # validation refuses these characters; an index built before it did may still hold them
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = without_forbidden(text)
