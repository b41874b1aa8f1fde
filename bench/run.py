"""`make bench`: build, serve and measure at several corpus sizes; print a table and write JSON.

    python -m bench.run --sizes 1000 10000 [--queries 200] [--soak 60] [--out bench/out]

For each size: generate a seeded corpus, time a full rebuild and an incremental run after one
change, serve it with `kb serve`, time 200 seeded queries over HTTP (p50/p95/max), read the
server's memory, run 16 concurrent clients (also while `kb index --rebuild` runs) against one
worker process and again against `--workers 2`, check totals
and facet counts against an independent computation, and time the same queries with plain
Whoosh and SQLite FTS5 in one interleaved loop.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from bench.baselines import Fts5, PlainWhoosh
from bench.generate import generate, word_pools
from kb import vocab
from kb.config import Settings
from kb.engine import open_store
from kb.practice import load_tree
from kb.search import SearchRequest, run_search

ROOT = Path(__file__).resolve().parent.parent


def seeded_queries(count: int, seed: int = 7) -> list[dict]:
    """`count` queries of 1 to 3 words; half with a country, a quarter with a policy type too."""
    rng = random.Random(seed)
    pools = word_pools()
    words = [w.lower() for w in pools["en"] if len(w) > 3] + [w.lower() for lang in ("es", "pt") for w in
                                                              pools[lang] if len(w) > 3][:2000]
    out = []
    for n in range(count):
        q = " ".join(rng.sample(words, rng.randint(1, 3)))
        filters = {}
        if n % 2 == 0:
            filters["country"] = [rng.choice(vocab.countries().values())]
        if n % 4 == 0:
            filters["policy_type"] = [rng.choice(vocab.policy_types().values())]
        out.append({"q": q, "filters": filters})
    return out


def query_string(query: dict, **extra) -> str:
    """The /api/search query string of a benchmark query."""
    pairs = [("q", query["q"])] + [(k, v) for k, vals in query["filters"].items() for v in vals]
    return urllib.parse.urlencode(pairs + list(extra.items()))


def percentiles(samples: list[float]) -> dict:
    """p50, p95 and max in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2)}


