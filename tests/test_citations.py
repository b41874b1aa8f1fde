"""Citations for researchers: APA 7 and Chicago text, classic BibTeX and BibLaTeX, RIS, CSL-JSON, the
optional authors, DOI and container of a source, and a whole search as one citation file."""

from __future__ import annotations

import csv
import io
import json

import bibtexparser
import pytest
from conftest import practice_text, write_practice

from kb import citation_styles, citations
from kb.app import create_app
from kb.config import Settings
from kb.engine import update_index
from kb.practice import read_practice

LANCET = {"title": "Effect of a conditional cash transfer programme on childhood mortality", "publisher": "Elsevier",
          "year": 2013, "url": "https://doi.org/10.1016/S0140-6736(13)60715-1",
          "authors": ["Rasella, Davide", "Aquino, Rosana", "Santos, Carlos A T"],
          "doi": "10.1016/S0140-6736(13)60715-1", "container": "The Lancet 382(9886)"}
REPORT = {"title": "Conditional Cash Transfers", "publisher": "World Bank", "year": 2009,
          "url": "https://example.org/ccts"}


@pytest.fixture
def cited(tmp_path, monkeypatch):
    """A client on two practices, one with a journal article among its sources; access date fixed."""
    monkeypatch.setattr(citations, "accessed", lambda: "2026-12-03")
    settings = Settings(tmp_path / "practices", tmp_path / "index")
    write_practice(settings.practices_dir, "bra-bolsa-familia", sources=[REPORT, LANCET],
                   last_reviewed="2025-03-04")
    write_practice(settings.practices_dir, "mex-prospera", title="Prospera: {Oportunidades}", countries=["MEX"],
                   last_reviewed="2024-10-20")
    assert update_index(settings).problems == []
    return create_app(settings, TESTING=True).test_client()


def test_apa_and_chicago_author_date_cite_the_case_study_by_its_review_date():
    practice = {"slug": "bra-bolsa-familia", "title": "Bolsa Família", "last_reviewed": "2025-03-04"}
    url = "https://kb.example.org/practices/bra-bolsa-familia"
    assert citation_styles.apa(practice, url) == (
        "CELAC–China Poverty Reduction Knowledge Base. (2025, March 4). Bolsa Família. "
        "https://kb.example.org/practices/bra-bolsa-familia")
    assert citation_styles.chicago(practice, url) == (
        "CELAC–China Poverty Reduction Knowledge Base. 2025. “Bolsa Família.” Last modified March 4, 2025. "
        "https://kb.example.org/practices/bra-bolsa-familia.")
    question = {**practice, "title": "Does it work?"}
    assert "(2025, March 4). Does it work? https://" in citation_styles.apa(question, url)
    assert "“Does it work?” Last modified" in citation_styles.chicago(question, url)


def test_classic_bibtex_is_misc_with_howpublished_and_access_date_and_names_the_authors(cited):
    response = cited.get("/practices/bra-bolsa-familia/cite.bib")
    assert response.headers["Content-Disposition"] == 'attachment; filename="bra-bolsa-familia.bib"'
    library = bibtexparser.parse_string(response.get_data(as_text=True))
    assert library.failed_blocks == []
    assert [(e.entry_type, e.key, {f.key: f.value for f in e.fields}) for e in library.entries] == [
        ("misc", "kb-bra-bolsa-familia", {
            "author": "{CELAC–China Poverty Reduction Knowledge Base}", "title": "{Bolsa Família}",
            "howpublished": r"\url{http://localhost/practices/bra-bolsa-familia}",
            "publisher": "CELAC–China Poverty Reduction Knowledge Base", "year": "2025",
            "url": "http://localhost/practices/bra-bolsa-familia", "langid": "en",
            "note": "Case study in English, last reviewed 2025-03-04. Accessed 2026-12-03"}),
        ("misc", "bra-bolsa-familia-source-1", {
            "author": "{World Bank}", "title": "{Conditional Cash Transfers}",
            "howpublished": r"\url{https://example.org/ccts}", "publisher": "World Bank", "year": "2009",
            "url": "https://example.org/ccts", "note": "Source 1 of Bolsa Família"}),
        ("article", "bra-bolsa-familia-source-2", {
            "author": "Rasella, Davide and Aquino, Rosana and Santos, Carlos A T",
            "title": "{Effect of a conditional cash transfer programme on childhood mortality}",
            "journal": "The Lancet 382(9886)", "publisher": "Elsevier", "year": "2013",
            "doi": "10.1016/S0140-6736(13)60715-1", "url": "https://doi.org/10.1016/S0140-6736(13)60715-1",
            "note": "Source 2 of Bolsa Família"}),
    ]


