"""The weekly scorecard: opened from its snapshot (what leadership saw that week), what changed since last
week at the top, and the open gap actions under it."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from cadence.report.charts import to_svg
from cadence.report.scorecard import week_context
from cadence.review.actions import actions_for_week
from cadence.review.changes import what_changed
from cadence.review.snapshots import Snapshot, get_snapshot, latest_snapshot, parse_week, take_scoped_snapshot
from cadence.web.deps import Viewer, settings_of, viewer
from cadence.web.pages import respond

router = APIRouter(tags=["scorecard"])


def week_of(request: Request, seen: Viewer, week: str | None) -> date:
    """Monday of the week asked for; without one, the newest snapshot's week, else the last complete week."""
    if week:
        return parse_week(week)
    latest = latest_snapshot(seen.full, scope=seen.scope.key)
    if latest is not None:
        return latest.week_start
    return week_context(seen.ws, None, settings_of(request).today).week_start


def iso_week(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def snapshot_for(request: Request, seen: Viewer, week_start: date, *, fresh: bool = False) -> Snapshot:
    """The stored snapshot of the week for the viewer's scope, computed (and kept) on first need."""
    if not fresh:
        stored = get_snapshot(seen.full, week_start, scope=seen.scope.key)
        if stored is not None:
            return stored
    return take_scoped_snapshot(seen.full, seen.scope, iso_week(week_start), computed_by=seen.user.user_id,
                                today=settings_of(request).today)


@lru_cache(maxsize=512)
def _svg(snapshot_id: str, key: str, spec_text: str) -> str:
    import json

    return to_svg(json.loads(spec_text))


def charts_of(snapshot: Snapshot) -> dict[str, str]:
    import json

    charts: dict[str, str] = {}
    for section in snapshot.payload.get("sections", []):
        for chart in section.get("charts", []):
            charts[chart["key"]] = _svg(snapshot.snapshot_id, chart["key"], json.dumps(chart["spec"], sort_keys=True))
    return charts


def scorecard_data(request: Request, seen: Viewer, week: str | None) -> dict[str, Any]:
    week_start = week_of(request, seen, week)
    snapshot = snapshot_for(request, seen, week_start)
    previous = get_snapshot(seen.full, week_start - timedelta(days=7), scope=seen.scope.key)
    teams = None if seen.scope.kind == "all" else set(seen.scope.teams)
    return {
        "snapshot": {k: v for k, v in snapshot.as_dict().items() if k != "payload"},
        "scope": seen.scope.label,
        "scorecard": snapshot.payload,
        "changes": what_changed(snapshot, previous),
        "has_previous": previous is not None,
        "previous_week": iso_week(week_start - timedelta(days=7)),
        "next_week": iso_week(week_start + timedelta(days=7)),
        "actions": actions_for_week(seen.full, week_start, teams=teams),
        "_snapshot": snapshot,
    }


@router.get("/scorecard", include_in_schema=False)
@router.get("/scorecard.json", summary="The week's scorecard from its snapshot, what changed, open gap actions")
def scorecard(request: Request, week: str | None = None, seen: Viewer = Depends(viewer("scorecard"))) -> Response:
    data = scorecard_data(request, seen, week)
    snapshot = data.pop("_snapshot")
    charts = {} if request.url.path.endswith(".json") else charts_of(snapshot)
    return respond(request, "scorecard.html", data, viewer=seen, charts=charts,
                   currency=snapshot.payload.get("currency", "USD"))


@router.post("/scorecard/snapshot", include_in_schema=False)
def recompute(request: Request, week: str = Form(...), back: str = Form(""),
              seen: Viewer = Depends(viewer("scorecard"))) -> Response:
    """Compute the week again from today's data (kept as the week's snapshot from now on); `back` is the week to
    return to (computing last week to compare this one with)."""
    seen.require_write("scorecard")
    week_start = parse_week(week)
    before = get_snapshot(seen.full, week_start, scope=seen.scope.key)
    after = snapshot_for(request, seen, week_start, fresh=True)
    seen.audit("snapshot", f"snapshots/{iso_week(week_start)}/{seen.scope.key}",
               before={"snapshot_id": before.snapshot_id} if before else None,
               after={"snapshot_id": after.snapshot_id, "definitions_version": after.definitions_version})
    shown = iso_week(parse_week(back)) if back else iso_week(week_start)
    return RedirectResponse(f"/scorecard?week={shown}", status_code=303)
