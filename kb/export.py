"""Exports of a whole filtered search (every page) as CSV or JSON, streamed record by record."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator

from kb import figures, vocab


def indicator_columns() -> list[str]:
    """Per indicator, its latest value and year (and currency, period and unit where it has them)."""
    out = []
    for term in vocab.indicators():
        rule, name = vocab.indicator_rules()[term.value], term.value.replace("-", "_")
        out += [name, f"{name}_year"] + ([f"{name}_currency"] if rule.kind == "money" else []) + (
            [f"{name}_period"] if rule.period else []) + ([f"{name}_unit"] if rule.unit else [])
    return out


log = logging.getLogger(__name__)

# Stable, documented columns: new ones are only ever appended.
CSV_COLUMNS = (
    "slug", "url", "title", "local_name", "countries", "regions", "policy_types", "primary_policy_type",
    "year_start", "year_end", "status", "language", "geographic_scale", "evidence_level", "sdg_targets",
    "tags", "summary", "last_reviewed", "source_urls",
    "target_group", "benefits", "conditionality", "targeting", "impact_evaluation",
    *indicator_columns(),
    # one entry per source, in the order of source_urls (empty where a source has none); a source's
    # authors joined with " and ", as BibTeX does
    "source_authors", "source_dois", "source_containers", "languages",
)
LIST_SEPARATOR = "; "
INDICATOR_COLUMNS = ("slug", "country", "indicator", "kind", "value", "currency", "unit", "period", "year",
                     "source_url", "note")
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP,
# "CSV Injection"): it is written with a single quote in front, which they show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
INTERRUPTED = '"export interrupted: this file is incomplete'  # an open quote: no clean ending


def neutral_cell(value: str) -> str:
    """A CSV cell no spreadsheet runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_row(record: dict, base_url: str) -> list[str]:
    """One practice as a CSV row (lists joined with '; ')."""
    design = record.get("design") or {}
    values = {**record, "url": f"{base_url}/practices/{record['slug']}",
              "primary_policy_type": record["policy_types"][0],
              "source_urls": [s["url"] for s in record["sources"]],
              "source_authors": _per_source(record, lambda s: " and ".join(s.get("authors") or [])),
              "source_dois": _per_source(record, lambda s: s.get("doi") or ""),
              "source_containers": _per_source(record, lambda s: s.get("container") or ""),
              **{k: design.get(k) for k in ("target_group", "benefits", "conditionality", "targeting")},
              "impact_evaluation": "yes" if vocab.has_impact_evaluation(record.get("evaluations") or []) else "no",
              **_latest_columns(record),
              "languages": record.get("languages") or [record["language"]]}  # of the body: original and translations
    return [neutral_cell(LIST_SEPARATOR.join(v) if isinstance(v, list) else "" if v is None else str(v))
            for v in (values.get(c) for c in CSV_COLUMNS)]


def _per_source(record: dict, value) -> list[str]:
    """One value per source, in order; no list at all where no source has one (an empty cell)."""
    values = [value(s) for s in record["sources"]]
    return values if any(values) else []


def _latest_columns(record: dict) -> dict:
    out = {}
    for indicator, entry in figures.latest(record).items():
        name = indicator.replace("-", "_")
        out.update({name: entry["value"], f"{name}_year": entry["year"], f"{name}_currency": entry.get("currency"),
                    f"{name}_period": entry.get("period"), f"{name}_unit": entry.get("unit")})
    return out


def stream_csv(records: Iterable[dict], base_url: str) -> Iterator[str]:
    """CSV text in chunks: a header, then one line per practice (UTF-8 BOM so Excel reads accents)."""
    return stream_rows(CSV_COLUMNS, (csv_row(record, base_url) for record in records))


def stream_rows(header: Iterable[str], rows: Iterable[list]) -> Iterator[str]:
    """CSV text in chunks: the header, then each row (UTF-8 BOM so Excel reads accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    done = 0
    try:
        for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([neutral_cell(cell) if isinstance(cell, str) else cell for cell in row])
            done += 1
            yield buffer.getvalue()
    except Exception:
        log.exception("CSV export interrupted after %d row(s); the connection is dropped", done)
        yield INTERRUPTED
        raise  # the server drops the connection before the body's end: a part is never taken for the whole


def indicator_rows(record: dict) -> Iterator[list[str]]:
    """Long format for modellers: one row per figure of a practice, in file order."""
    for entry in record.get("indicators") or []:
        source = record["sources"][entry["source"] - 1]["url"]
        values = {**entry, "slug": record["slug"], "country": LIST_SEPARATOR.join(record["countries"]),
                  "kind": vocab.indicator_rules()[entry["indicator"]].kind, "source_url": source}
        yield ["" if values.get(c) is None else str(values[c]) for c in INDICATOR_COLUMNS]


def stream_indicators_csv(records: Iterable[dict]) -> Iterator[str]:
    """Every figure of the selected practices, one per line (the long format)."""
    return stream_rows(INDICATOR_COLUMNS, (row for record in records for row in indicator_rows(record)))


def json_record(record: dict, base_url: str) -> dict:
    """One practice in the JSON export: its front matter, regions and URL (no body)."""
    return {**{k: v for k, v in record.items() if k not in ("body", "path")},
            "url": f"{base_url}/practices/{record['slug']}", "latest_indicators": figures.latest(record)}


def stream_json(records: Iterable[dict], base_url: str, query: dict) -> Iterator[str]:
    """A JSON document `{query, practices: [...]}` produced one practice at a time."""
    yield '{"query": ' + json.dumps(query, ensure_ascii=False) + ', "practices": ['
    done = 0
    try:
        for record in records:
            yield ("," if done else "") + "\n" + json.dumps(json_record(record, base_url), ensure_ascii=False)
            done += 1
    except Exception:
        log.exception("JSON export interrupted after %d practice(s); the connection is dropped", done)
        raise  # without its closing brackets, the part sent is not valid JSON
    yield "\n]}\n"
