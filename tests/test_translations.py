"""Whole case studies in four languages: translation files beside their originals, checked,
indexed with their original, searched in their own language and shown to readers in theirs."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import yaml
from click.testing import CliRunner
from conftest import BODIES, BODY, ROOT, practice_text, write_collection, write_practice

from kb.cli import main
from kb.engine import open_store, update_index
from kb.fields import TRANSLATION_FILE_FIELDS
from kb.practice import body_sha256, load_tree
from kb.search import SearchRequest, run_search

JUNTOS_BODY = ("## Contexto\n\nJuntos entrega un incentivo monetario a hogares pobres de la sierra y la selva.\n\n"
               "## Resultados\n\nAumentó la matrícula escolar en las zonas rurales.\n")
JUNTOS_ZH = "## 背景\n\n“一起”计划向山区和雨林的贫困家庭发放货币激励。\n\n## 成效\n\n农村地区的入学率提高了。\n"
DIBAO_ES = "## Contexto\n\nEl dibao rural protege a los campesinos con un ingreso mínimo garantizado.\n"
BOLSA_EN = "## Context\n\nThe programme joins schooling and healthcare for poor households.\n"


def write_translation(folder, slug: str, lang: str, body: str, **fields):
    """A translation file `slug.lang.md` with a title, a summary, a kind and `translated_from`."""
    data = {"title": f"{slug} in {lang}", "summary": f"Summary of {slug} in {lang}.", "kind": "machine",
            "translated_from": "0" * 64, **fields}
    data = {k: v for k, v in data.items() if v is not ...}
    path = folder / f"{slug}.{lang}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\n{yaml.safe_dump(data, allow_unicode=True, sort_keys=False)}---\n{body}", encoding="utf-8")
    return path


def write_translated_collection(root) -> None:
    """COLLECTION, a Peruvian practice, and translations: current, stale, machine and human."""
    write_collection(root)
    write_practice(root, "per-juntos", JUNTOS_BODY, title="Juntos", countries=["PER"], language="es",
                   summary="Transferencias condicionadas a hogares rurales pobres.", policy_types=["cash-transfers"])
    write_translation(root, "per-juntos", "zh", JUNTOS_ZH, title="“一起”计划", summary="秘鲁的有条件现金转移支付。",
                      translated_from=body_sha256(JUNTOS_BODY))
    write_translation(root, "chn-dibao", "es", DIBAO_ES, title="Dibao rural", summary="Ingreso mínimo rural.",
                      kind="human", reviewer="Ana Pérez", translated_from=body_sha256(BODIES["chn-dibao"]))
    write_translation(root / "brazil", "bra-bolsa-familia", "en", BOLSA_EN, title="Bolsa Família (family grant)",
                      summary="Conditional cash transfers.", translated_from=body_sha256("an earlier body\n"))


@pytest.fixture
def translated(settings):
    """Settings whose index holds the translated collection."""
    write_translated_collection(settings.practices_dir)
    report = update_index(settings)
    assert report.problems == []
    return settings


def run(settings, *args):
    return CliRunner().invoke(main, ["--practices", str(settings.practices_dir), "--index", str(settings.index_dir),
                                     *args], catch_exceptions=False)


# ---- the format ----------------------------------------------------------------------------------

OWN = "title, summary, local_name, kind, reviewer, translated_from"
HASH = "b" * 64


@pytest.mark.parametrize("files, expected", [
    ({"ghost.es.md": {}}, ["ghost.es.md:0: file name: translates 'ghost', but no practice file ghost.md is in the tree"]),
    ({"bra-x.fr.md": {}}, ["bra-x.fr.md:0: file name: 'bra-x.fr.md': 'fr' is not a language of the collection; a "
                           "translation is named SLUG.LANG.md with LANG one of en, es, pt, zh"]),
    ({"Bra_X.es.md": {}}, ["Bra_X.es.md:0: file name: 'Bra_X.es.md' must be SLUG.LANG.md with a slug of lowercase "
                           "letters, digits and hyphens, e.g. 'bra-bolsa-familia.es.md'"]),
    ({"bra-x.en.md": {}}, ["bra-x.en.md:0: file name: translates into 'en', the language of the original "
                           "{root}/bra-x.md; a translation is into another language"]),
    ({"a/bra-x.es.md": {}, "b/bra-x.es.md": {}},
     ["b/bra-x.es.md:0: file name: is a second 'es' translation of 'bra-x' (the first is {root}/a/bra-x.es.md); "
      "keep one"]),
    ({"bra-x.es.md": {"kind": "human"}}, ["bra-x.es.md:4: reviewer: is missing; a human translation names its reviewer"]),
    ({"bra-x.es.md": {"kind": "robot"}}, ["bra-x.es.md:4: kind: expected machine or human, found 'robot'"]),
    ({"bra-x.es.md": {"countries": ["BRA"]}},
     [f"bra-x.es.md:6: countries: belongs to the original (bra-x.md) and is never repeated; a translation holds only {OWN}"]),
    ({"bra-x.es.md": {"reviewr": "Ana"}},
     [f"bra-x.es.md:6: reviewr: is not a field of a translation file (expected {OWN}); did you mean 'reviewer'?"]),
    ({"bra-x.es.md": {"title": ...}}, ["bra-x.es.md:2: title: is missing; expected the title, translated."]),
    ({"bra-x.es.md": {"translated_from": "abc"}},
     ["bra-x.es.md:5: translated_from: expected the 64 hex digits of the original body's SHA-256 "
      "(`kb translations --hash SLUG` prints it), found 'abc'"]),
])
def test_each_format_error_names_the_file_line_and_field(settings, files, expected):
    root = settings.practices_dir
    write_practice(root, "bra-x", language="en")
    for name, fields in files.items():
        folder, _, base = name.rpartition("/")
        slug, lang, _ = base.split(".")
        write_translation(root / folder if folder else root, slug, lang, "## Contexto\n\nTexto.\n",
                          **{"translated_from": HASH, **fields})
    practices, problems = load_tree(root)
    assert [str(p).replace(f"{root}/", "", 1).replace(str(root), "{root}") for p in problems] == expected
    assert [p.slug for p in practices] == ["bra-x"]  # the original stays valid, whatever its translations


def test_a_stale_translation_is_a_warning_and_the_exit_status_stays_0(settings):
    root = settings.practices_dir
    write_practice(root, "bra-x", language="en")
    write_translation(root, "bra-x", "pt", "## Contexto\n\nTexto.\n", translated_from=body_sha256(BODY))
    stale = write_translation(root, "bra-x", "es", "## Contexto\n\nTexto.\n", translated_from=HASH)
    result = CliRunner().invoke(main, ["--practices", str(root), "validate"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "Checked 3 file(s): 3 valid, 0 invalid; all valid.\n",
        f"warning: {stale}:5: translated_from: stale: {root}/bra-x.md has changed since this was translated; "
        f"update the translation, then set translated_from to {body_sha256(BODY)}\n")
    indexed = CliRunner().invoke(main, ["--practices", str(root), "--index", str(settings.index_dir),
                                                        "index"])
    assert indexed.exit_code == 0
    assert indexed.stderr == f"warning: bra-x.es.md:5: translated_from: stale: bra-x.md has changed since this was " \
                             f"translated; update the translation, then set translated_from to {body_sha256(BODY)}\n"


def test_the_body_hash_is_the_sha256_of_the_body_as_read(settings):
    crlf = practice_text("## Context\n\nText.\n").replace("\n", "\r\n")
    (settings.practices_dir / "bra-x.md").write_bytes("\ufeff".encode() + crlf.encode())
    result = run(settings, "translations", "--hash", "bra-x")
    assert (result.exit_code, result.output) == (0, body_sha256("## Context\n\nText.\n") + "\n")
    missing = run(settings, "translations", "--hash", "bra-nothing")
    assert (missing.exit_code, missing.output.strip()) == (1, f"Error: no valid practice 'bra-nothing' in "
                                                              f"{settings.practices_dir}")


def test_kb_translations_prints_a_table_and_json(translated):
    table = run(translated, "translations")
    assert table.exit_code == 0
    rows = {line.split()[0]: line.split()[1:] for line in table.output.splitlines()[1:]}
    assert table.output.splitlines()[0].split() == ["practice", "en", "es", "pt", "zh"]
    assert (rows["per-juntos"], rows["chn-dibao"], rows["bra-bolsa-familia"], rows["jam-path"]) == (
        ["missing", "original", "missing", "machine"], ["missing", "human", "missing", "original"],
        ["stale", "missing", "original", "missing"], ["original", "missing", "missing", "missing"])
    data = json.loads(run(translated, "translations", "--json").output)
    juntos = next(row for row in data["practices"] if row["slug"] == "per-juntos")
    assert juntos == {
        "slug": "per-juntos", "path": f"{translated.practices_dir}/per-juntos.md", "language": "es",
        "body_sha256": body_sha256(JUNTOS_BODY),
        "languages": {"en": {"status": "missing"}, "es": {"status": "original"}, "pt": {"status": "missing"},
                      "zh": {"status": "present", "kind": "machine", "reviewer": None,
                             "path": f"{translated.practices_dir}/per-juntos.zh.md"}}}


def test_the_readme_documents_every_translation_field():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Translating a case study"):]
    assert [f.name for f in TRANSLATION_FILE_FIELDS if f"| `{f.name}` |" not in section] == []


# ---- indexing and searching ----------------------------------------------------------------------

def hits(settings, q: str, lang: str = "en") -> list[tuple]:
    result = run_search(open_store(settings), SearchRequest.build(q), lang=lang)
    return [(h["slug"], h["matched_language"], h["snippet"]) for h in result.hits]


def test_a_chinese_query_finds_a_peruvian_practice_through_its_chinese_translation(translated):
    assert hits(translated, "入学率", "zh") == [
        ("per-juntos", "zh", "背景。 “一起”计划向山区和雨林的贫困家庭发放货币激励。 成效。 农村地区的<mark>入学</mark>率提高了。")]


def test_a_spanish_query_finds_a_chinese_practice_through_its_spanish_text(translated):
    assert hits(translated, "campesinos") == [
        ("chn-dibao", "es", "Contexto. El dibao rural protege a los <mark>campesinos</mark> con un ingreso mínimo "
                            "garantizado.")]


def test_the_original_matches_in_its_own_language_and_says_so(translated):
    assert hits(translated, "matrícula") == [
        ("per-juntos", "es", "… hogares pobres de la sierra y la selva. Resultados. Aumentó la <mark>matrícula</mark> "
                             "escolar en las zonas rurales.")]
    assert [h[:2] for h in hits(translated, "")][:1] == [(hits(translated, "")[0][0], None)]  # no text, no language


def test_a_quoted_phrase_is_found_in_a_translation(translated):
    assert [h[:2] for h in hits(translated, '"ingreso mínimo garantizado"')] == [("chn-dibao", "es")]
    assert hits(translated, '"garantizado mínimo ingreso"') == []


def test_a_sibling_s_title_and_summary_take_precedence_over_the_front_matter_block(translated):
    root = translated.practices_dir
    write_translation(root, "jam-path", "zh", "## 背景\n\n牙买加的项目。\n", title="PATH 计划（机器翻译）",
                      summary="牙买加的有条件现金转移。", translated_from=body_sha256(BODY))
    update_index(translated)
    result = run_search(open_store(translated), SearchRequest.build("", {"country": ["JAM"]}), lang="zh")
    assert [(h["title"], h["summary"], h["translated"]) for h in result.hits if h["slug"] == "jam-path"] == [
        ("PATH 计划（机器翻译）", "牙买加的有条件现金转移。", "machine")]  # not Li Wei's title from the block


def test_changing_adding_or_deleting_a_translation_reindexes_its_practice(translated):
    root = translated.practices_dir
    sibling = root / "per-juntos.zh.md"
    sibling.write_text(sibling.read_text(encoding="utf-8").replace("入学率", "毕业率"), encoding="utf-8")
    report = update_index(translated)
    assert (report.updated, report.indexed, report.removed, report.problems) == (1, 0, 0, [])
    assert hits(translated, "入学率", "zh") == []
    assert [h[0] for h in hits(translated, "毕业率", "zh")] == ["per-juntos"]
    write_translation(root, "mex-prospera", "zh", "## 背景\n\n墨西哥的助学金。\n", translated_from=body_sha256(BODIES["mex-prospera"]))
    assert (update_index(translated).updated, [h[:2] for h in hits(translated, "助学金", "zh")]) == (
        1, [("mex-prospera", "zh")])
    sibling.unlink()
    assert (update_index(translated).updated, hits(translated, "毕业率", "zh")) == (1, [])
    assert update_index(translated).updated == 0  # nothing changed since


def test_an_invalid_translation_leaves_its_original_indexed_and_is_reported_again(translated):
    (translated.practices_dir / "per-juntos.zh.md").write_text("---\ntitle: [\n---\n正文\n", encoding="utf-8")
    for _ in range(2):
        report = update_index(translated)
        assert [(p.path, p.field) for p in report.problems] == [("per-juntos.zh.md", "front matter")]
        assert [h[:2] for h in hits(translated, "matrícula")] == [("per-juntos", "es")]
    assert hits(translated, "入学率", "zh") == []


# ---- reading -------------------------------------------------------------------------------------

@pytest.fixture
def client(translated):
    from kb.app import create_app

    return create_app(translated, TESTING=True).test_client()


def text_of(html: str, css_class: str) -> str:
    found = re.search(rf'<(?:p|nav) class="{css_class}"[^>]*>(.*?)</(?:p|nav)>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()) if found else ""


def test_the_page_shows_the_body_in_the_reader_s_language_with_a_note(client):
    html = client.get("/practices/per-juntos?lang=zh").get_data(as_text=True)
    assert '<div class="body" lang="zh">' in html and "农村地区的入学率提高了" in html
    assert re.search(r"<title>(.*?) · ", html).group(1) == "“一起”计划"
    assert "hogares pobres de la sierra" not in html
    assert text_of(html, "translation-note") == "机器翻译，原文为西班牙语。 原文： Juntos · 阅读原文"
    assert '<a href="/practices/per-juntos?text=es" hreflang="es">阅读原文</a>' in html
    assert text_of(html, "text-versions") == "本案例的语言版本： Español (原文) · 中文"
    assert re.findall(r'<link rel="alternate" hreflang="(\w+)" href="([^"]+)">', html) == [
        ("es", "http://localhost/practices/per-juntos?lang=es"), ("zh", "http://localhost/practices/per-juntos?lang=zh")]
    json_ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert (json_ld["headline"], json_ld["inLanguage"], json_ld["workTranslation"]) == (
        "Juntos", "es", [{"@type": "Article", "inLanguage": "zh", "headline": "“一起”计划",
                          "url": "http://localhost/practices/per-juntos?text=zh"}])
    original = client.get("/practices/per-juntos?lang=zh&text=es").get_data(as_text=True)
    assert '<div class="body" lang="es">' in original and "hogares pobres de la sierra" in original
    assert text_of(original, "translation-note") == ""


def test_a_reviewed_translation_names_its_reviewer_and_a_stale_one_warns(client):
    dibao = client.get("/practices/chn-dibao?lang=es").get_data(as_text=True)
    assert text_of(dibao, "translation-note") == ("Traducción revisada por Ana Pérez, del original en chino. "
                                                  "Original: 农村最低生活保障制度 · Leer el original")
    assert text_of(dibao, "stale-warning") == ""
    bolsa = client.get("/practices/bra-bolsa-familia?lang=en").get_data(as_text=True)
    assert text_of(bolsa, "translation-note").startswith("Machine translation from Portuguese.")
    assert text_of(bolsa, "stale-warning") == ("The original has changed since this translation was made: parts of it "
                                               "may be out of date.")
    assert client.get("/practices/jam-path?lang=es").get_data(as_text=True).count('class="text-versions"') == 0


def test_the_api_gives_a_practice_in_the_language_asked(client):
    data = client.get("/api/practices/per-juntos?lang=zh").get_json()
    assert {k: data[k] for k in ("title", "summary", "original_title", "language", "body_language", "translation",
                                 "languages")} == {
        "title": "“一起”计划", "summary": "秘鲁的有条件现金转移支付。", "original_title": "Juntos", "language": "es",
        "body_language": "zh", "translation": {"kind": "machine", "reviewer": None, "stale": False},
        "languages": ["es", "zh"]}
    assert "农村地区的入学率提高了" in data["body_html"]
    original = client.get("/api/practices/per-juntos?lang=es").get_json()
    assert (original["title"], original["body_language"], original["translation"]) == ("Juntos", "es", None)
    untranslated = client.get("/api/practices/per-juntos?lang=pt").get_json()
    assert (untranslated["body_language"], untranslated["translation"]) == ("es", None)
    bad = client.get("/api/practices/per-juntos?lang=fr")
    assert (bad.status_code, bad.get_json()["error"]["parameter"]) == (400, "lang")
    hit = client.get("/api/search?q=入学率").get_json()["hits"][0]
    assert (hit["slug"], hit["matched_language"]) == ("per-juntos", "zh")
    spec = client.get("/api/openapi.json").get_json()
    params = spec["paths"]["/api/practices/{slug}"]["get"]["parameters"]
    assert [(p["name"], p["schema"].get("enum")) for p in params] == [("slug", None), ("lang", ["en", "es", "pt", "zh"])]
    documented = spec["components"]["schemas"]["Practice"]["properties"]
    assert {"body_language", "translation", "languages", "versions", "original_title"} <= set(documented)
    assert "matched_language" in spec["components"]["schemas"]["SearchResult"]["properties"]["hits"]["items"]["properties"]


def test_search_results_say_which_translation_matched(client):
    html = client.get("/search?q=campesinos&lang=en").get_data(as_text=True)
    assert text_of(html, "matched-lang") == "Found in its translation: Español"


def test_exports_and_citations_name_the_original(client):
    rows = list(csv.DictReader(io.StringIO(client.get("/api/export.csv?sort=title").get_data(as_text=True)[1:])))
    assert {r["slug"]: r["languages"] for r in rows if r["slug"] in ("per-juntos", "chn-dibao", "jam-path")} == {
        "per-juntos": "es; zh", "chn-dibao": "es; zh", "jam-path": "en"}
    ris = client.get("/practices/per-juntos/cite.ris?lang=zh").get_data(as_text=True)
    assert re.findall(r"^(TI|LA|N1)  - (.*?)\r$", ris.split("ER  -")[0], re.M) == [
        ("TI", "Juntos"), ("LA", "es"), ("N1", "Case study in Spanish, last reviewed 2026-11-01")]
