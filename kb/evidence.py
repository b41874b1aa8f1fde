"""The evidence gap map of a search: policy types by evaluated outcome, each cell counting the coded
evaluations and their designs (after 3ie's evidence gap maps), as plain data and as CSV rows."""

from __future__ import annotations

import threading
from collections import Counter
from functools import reduce
from itertools import chain
from weakref import WeakKeyDictionary

from kb import vocab
from kb.charts import shade
from kb.search import SearchRequest, select

# Short, language-neutral codes for the designs in the cells; the legend gives the labels.
DESIGN_CODES = {"rct": "RCT", "quasi-experimental": "QE", "mixed-methods": "MM", "qualitative": "QL",
                "monitoring": "MO", "descriptive": "DE"}
CSV_COLUMNS = ("policy_type", "outcome", "evaluations", "practices", *(d.replace("-", "_") for d in DESIGN_CODES))


_CODED: WeakKeyDictionary = WeakKeyDictionary()  # per index snapshot (generation): its coded evaluations
_LOCK = threading.Lock()


def coded_evaluations(snap) -> tuple[int, dict[int, tuple]]:
    """The bitset of documents with a coded evaluation and, per document, its (type, outcome, design)
    triples and distinct (type, outcome) cells; read once per snapshot, so a map reads no record."""
    found = _CODED.get(snap)
    if found is None:
        # only practices with a coded evaluation are read: the OR of the outcome facet's bitsets
        evaluated = reduce(lambda a, b: a | b, snap.facet_bits["outcome"].values(), 0)
        per_doc = {}
        for docnum in snap.sorted_docs(evaluated, "title"):
            record = snap.record(docnum)
            # a practice counts under each of its policy types
            triples = tuple((t, e["outcome"], e["design"]) for t in record["policy_types"]
                            for e in record.get("evaluations") or [])
            per_doc[docnum] = (triples, tuple({(t, o) for t, o, _ in triples}))
        found = (evaluated, per_doc)
        with _LOCK:
            _CODED[snap] = found
    return found


def tally(store, request: SearchRequest) -> tuple[Counter, Counter]:
    """For the search: evaluations per (policy type, outcome, design) and practices per (policy type, outcome)."""
    sel = select(store, request)
    evaluated, per_doc = coded_evaluations(sel.snap)
    docs = [per_doc[d] for d in sel.snap.sorted_docs(sel.final & evaluated, "title")]
    return (Counter(chain.from_iterable(triples for triples, _ in docs)),
            Counter(chain.from_iterable(cells for _, cells in docs)))


def _cell(evaluations: Counter, practices: Counter, policy_type: str, outcome: str) -> tuple[dict, int, int]:
    designs = {d: evaluations[(policy_type, outcome, d)] for d in DESIGN_CODES}
    return designs, sum(designs.values()), practices[(policy_type, outcome)]


def evidence_map(store, request: SearchRequest, lang: str = "en") -> dict:
    """Rows of policy types, columns of outcomes; each cell's evaluations, designs, shade and search link."""
    evaluations, practices = tally(store, request)
    cells = {(t, o): _cell(evaluations, practices, t, o) for t, o in practices}
    top = max((count for _, count, _ in cells.values()), default=0)
    outcomes = vocab.outcomes().values()
    rows = []
    for policy_type in vocab.policy_types():
        row_cells = []
        for outcome in outcomes:
            designs, count, evaluated = cells.get((policy_type.value, outcome), ({}, 0, 0))
            row_cells.append({
                "outcome": outcome, "count": count, "practices": evaluated, "shade": shade(count, top),
                "designs": [{"design": d, "code": code, "count": designs[d]}
                            for d, code in DESIGN_CODES.items() if designs.get(d)],
                "url": request.url("/search", policy_type=[policy_type.value], outcome=[outcome], page=None)})
        rows.append({"value": policy_type.value, "label": policy_type.label(lang), "cells": row_cells,
                     "total": sum(c["count"] for c in row_cells)})
    columns = [{"value": o, "label": vocab.outcomes().label(o, lang),
                "total": sum(r["cells"][i]["count"] for r in rows)} for i, o in enumerate(outcomes)]
    legend = [{"code": code, "label": vocab.evidence_levels().label(d, lang)} for d, code in DESIGN_CODES.items()]
    return {"rows": rows, "columns": columns, "legend": legend, "total": sum(r["total"] for r in rows),
            "csv_url": request.url("/api/export/evidence-map.csv", page=None, per_page=None)}


def map_rows(emap: dict):
    """Every cell of a built map (empty ones too, they are the gaps) as CSV rows."""
    for row in emap["rows"]:
        for cell in row["cells"]:
            designs = {d["design"]: d["count"] for d in cell["designs"]}
            yield [row["value"], cell["outcome"], cell["count"], cell["practices"],
                   *(designs.get(d, 0) for d in DESIGN_CODES)]


def csv_rows(store, request: SearchRequest):
    """Every cell of the map (empty ones too, they are the gaps) as CSV rows."""
    evaluations, practices = tally(store, request)
    for policy_type in vocab.policy_types().values():
        for outcome in vocab.outcomes().values():
            designs, count, evaluated = _cell(evaluations, practices, policy_type, outcome)
            yield [policy_type, outcome, count, evaluated, *designs.values()]