def test_biblatex_is_a_second_format_with_online_entries(cited):
    response = cited.get("/practices/bra-bolsa-familia/cite.biblatex")
    assert response.headers["Content-Disposition"] == 'attachment; filename="bra-bolsa-familia-biblatex.bib"'
    library = bibtexparser.parse_string(response.get_data(as_text=True))
    main, _, article = library.entries
    assert (main.entry_type, main["date"], main["urldate"]) == ("online", "2025-03-04", "2026-12-03")
    assert (article.entry_type, article["journaltitle"], article["doi"]) == (
        "article", "The Lancet 382(9886)", "10.1016/S0140-6736(13)60715-1")


def test_ris_and_csl_json_carry_authors_doi_and_container(cited):
    ris = cited.get("/practices/bra-bolsa-familia/cite.ris").get_data(as_text=True).split("ER  - ")
    assert [line for line in ris[2].split("\r\n") if line[:2] in ("TY", "AU", "T2", "DO", "PY")] == [
        "TY  - JOUR", "AU  - Rasella, Davide", "AU  - Aquino, Rosana", "AU  - Santos, Carlos A T",
        "T2  - The Lancet 382(9886)", "PY  - 2013", "DO  - 10.1016/S0140-6736(13)60715-1"]
    items = cited.get("/practices/bra-bolsa-familia/cite.json").get_json(force=True)
    assert {k: items[2][k] for k in ("type", "author", "container-title", "DOI", "issued")} == {
        "type": "article-journal", "container-title": "The Lancet 382(9886)",
        "author": [{"family": "Rasella", "given": "Davide"}, {"family": "Aquino", "given": "Rosana"},
                   {"family": "Santos", "given": "Carlos A T"}],
        "DOI": "10.1016/S0140-6736(13)60715-1", "issued": {"date-parts": [[2013]]}}
    assert items[0]["issued"] == {"date-parts": [[2025, 3, 4]]}  # the review date: the version cited


def test_the_practice_page_has_the_cite_box_near_the_top_and_the_source_details(cited):
    html = cited.get("/practices/bra-bolsa-familia").get_data(as_text=True)
    assert html.index('<details class="cite-box" id="cite"') < html.index('<div class="practice-layout">')
    assert ('<p class="cite-text" id="cite-apa" lang="en">CELAC–China Poverty Reduction Knowledge Base. '
            '(2025, March 4). Bolsa Família. http://localhost/practices/bra-bolsa-familia</p>') in html
    assert "The year is the year of this case study's last review (2025-03-04)" in html
    assert '<textarea id="bibtex" readonly rows="8" lang="en">@misc{kb-bra-bolsa-familia,' in html
    assert ('<li id="source-2"><span class="authors">Rasella, Davide; Aquino, Rosana; Santos, Carlos A T</span>. '
            '<a href="https://doi.org/10.1016/S0140-6736(13)60715-1" rel="noopener noreferrer">Effect of a '
            'conditional cash transfer programme on childhood mortality</a>. <cite>The Lancet 382(9886)</cite>. '
            'Elsevier, 2013. <a href="https://doi.org/10.1016/S0140-6736(13)60715-1" rel="noopener noreferrer" '
            'class="doi">doi:10.1016/S0140-6736(13)60715-1</a></li>') in html


def test_csv_and_json_exports_carry_the_optional_source_keys(cited):
    text = cited.get("/api/export.csv?sort=title").get_data(as_text=True).lstrip("\ufeff")
    rows = {r["slug"]: r for r in csv.DictReader(io.StringIO(text))}
    assert [(rows[s]["source_authors"], rows[s]["source_dois"], rows[s]["source_containers"]) for s in sorted(rows)] == [
        ("; Rasella, Davide and Aquino, Rosana and Santos, Carlos A T", "; 10.1016/S0140-6736(13)60715-1",
         "; The Lancet 382(9886)"), ("", "", "")]
    practices = cited.get("/api/export.json").get_json()["practices"]
    assert next(p for p in practices if p["slug"] == "bra-bolsa-familia")["sources"] == [REPORT, LANCET]


