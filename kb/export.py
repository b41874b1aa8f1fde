"""Exports of a whole filtered search (every page) as CSV or JSON, streamed record by record."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

# Stable, documented columns: new ones are only ever appended.
CSV_COLUMNS = (
    "slug", "url", "title", "local_name", "countries", "regions", "policy_types", "primary_policy_type",
    "year_start", "year_end", "status", "language", "geographic_scale", "evidence_level", "sdg_targets",
    "tags", "summary", "last_reviewed", "source_urls", "languages",
)
LIST_SEPARATOR = "; "


def csv_row(record: dict, base_url: str) -> list[str]:
    """One practice as a CSV row (lists joined with '; ')."""
    values = {**record, "url": f"{base_url}/practices/{record['slug']}",
              "primary_policy_type": record["policy_types"][0],
              "source_urls": [s["url"] for s in record["sources"]],
              "languages": record.get("languages") or [record["language"]]}  # of the body: original and translations
    return [LIST_SEPARATOR.join(v) if isinstance(v, list) else "" if v is None else str(v)
            for v in (values.get(c) for c in CSV_COLUMNS)]


def stream_csv(records: Iterable[dict], base_url: str) -> Iterator[str]:
    """CSV text in chunks: a header, then one line per practice (UTF-8 BOM so Excel reads accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    for record in records:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(csv_row(record, base_url))
        yield buffer.getvalue()


def json_record(record: dict, base_url: str) -> dict:
    """One practice in the JSON export: its front matter, regions and URL (no body)."""
    return {**{k: v for k, v in record.items() if k not in ("body", "path")},
            "url": f"{base_url}/practices/{record['slug']}"}


def stream_json(records: Iterable[dict], base_url: str, query: dict) -> Iterator[str]:
    """A JSON document `{query, practices: [...]}` produced one practice at a time."""
    yield '{"query": ' + json.dumps(query, ensure_ascii=False) + ', "practices": ['
    for n, record in enumerate(records):
        yield ("," if n else "") + "\n" + json.dumps(json_record(record, base_url), ensure_ascii=False)
    yield "\n]}\n"
