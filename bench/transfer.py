"""Bytes and time of a few pages on a running server, per content coding: `python -m bench.transfer URL`."""

from __future__ import annotations

import argparse
import statistics
import time
import urllib.request

PAGES = ("/", "/search?q=cash+transfer", "/map", "/timeline", "/gaps", "/api/search?q=pension",
         "/static/style.css")
CODINGS = ("identity", "gzip", "br")


def fetch(url: str, coding: str, etag: str | None = None) -> tuple[int, int, float, str | None]:
    """Status, body bytes on the wire, seconds and ETag of one GET."""
    headers = {"Accept-Encoding": coding}
    if etag:
        headers["If-None-Match"] = etag
    request = urllib.request.Request(url, headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            status, tag = response.status, response.headers.get("ETag")
    except urllib.error.HTTPError as exc:  # a 304 arrives as an HTTPError
        body, status, tag = exc.read(), exc.code, exc.headers.get("ETag")
    return status, len(body), time.perf_counter() - started, tag


def measure(base: str, repeat: int) -> list[dict]:
    """One row per page and coding: bytes and median time; and a conditional request's."""
    rows = []
    for page in PAGES:
        for coding in CODINGS:
            runs = [fetch(base + page, coding) for _ in range(repeat)]
            status, size, _, tag = runs[-1]
            row = {"page": page, "coding": coding, "status": status, "bytes": size,
                   "median_ms": round(statistics.median(r[2] for r in runs) * 1000, 2)}
            if tag and coding == "gzip":
                revalidated = [fetch(base + page, coding, tag) for _ in range(repeat)]
                row["conditional"] = {"status": revalidated[-1][0],
                                      "median_ms": round(statistics.median(r[2] for r in revalidated) * 1000, 2)}
            rows.append(row)
    return rows


def main() -> None:
    """Print the table for the server at the given base URL."""
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"{'page':28} {'coding':9} {'status':6} {'bytes':>8} {'ms':>7}  conditional")
    for row in measure(args.base.rstrip("/"), args.repeat):
        cond = row.get("conditional")
        extra = f"{cond['status']} in {cond['median_ms']} ms" if cond else ""
        print(f"{row['page']:28} {row['coding']:9} {row['status']:<6} {row['bytes']:>8} {row['median_ms']:>7}  {extra}")


if __name__ == "__main__":
    main()
