"""Data quality: what `cadence check` reports (each rule, how many rows, example rows, what to do) and what
`cadence quarantine` lists (every refused row of every import: file, line, column, value, reason), the latter
also as a CSV download recorded in the audit log."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cadence.analysis.as_of import resolve_as_of
from cadence.analysis.quality import check_data_quality
from cadence.web.deps import Viewer, settings_of, viewer
from cadence.web.pages import csv_response, respond
from cadence.web.results import kept
from cadence.workspace import Workspace

router = APIRouter(tags=["data quality"])

QUARANTINE_COLUMNS = ["file", "line", "target_table", "column_name", "value", "reason"]
SHOWN = 500  # quarantined rows on the page and in its JSON unless ?limit= says otherwise (the CSV has them all)


@router.get("/quality", include_in_schema=False)
@router.get("/quality.json", summary="Data-quality findings, errors first (as `cadence check`)")
def quality_page(request: Request, seen: Viewer = Depends(viewer("quality"))) -> Response:
    day = resolve_as_of(seen.ws, settings_of(request).today)
    findings = kept(request, seen, ("quality", day.day),
                    lambda: [f.as_dict() for f in check_data_quality(seen.ws, today=day.day)])
    data = {**day.as_dict(), "findings": findings}  # what `cadence check --format json` prints
    return respond(request, "quality.html", data, viewer=seen)


def quarantine_frame(ws: Workspace, limit: int | None) -> pd.DataFrame:
    """The quarantined rows by file and line (the first `limit`), as `cadence quarantine` reads them — through
    the reader's scope, which lets only company-wide readers see refused rows."""
    ordered = ws.table("quarantine").order_by(["file", "line"])
    return (ordered if limit is None else ordered.limit(limit)).to_pandas()


def quarantined(ws: Workspace, frame: pd.DataFrame) -> dict[str, Any]:
    """`cadence quarantine --format json`: how many problems there are, and the rows listed."""
    total = int(ws.table("quarantine").count().execute())
    return {"total": total, "rows": frame.drop(columns=["row_json", "import_key"]).to_dict("records")}


def by_import(ws: Workspace, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Each import with rows in quarantine — its file, how many problems and source lines — and the rows of
    `frame` that belong to it."""
    table = ws.table("quarantine")
    counts = table.group_by(["import_key", "file"]).aggregate(
        problems=table.count(), lines=table.line.nunique()).order_by(["file", "import_key"]).to_pandas()
    shown = frame.drop(columns=["row_json"]).to_dict("records")
    return [{"import_key": str(r.import_key), "file": str(r.file), "problems": int(r.problems), "lines": int(r.lines),
             "rows": [row for row in shown if row["import_key"] == r.import_key]}
            for r in counts.itertuples(index=False)]


@router.get("/quality/quarantine", include_in_schema=False)
@router.get("/quality/quarantine.json", summary="Quarantined rows: file, line, column, value, reason (as "
            "`cadence quarantine --limit N`)")
@router.get("/quality/quarantine.csv", summary="Every quarantined row as a CSV download (recorded in the audit log)")
def quarantine_page(request: Request, limit: int = SHOWN, seen: Viewer = Depends(viewer("quality"))) -> Response:
    ws, path = seen.ws, request.url.path
    frame = quarantine_frame(ws, None if path.endswith(".csv") else max(limit, 0))
    data = quarantined(ws, frame)
    if path.endswith(".csv"):
        seen.audit("export", path, after={"rows": len(data["rows"])})
        return csv_response(data["rows"], QUARANTINE_COLUMNS, "quarantine.csv")
    if path.endswith(".json"):
        return respond(request, "quality_quarantine.html", data)
    return respond(request, "quality_quarantine.html", data, viewer=seen, imports=by_import(ws, frame),
                   columns=QUARANTINE_COLUMNS, limit=max(limit, 0))
