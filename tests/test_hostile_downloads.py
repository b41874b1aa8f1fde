"""Downloads made from hostile content or requests: CSV cells no spreadsheet runs, citations whose
fields cannot be ended early, and exports that fail before their first byte or visibly."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import socket
import threading

import pytest
import waitress
from conftest import BASE, COLLECTION, practice_text, write_practice

from kb import citations
from kb.app import create_app
from kb.config import Settings
from kb.engine import Snapshot, update_index
from kb.export import CSV_COLUMNS, INTERRUPTED, csv_row
from kb.practice import read_practice

FORMULA = ["=", "+", "-", "@", "\t", "\r"]


def record(**changes) -> dict:
    """A practice record as the index returns it."""
    data = {"slug": "bra-x", "title": "Title", "local_name": None, "countries": ["BRA"], "regions": ["south-america"],
            "policy_types": ["cash-transfers"], "year_start": 2003, "year_end": None, "status": "ongoing",
            "language": "en", "geographic_scale": None, "evidence_level": None, "sdg_targets": [], "tags": [],
            "summary": "Summary.", "last_reviewed": "2026-11-01", "sources": BASE["sources"]}
    return {**data, **changes}


@pytest.mark.parametrize("start", FORMULA)
def test_a_csv_cell_that_starts_like_a_formula_is_quoted_as_text(start):
    row = csv_row(record(title=f"{start}HYPERLINK(\"http://evil.example\")", tags=[f"{start}1+1", "fine"],
                         summary=f"{start}cmd|' /C calc'!A0"), "https://kb.example.org")
    cells = dict(zip(CSV_COLUMNS, row, strict=True))
    assert (cells["title"], cells["tags"], cells["summary"]) == (
        f"'{start}HYPERLINK(\"http://evil.example\")", f"'{start}1+1; fine", f"'{start}cmd|' /C calc'!A0")
    assert cells["slug"] == "bra-x"  # harmless cells are left alone
    assert cells["url"] == "https://kb.example.org/practices/bra-x"


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_the_csv_export_of_hostile_practices_holds_no_formula(tmp_path, start):
    settings = Settings(tmp_path / "practices", tmp_path / "index")
    write_practice(settings.practices_dir, "bra-x", title=f"{start}2+3", tags=[f"{start}SUM(A1:A9)"],
                   summary=f"{start}cmd|' /C calc'!A0", local_name=f"{start}1")
    assert update_index(settings).problems == []
    client = create_app(settings, TESTING=True).test_client()
    rows = list(csv.DictReader(io.StringIO(client.get("/api/export.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["title"], r["local_name"], r["tags"], r["summary"]) for r in rows] == [
        (f"'{start}2+3", f"'{start}1", f"'{start}SUM(A1:A9)", f"'{start}cmd|' /C calc'!A0")]


def bibtex_fields(text: str) -> list[dict]:
    """Fields of each entry as BibTeX itself reads them: a value ends where its braces balance."""
    entries = []
    for chunk in re.split(r"^@\w+\{", text, flags=re.M)[1:]:
        fields, pos = {}, chunk.index(",") + 1
        while (match := re.compile(r"\s*(\w+) = \{").match(chunk, pos)):
            depth, start = 1, match.end()
            pos = start
            while depth:
                depth += {"{": 1, "}": -1}.get(chunk[pos], 0)
                pos += 1
            fields[match.group(1)] = chunk[start:pos - 1]
            pos += 1  # the comma
        entries.append(fields)
    return entries


def test_a_url_that_would_end_a_bibtex_field_is_refused_by_validation(tmp_path):
    source = {**BASE["sources"][0], "url": "https://example.org/}, note = {INJECTED"}
    path = tmp_path / "bra-x.md"
    path.write_text(practice_text(sources=[source]), encoding="utf-8")
    assert [(p.field, p.message) for p in read_practice(path, "bra-x.md")[1]] == [
        ("sources", "source 1: url must not hold '}' (percent-encode it, e.g. %7B for {), found "
                    "'https://example.org/}, note = {INJECTED'")]
    path.write_text(practice_text(sources=[{**source, "url": "https://example.org/a b"}]), encoding="utf-8")
    assert [(p.field, p.message) for p in read_practice(path, "bra-x.md")[1]] == [
        ("sources", "source 1: url must not hold a space (percent-encode it, e.g. %7B for {), found "
                    "'https://example.org/a b'")]


def test_bibtex_fields_cannot_be_ended_early_by_braces_or_backslashes(monkeypatch):
    monkeypatch.setattr(citations, "accessed", lambda: "2026-12-03")
    practice = record(title="A} and {B \\ C", sources=[
        {"title": "T}, note = {INJECTED", "publisher": "P\\}", "year": 2020,
         "url": "https://example.org/}, note = {INJECTED"},  # indexed before validation refused such URLs
        {"title": "T", "publisher": "P", "year": 2021, "url": "https://example.org/b",
         "authors": ["Levy}, {X", "Y \\ Z"], "container": "J} and {K", "doi": "10.1000/a}b{c"}])
    bibtex = bibtex_fields(citations.bibtex(practice, "https://kb.example.org/practices/bra-x"))
    assert [sorted(e) for e in bibtex] == [
        ["author", "howpublished", "langid", "note", "publisher", "title", "url", "year"],
        ["author", "howpublished", "note", "publisher", "title", "url", "year"],
        ["author", "doi", "journal", "note", "publisher", "title", "url", "year"]]
    assert bibtex[0]["title"] == r"{A\textbraceright{} and \textbraceleft{}B \textbackslash{} C}"
    assert bibtex[1] == {
        "title": r"{T\textbraceright{}, note = \textbraceleft{}INJECTED}",
        "author": r"{P\textbackslash{}\textbraceright{}}",
        "howpublished": r"\url{https://example.org/%7D,%20note%20=%20%7BINJECTED}",
        "publisher": r"P\textbackslash{}\textbraceright{}", "year": "2020",
        "url": "https://example.org/%7D,%20note%20=%20%7BINJECTED",
        "note": r"Source 1 of A\textbraceright{} and \textbraceleft{}B \textbackslash{} C"}
    assert (bibtex[2]["author"], bibtex[2]["journal"], bibtex[2]["doi"]) == (
        r"Levy\textbraceright{}, \textbraceleft{}X and Y \textbackslash{} Z",
        r"J\textbraceright{} and \textbraceleft{}K", "10.1000/a%7Db%7Bc")
    biblatex = bibtex_fields(citations.biblatex(practice, "https://kb.example.org/practices/bra-x"))
    assert [sorted(e) for e in biblatex] == [
        ["author", "date", "langid", "note", "publisher", "title", "url", "urldate", "year"],
        ["author", "note", "publisher", "title", "url", "year"],
        ["author", "doi", "journaltitle", "note", "publisher", "title", "url", "year"]]
    assert biblatex[2]["journaltitle"] == r"J\textbraceright{} and \textbraceleft{}K"


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"])
def test_a_line_break_in_a_value_cannot_start_a_ris_tag(newline):
    practice = record(title=f"Title{newline}TY  - JOUR{newline}ER  - ", sources=[
        {"title": f"T{newline}AU  - Injected", "publisher": "P", "year": 2020, "url": "https://example.org/a"}])
    lines = citations.ris(practice, "https://kb.example.org/practices/bra-x").split("\r\n")
    assert [line[:6] for line in lines if line] == [
        "TY  - ", "TI  - ", "AU  - ", "PB  - ", "PY  - ", "DA  - ", "UR  - ", "LA  - ", "N1  - ", "ID  - ", "ER  - ",
        "TY  - ", "TI  - ", "AU  - ", "PB  - ", "PY  - ", "UR  - ", "N1  - ", "ID  - ", "ER  - "]
    assert "TI  - Title TY - JOUR ER -" in lines
    assert "TI  - T AU - Injected" in lines


@pytest.fixture
def no_index(tmp_path):
    settings = Settings(tmp_path / "practices", tmp_path / "index")
    write_practice(settings.practices_dir, "bra-x")
    return create_app(settings, TESTING=True).test_client()


@pytest.mark.parametrize("path", ["/api/export.csv", "/api/export.json"])
def test_an_export_without_an_index_is_a_503_answer_not_a_cut_stream(no_index, path):
    response = no_index.get(path)
    assert (response.status_code, response.mimetype) == (503, "application/json")
    assert response.get_json() == {"error": {"status": 503, "message": "The search index has not been built "
                                             "yet. An administrator must run `kb index`."}}


@pytest.mark.parametrize("path", ["/api/export.csv", "/api/export.json"])
def test_an_export_of_a_bad_request_is_a_400_answer(client, path):
    response = client.get(f"{path}?country=XX&q=x")
    assert (response.status_code, response.get_json()) == (400, {"error": {
        "status": 400, "message": "country: 'XX' is not a known value", "parameter": "country"}})


@pytest.mark.parametrize("path", ["/api/export.csv", "/api/export.json"])
def test_an_export_whose_search_fails_answers_an_error_before_its_first_byte(built, monkeypatch, path):
    def broken(self, text, expand=True):
        raise RuntimeError("the query parser failed")

    monkeypatch.setattr(Snapshot, "text_match", broken)
    client = create_app(built, TESTING=True, PROPAGATE_EXCEPTIONS=False).test_client()
    response = client.get(f"{path}?q=NOT%20NOT%20x")
    assert (response.status_code, response.get_json()) == (500, {"error": {
        "status": 500, "message": "Something went wrong on our side."}})


@pytest.mark.parametrize("path", ["/api/export.csv", "/api/export.json"])
def test_an_export_of_a_double_negation_is_complete_whatever_it_answers(app, path):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get(f"{path}?q=NOT%20NOT%20x")
    body = response.get_data(as_text=True)
    if response.status_code == 200:  # once the query parser accepts it: a whole file
        assert body.endswith("\n]}\n") if path.endswith("json") else body.startswith("\ufeffslug,")
    else:  # until then: an error answer, sent whole
        assert json.loads(body)["error"]["status"] == response.status_code


def raw_get(port: int, path: str) -> bytes:
    """Everything a server sends for one HTTP/1.1 request, until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def unchunk(body: bytes) -> tuple[bytes, bool]:
    """The data of a chunked body, and whether it ended with the last (empty) chunk."""
    data, pos = b"", 0
    while (end := body.find(b"\r\n", pos)) != -1:
        size = int(body[pos:end], 16)
        if size == 0:
            return data, True
        data += body[end + 2:end + 2 + size]
        pos = end + 2 + size + 2
    return data, False