def test_a_whole_search_is_one_bibtex_ris_or_csl_json_file(cited):
    response = cited.get("/api/export.bib?sort=title")
    assert response.headers["Content-Disposition"] == 'attachment; filename="practices.bib"'
    library = bibtexparser.parse_string(response.get_data(as_text=True))
    assert [(e.key, e["title"], e["year"]) for e in library.entries] == [
        ("kb-bra-bolsa-familia", "{Bolsa Família}", "2025"),
        ("kb-mex-prospera", r"{Prospera: \textbraceleft{}Oportunidades\textbraceright{}}", "2024")]
    assert [e.key for e in bibtexparser.parse_string(
        cited.get("/api/export.bib?country=MEX").get_data(as_text=True)).entries] == ["kb-mex-prospera"]
    ris = cited.get("/api/export.ris?sort=title").get_data(as_text=True)
    assert [line for line in ris.split("\r\n") if line.startswith(("TY", "ID"))] == [
        "TY  - ELEC", "ID  - kb-bra-bolsa-familia", "TY  - ELEC", "ID  - kb-mex-prospera"]
    items = json.loads(cited.get("/api/export.csl.json?sort=title").get_data(as_text=True))
    assert [(i["id"], i["issued"]) for i in items] == [
        ("kb-bra-bolsa-familia", {"date-parts": [[2025, 3, 4]]}), ("kb-mex-prospera", {"date-parts": [[2024, 10, 20]]})]
    assert json.loads(cited.get("/api/export.csl.json?q=zzzqqq").get_data(as_text=True)) == []
    biblatex = bibtexparser.parse_string(cited.get("/api/export.biblatex.bib").get_data(as_text=True))
    assert {e.entry_type for e in biblatex.entries} == {"online"}


@pytest.mark.parametrize("path", ["/api/export.bib", "/api/export.ris", "/api/export.csl.json"])
def test_a_bad_search_is_refused_before_the_first_byte(cited, path):
    response = cited.get(f"{path}?country=XXX")
    assert response.status_code == 400
    assert response.get_json()["error"]["parameter"] == "country"


@pytest.mark.parametrize(("source", "message"), [
    ({"doi": "doi.org/10.1/x"}, "source 1: doi must look like 10.1596/978-0-8213-7352-1 (10., a registrant code of "
                                "4 to 9 digits, a slash, a suffix without spaces), found 'doi.org/10.1/x'"),
    ({"doi": "10.1596/a b"}, "source 1: doi must look like 10.1596/978-0-8213-7352-1 (10., a registrant code of "
                             "4 to 9 digits, a slash, a suffix without spaces), found '10.1596/a b'"),
    ({"authors": "Levy, Santiago"}, 'source 1: authors must be a list of names like ["Levy, Santiago"], found '
                                    "'Levy, Santiago'"),
    ({"authors": ["Levy", 3]}, "source 1: each author must be a name (text of at most 100 characters), found int 3"),
    ({"container": ["The Lancet"]}, "source 1: container must be the journal, series or book as text (at most 200 "
                                    "characters), found list ['The Lancet']"),
    ({"editor": "X"}, "source 1: unknown keys editor (expected title, publisher, year, url, optionally authors, "
                      "doi, container)"),
])
def test_the_optional_source_keys_are_validated_with_file_line_and_field(tmp_path, source, message):
    path = tmp_path / "bra-x.md"
    path.write_text(practice_text(sources=[{**REPORT, **source}]), encoding="utf-8")
    problems = read_practice(path, "bra-x.md")[1]
    assert [(p.field, p.message) for p in problems] == [("sources", message)]
    assert problems[0].line == practice_text().splitlines().index("sources:") + 1


def test_a_doi_given_as_a_link_is_kept_without_its_resolver(tmp_path):
    path = tmp_path / "bra-x.md"
    path.write_text(practice_text(sources=[{**REPORT, "doi": "https://doi.org/10.1596/978-0-8213-7352-1"}]),
                    encoding="utf-8")
    practice, problems = read_practice(path, "bra-x.md")
    assert (problems, practice.sources[0]["doi"]) == ([], "10.1596/978-0-8213-7352-1")