class Server:
    """`kb serve` in a subprocess on a free port."""

    def __init__(self, settings: Settings, port: int, workers: int = 1):
        self.port = port
        cmd = [sys.executable, "-m", "kb", "--practices", str(settings.practices_dir), "--index",
               str(settings.index_dir), "serve", "--port", str(port), "--workers", str(workers)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                self.get("/healthz")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("kb serve did not start")

    def get(self, path: str, conn: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
        """GET a path; returns (status, body)."""
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            if own:
                conn.close()

    def rss_mb(self) -> float:
        """Resident memory of the server and its children, in MB."""
        pids = [self.proc.pid]
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        total = 0
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return round(total / 1024, 1)

    def stop(self) -> None:
        """Stop the server."""
        self.proc.terminate()
        self.proc.wait(timeout=20)


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed_queries(server: Server, queries: list[dict]) -> tuple[list[float], int]:
    """Latency of each query over one keep-alive connection; the number of non-200 answers."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    times, errors = [], 0
    for query in queries:
        start = time.perf_counter()
        status, _ = server.get("/api/search?" + query_string(query), conn)
        times.append(time.perf_counter() - start)
        errors += status != 200
    conn.close()
    return times, errors


def soak(server: Server, queries: list[dict], clients: int, seconds: float) -> dict:
    """`clients` threads sending queries for `seconds`; count answers and errors."""
    stop = time.time() + seconds
    done, errors = [0] * clients, [0] * clients

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        n = i
        while time.time() < stop:
            try:
                status, _ = server.get("/api/search?" + query_string(queries[n % len(queries)]), conn)
                errors[i] += status != 200
            except OSError:
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            done[i] += 1
            n += clients

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"requests": sum(done), "errors": sum(errors), "throughput_rps": round(sum(done) / seconds, 1)}


def check_exact(settings: Settings, practices, queries: list[dict]) -> dict:
    """Totals and disjunctive counts against a brute-force count from the files' front matter.

    Each query's text matches are taken once without filters; everything the facets add
    (filters, OR within a facet, AND across, disjunctive counts) is then recounted by hand.
    """
    store = open_store(settings)
    by_slug = {p.slug: p for p in practices}
    mismatches = []
    for query in queries:
        bare = run_search(store, SearchRequest.build(query["q"], {}, per_page=1))
        matched = _all_slugs(store, query["q"], bare.total)
        result = run_search(store, SearchRequest.build(query["q"], query["filters"], per_page=1))
        expected_total, expected_counts = _brute(by_slug, matched, query["filters"])
        got_counts = {f: {v["value"]: v["count"] for v in result.facets[f]["values"] if v["count"]}
                      for f in ("country", "policy_type")}
        if result.total != expected_total or got_counts != expected_counts:
            mismatches.append(query)
    return {"queries_checked": len(queries), "mismatches": len(mismatches), "identical": not mismatches}


def _all_slugs(store, q: str, total: int) -> set[str]:
    slugs, page = set(), 1
    while len(slugs) < total:
        result = run_search(store, SearchRequest.build(q, {}, per_page=100, page=page, sort="title"))
        slugs |= {h["slug"] for h in result.hits}
        page += 1
    return slugs


def _brute(by_slug: dict, matched: set[str], filters: dict) -> tuple[int, dict]:
    def keep(p, skip=None):
        return all(set(getattr(p, "countries" if f == "country" else "policy_types")) & set(vals)
                   for f, vals in filters.items() if f != skip)

    total = sum(1 for s in matched if keep(by_slug[s]))
    counts = {}
    for facet, attr in (("country", "countries"), ("policy_type", "policy_types")):
        tally: dict[str, int] = {}
        for s in matched:
            if keep(by_slug[s], skip=facet):
                for v in getattr(by_slug[s], attr):
                    tally[v] = tally.get(v, 0) + 1
        counts[facet] = tally
    return total, counts


def compare_engines(settings: Settings, practices, queries: list[dict], work: Path) -> dict:
    """Ours in-process, plain Whoosh and FTS5 on the same queries, interleaved query by query."""
    plain, fts = PlainWhoosh(work / "plain-whoosh"), Fts5(work / "fts5.sqlite")
    started = time.perf_counter()
    plain.build(practices)
    plain_build = time.perf_counter() - started
    fts.build(practices)
    store = open_store(settings)
    run_search(store, SearchRequest.build("warm", {}))
    times = {"ours": [], "plain_whoosh": [], "sqlite_fts5": []}
    engines = {"ours": lambda q, f: run_search(store, SearchRequest.build(q, f)),
               "plain_whoosh": plain.search, "sqlite_fts5": fts.search}
    for query in queries:
        for name, engine in engines.items():
            start = time.perf_counter()
            engine(query["q"], query["filters"])
            times[name].append(time.perf_counter() - start)
    out = {name: percentiles(samples) for name, samples in times.items()}
    out["plain_whoosh_build_docs_per_s"] = round(len(practices) / plain_build, 1)
    return out


def kb(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """Run a `kb` command on these settings."""
    cmd = [sys.executable, "-m", "kb", "--practices", str(settings.practices_dir), "--index",
           str(settings.index_dir), *args]
    return subprocess.run(cmd, capture_output=True, text=True)


def measure(size: int, out: Path, n_queries: int, soak_seconds: float, port: int) -> dict:
    """Every figure for one corpus size."""
    work = out / f"n{size}"
    corpus = work / "practices"
    if not corpus.exists():
        generate(corpus, size)
    settings = Settings(corpus, work / "index")
    os.sync()  # each timed phase starts on a flushed disk, not with the previous phase's writes pending
    started = time.perf_counter()
    built = kb(settings, "index", "--rebuild", "-q")
    build_s = time.perf_counter() - started
    assert built.returncode == 0, built.stderr
    first = next(corpus.rglob("*.md"))
    first.write_text(first.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    os.sync()
    started = time.perf_counter()
    kb(settings, "index", "-q")
    incremental_s = time.perf_counter() - started
    practices, _ = load_tree(corpus)
    queries = seeded_queries(n_queries)
    os.sync()  # (what searching costs while a rebuild writes is the soak below)
    server = Server(settings, port)
    try:
        server.get("/api/search?q=warm")
        times, errors = timed_queries(server, queries)
        rss = server.rss_mb()
        load = soak(server, queries, 16, soak_seconds)
        rebuild = threading.Thread(target=kb, args=(settings, "index", "--rebuild", "-q"))
        rebuild.start()
        during = soak(server, queries, 16, max(3.0, soak_seconds / 4))
        rebuild.join()
        rss_after = server.rss_mb()
    finally:
        server.stop()
    two = _two_workers(settings, queries, soak_seconds, port)
    return {
        "size": size, "build_s": round(build_s, 2), "build_docs_per_s": round(size / build_s, 1),
        "incremental_one_change_s": round(incremental_s, 2),
        "http": {**percentiles(times), "errors": errors, "queries": len(queries)},
        "server_rss_mb": max(rss, rss_after), "soak_16_clients": load, "soak_during_rebuild": during,
        "two_workers": two,
        "exactness": check_exact(settings, practices, queries[:40]),
        "in_process": compare_engines(settings, practices, queries, work),
    }


def _two_workers(settings: Settings, queries: list[dict], soak_seconds: float, port: int) -> dict:
    """The same 16-client soak on `kb serve --workers 2`, alone and while a rebuild runs."""
    server = Server(settings, port, workers=2)
    try:
        for query in queries[:20]:  # both workers open the index before the clock starts
            server.get("/api/search?" + query_string(query))
        load = soak(server, queries, 16, soak_seconds)
        rebuild = threading.Thread(target=kb, args=(settings, "index", "--rebuild", "-q"))
        rebuild.start()
        during = soak(server, queries, 16, max(3.0, soak_seconds / 4))
        rebuild.join()
    finally:
        server.stop()
    return {"soak_16_clients": load, "soak_during_rebuild": during}


def table(results: list[dict]) -> str:
    """A plain-text summary table."""
    rows = [("size", "build/s", "incr s", "http p50", "p95", "max", "RSS MB", "rps(16)", "rps(16,2w)", "err",
             "exact", "ours p95", "whoosh p95", "fts5 p95", "x whoosh", "x fts5")]
    for r in results:
        ip = r["in_process"]
        rows.append((r["size"], r["build_docs_per_s"], r["incremental_one_change_s"], r["http"]["p50_ms"],
                     r["http"]["p95_ms"], r["http"]["max_ms"], r["server_rss_mb"],
                     r["soak_16_clients"]["throughput_rps"], r["two_workers"]["soak_16_clients"]["throughput_rps"],
                     r["http"]["errors"] + r["soak_16_clients"]["errors"] + r["soak_during_rebuild"]["errors"]
                     + r["two_workers"]["soak_16_clients"]["errors"] + r["two_workers"]["soak_during_rebuild"]["errors"],
                     r["exactness"]["identical"], ip["ours"]["p95_ms"], ip["plain_whoosh"]["p95_ms"],
                     ip["sqlite_fts5"]["p95_ms"],
                     round(ip["plain_whoosh"]["p95_ms"] / max(ip["ours"]["p95_ms"], 0.001), 1),
                     round(ip["sqlite_fts5"]["p95_ms"] / max(ip["ours"]["p95_ms"], 0.001), 2)))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(v).rjust(w) for v, w in zip(row, widths, strict=True)) for row in rows)


def main(argv: list[str] | None = None) -> list[dict]:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Benchmark the knowledge base.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--soak", type=float, default=60.0, help="seconds of the 16-client run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    port = args.port or free_port()
    results = [measure(size, args.out, args.queries, args.soak, port) for size in args.sizes]
    print(table(results))
    (args.out / "results.json").write_text(json.dumps({"cpus": os.cpu_count(), "results": results}, indent=1))
    print(f"\nwrote {args.out / 'results.json'}")
    return results


if __name__ == "__main__":
    main()