@pytest.mark.parametrize("path", ["/api/export.csv", "/api/export.json"])
def test_an_export_that_fails_halfway_does_not_look_complete(built, monkeypatch, caplog, path):
    original, calls = Snapshot.record, []

    def failing(self, docnum):
        calls.append(docnum)
        if len(calls) > 2:
            raise OSError("the index files went away")
        return original(self, docnum)

    monkeypatch.setattr(Snapshot, "record", failing)
    app = create_app(Settings(built.practices_dir, built.index_dir, "http://127.0.0.1", ("127.0.0.1",)))
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=1)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.ERROR):
            response = raw_get(server.effective_port, path)
    finally:
        server.close()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"Transfer-Encoding: chunked" in head
    data, ended = unchunk(body)
    assert not ended  # the connection was dropped before the last chunk
    text = data.decode("utf-8")
    if path.endswith("csv"):
        lines = text.lstrip("\ufeff").split("\r\n")
        assert lines[0].startswith("slug,url,title,")
        assert [line.split(",")[0] in COLLECTION for line in lines[1:3]] == [True, True]
        assert lines[3:] == [INTERRUPTED]  # no line ending, and an open quote
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        assert text.count('"slug"') == 2
    said = "CSV export interrupted after 2 row(s)" if path.endswith("csv") else "JSON export interrupted after 2 practice(s)"
    assert f"{said}; the connection is dropped" in caplog.text
    assert "the index files went away" in caplog.text


def test_the_feed_stays_well_formed_with_text_from_an_older_index():
    from xml.etree import ElementTree as ET

    from kb.feed import atom

    records = [record(title="A \ufffe title \x01", summary="Plane 1 \U0001ffff.")]
    feed = ET.fromstring(atom(records, "https://kb.example.org", "https://kb.example.org/feed.atom",
                              "https://kb.example.org/search", "Feed \uffff"))
    ns = "{http://www.w3.org/2005/Atom}"
    assert [feed.find(f"{ns}title").text, feed.find(f"{ns}entry/{ns}title").text,
            feed.find(f"{ns}entry/{ns}summary").text] == ["Feed \ufffd", "A \ufffd title \ufffd", "Plane 1 \ufffd."]


@pytest.mark.parametrize("q", ["\ufffe", "\uffff", "\U0001fffe", "\x0b", "\ud800"])
def test_a_query_xml_cannot_carry_does_not_break_the_feed(client, q):
    from xml.etree import ElementTree as ET

    response = client.get("/feed.atom", query_string={"q": q}) if q != "\ud800" else client.get("/feed.atom?q=%ED%A0%80")
    assert response.status_code == 200
    assert ET.fromstring(response.data).tag == "{http://www.w3.org/2005/Atom}feed"
