"""The two reference points the benchmark compares against, on the same corpus and queries.

- `PlainWhoosh`: the straightforward use of Whoosh (one stemmed text field, facet counts with
  `groupedby`, a filter query). Whoosh is imported here as well as in `kb.engine`: this module
  measures Whoosh itself and is not part of the product.
- `Fts5`: SQLite FTS5 with facet counts from GROUP BY.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from whoosh import index, qparser, query, sorting
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, TEXT, Schema

FACETS = ("country", "policy_type")


class PlainWhoosh:
    """A textbook Whoosh index and search with facet counts."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.ix = None
        self.searcher = None

    def build(self, practices) -> None:
        """Index every practice in one writer."""
        self.folder.mkdir(parents=True, exist_ok=True)
        schema = Schema(slug=ID(stored=True, unique=True), title=TEXT(analyzer=StemmingAnalyzer(), field_boost=2.0),
                        body=TEXT(analyzer=StemmingAnalyzer()), country=KEYWORD(commas=True),
                        policy_type=KEYWORD(commas=True))
        self.ix = index.create_in(self.folder, schema)
        writer = self.ix.writer(limitmb=256)
        for p in practices:
            writer.add_document(slug=p.slug, title=p.title, body=f"{p.summary} {p.body}",
                                country=",".join(p.countries), policy_type=",".join(p.policy_types))
        writer.commit()
        self.searcher = self.ix.searcher()
        self.parser = qparser.MultifieldParser(["title", "body"], schema, group=qparser.OrGroup)

    def search(self, q: str, filters: dict[str, list[str]]) -> tuple[int, dict]:
        """Top 10 with facet counts for country and policy type (non-disjunctive, as Whoosh gives them)."""
        parsed = self.parser.parse(q) if q else query.Every()
        clauses = [query.Or([query.Term(k, v) for v in vals]) for k, vals in filters.items() if vals]
        flt = query.And(clauses) if clauses else None
        facets = {name: sorting.FieldFacet(name, allow_overlap=True) for name in FACETS}
        results = self.searcher.search(parsed, filter=flt, limit=10, groupedby=facets)
        counts = {name: {k: len(v) for k, v in results.groups(name).items()} for name in FACETS}
        return len(results), counts


class Fts5:
    """SQLite FTS5 with a facet table."""

    def __init__(self, path: Path):
        self.path = path
        self.db = None

    def build(self, practices) -> None:
        """Load every practice into an FTS5 table and a facet table."""
        self.path.unlink(missing_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.executescript(
            "CREATE VIRTUAL TABLE docs USING fts5(slug UNINDEXED, title, body, tokenize='porter unicode61');"
            "CREATE TABLE facets(doc INTEGER, facet TEXT, value TEXT);"
            "CREATE INDEX facet_value ON facets(facet, value, doc);")
        for rowid, p in enumerate(practices, 1):
            self.db.execute("INSERT INTO docs(rowid, slug, title, body) VALUES (?, ?, ?, ?)",
                            (rowid, p.slug, p.title, f"{p.summary} {p.body}"))
            self.db.executemany("INSERT INTO facets VALUES (?, ?, ?)",
                                [(rowid, "country", c) for c in p.countries]
                                + [(rowid, "policy_type", t) for t in p.policy_types])
        self.db.commit()

    def search(self, q: str, filters: dict[str, list[str]]) -> tuple[int, dict]:
        """Top 10 by bm25 and disjunctive facet counts, in SQL."""
        terms = " OR ".join('"' + w.replace('"', "") + '"' for w in q.split()) if q else None
        base = "SELECT rowid AS doc FROM docs WHERE docs MATCH ?" if terms else "SELECT rowid AS doc FROM docs"
        params = [terms] if terms else []

        def filtered(skip=None):
            sql, args = base, list(params)
            for facet, values in filters.items():
                if values and facet != skip:
                    marks = ",".join("?" * len(values))
                    sql += (" AND " if "WHERE" in sql else " WHERE ") + (
                        f"rowid IN (SELECT doc FROM facets WHERE facet = ? AND value IN ({marks}))")
                    args += [facet, *values]
            return sql, args

        sql, args = filtered()
        total = self.db.execute(f"SELECT count(*) FROM ({sql})", args).fetchone()[0]
        order = " ORDER BY bm25(docs)" if terms else ""
        self.db.execute(f"{sql}{order} LIMIT 10", args).fetchall()
        counts = {}
        for facet in FACETS:
            sub, sub_args = filtered(skip=facet)
            rows = self.db.execute(f"SELECT value, count(*) FROM facets WHERE facet = ? AND doc IN ({sub}) "
                                   "GROUP BY value", [facet, *sub_args]).fetchall()
            counts[facet] = dict(rows)
        return total, counts
