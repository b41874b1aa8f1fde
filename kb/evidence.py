"""The evidence gap map of a search: policy types by evaluated outcome, each cell counting the coded
evaluations and their designs (after 3ie's evidence gap maps), as plain data and as CSV rows."""

from __future__ import annotations

from collections import Counter
from functools import reduce

from kb import vocab
from kb.charts import shade
from kb.search import SearchRequest, select

# Short, language-neutral codes for the designs in the cells; the legend gives the labels.
DESIGN_CODES = {"rct": "RCT", "quasi-experimental": "QE", "mixed-methods": "MM", "qualitative": "QL",
                "monitoring": "MO", "descriptive": "DE"}
CSV_COLUMNS = ("policy_type", "outcome", "evaluations", "practices", *(d.replace("-", "_") for d in DESIGN_CODES))


def tally(store, request: SearchRequest) -> dict[tuple[str, str], dict]:
    """Per (policy type, outcome), the number of evaluations by design and the practices evaluated."""
    sel = select(store, request)
    snap = sel.snap
    # only practices with a coded evaluation are read: the OR of the outcome facet's bitsets
    evaluated = reduce(lambda a, b: a | b, snap.facet_bits["outcome"].values(), 0) & sel.final
    cells: dict[tuple[str, str], dict] = {}
    for docnum in snap.sorted_docs(evaluated, "title"):
        record = snap.record(docnum)
        for policy_type in record["policy_types"]:  # a practice counts under each of its types
            for evaluation in record.get("evaluations") or []:
                cell = cells.setdefault((policy_type, evaluation["outcome"]), {"designs": Counter(), "practices": set()})
                cell["designs"][evaluation["design"]] += 1
                cell["practices"].add(record["slug"])
    return cells


def evidence_map(store, request: SearchRequest, lang: str = "en") -> dict:
    """Rows of policy types, columns of outcomes; each cell's evaluations, designs, shade and search link."""
    cells = tally(store, request)
    top = max((sum(c["designs"].values()) for c in cells.values()), default=0)
    outcomes = vocab.outcomes().values()
    rows = []
    for policy_type in vocab.policy_types():
        row_cells = []
        for outcome in outcomes:
            found = cells.get((policy_type.value, outcome), {"designs": Counter(), "practices": set()})
            count = sum(found["designs"].values())
            row_cells.append({
                "outcome": outcome, "count": count, "practices": len(found["practices"]), "shade": shade(count, top),
                "designs": [{"design": d, "code": code, "count": found["designs"][d]}
                            for d, code in DESIGN_CODES.items() if found["designs"][d]],
                "url": request.url("/search", policy_type=[policy_type.value], outcome=[outcome], page=None)})
        rows.append({"value": policy_type.value, "label": policy_type.label(lang), "cells": row_cells,
                     "total": sum(c["count"] for c in row_cells)})
    columns = [{"value": o, "label": vocab.outcomes().label(o, lang),
                "total": sum(r["cells"][i]["count"] for r in rows)} for i, o in enumerate(outcomes)]
    legend = [{"code": code, "label": vocab.evidence_levels().label(d, lang)} for d, code in DESIGN_CODES.items()]
    return {"rows": rows, "columns": columns, "legend": legend, "total": sum(r["total"] for r in rows),
            "csv_url": request.url("/api/export/evidence-map.csv", page=None, per_page=None)}


def csv_rows(store, request: SearchRequest):
    """Every cell of the map (empty ones too, they are the gaps) as CSV rows."""
    cells = tally(store, request)
    for policy_type in vocab.policy_types().values():
        for outcome in vocab.outcomes().values():
            found = cells.get((policy_type, outcome), {"designs": Counter(), "practices": set()})
            yield [policy_type, outcome, sum(found["designs"].values()), len(found["practices"]),
                   *(found["designs"][d] for d in DESIGN_CODES)]
