"""The forecast page: the quarter's bookings by every method with its P10–P90 (what `cadence forecast` prints) and
how far each method missed in past quarters (the backtest), with charts of both; the CRM's forecast categories
rolled up the manager hierarchy, the latest calls, whose calls were right (`cadence forecast calls`, over the
last four complete quarters unless `?calls=all`), and the form a manager records a call with.

Who may record a call: an admin or an executive for anyone; a manager for themselves and the people of their
team; a rep reads their own calls but does not record them (a call is their manager's, who hears the rep's
number and owns the team's) — the form is not shown to them and a post is refused.

The backtest replays day 30 of the last four complete quarters by default, as the weekly scorecard does, so the
page stays quick; `?replay=full` replays every complete quarter at its start, day 30 and day 60, exactly as
`cadence forecast backtest` does (tens of seconds on a company with years of deals). A result is kept for a few
minutes per scope and question, so the page and its JSON twin are computed once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from cadence.analysis.as_of import resolve_as_of
from cadence.analysis.forecast import CHECKPOINTS, backtest_report, calls_report, forecast_and_backtest
from cadence.analysis.forecast.calls import read_calls
from cadence.entries.forecast_calls import CallRefused, record_call
from cadence.errors import CadenceError, InputError
from cadence.metrics.money import in_currency, reporting_currency
from cadence.report.charts import SCHEMA, to_svg
from cadence.report.kept_answers import kept_answer
from cadence.report.sections.forecast import CHECKPOINT, QUARTERS, interval_spec
from cadence.web.deps import Viewer, settings_of, viewer
from cadence.web.pages import respond, wants_json
from cadence.web.results import kept
from cadence.workspace import Workspace

router = APIRouter(tags=["forecast"])

REPLAYS = ("quick", "full")
CALL_SPANS = ("recent", "all")
RECENT_QUARTERS = 4  # complete quarters the page scores calls over unless ?calls=all
CALL_FIELDS = ("person", "quarter", "commit", "best_case", "note")


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"as_of {text!r} is not a date", hint="write it as YYYY-MM-DD") from None


def _quarter(ws: Workspace, label: str | None) -> date | None:
    if not label:
        return None
    try:
        start, grain = ws.calendar.parse(label)
    except ValueError as exc:
        raise InputError(str(exc), hint="write the quarter like 2026-Q1 (fiscal)") from None
    if grain != "quarter":
        raise InputError(f"period {label!r} is not a quarter", hint="write it like 2026-Q1 (fiscal)")
    return start


def forecast_report(ws: Workspace, day: date | None, quarter: date | None, today: date | None, replay: str
                    ) -> dict[str, Any]:
    """What `cadence forecast [--as-of DAY] [--period QUARTER] --format json` and `cadence forecast backtest --format
    json` print: the forecast, its quarter's forecast categories rolled up the manager hierarchy, and the backtest
    over every complete quarter (full), or at day 30 of the last four (quick, the scorecard's replay). One load of
    the data and one set of models for all three (`forecast_and_backtest`)."""
    as_of = None if day or quarter else resolve_as_of(ws, today)
    source = in_currency(ws, None)
    full = replay == "full"
    result, rollup, rows = forecast_and_backtest(source, ws.calendar, as_of.next_day if as_of else day, quarter,
                                                 checkpoints=tuple(CHECKPOINTS) if full else (CHECKPOINT,),
                                                 last_quarters=None if full else QUARTERS)
    return {"forecast": {**result.as_dict(), "currency": reporting_currency(source)}, "rollup": rollup.as_dict(),
            "backtest": backtest_report(rows), "replay": replay}


def forecast_data(request: Request, seen: Viewer, day: date | None, quarter: date | None, replay: str
                  ) -> dict[str, Any]:
    """The quarter's forecast with its roll-up, and the backtest, as `cadence forecast` and `cadence forecast backtest`
    print them."""
    today = settings_of(request).today
    return kept(request, seen, ("forecast", day, quarter, replay), lambda: kept_answer(
        seen.ws, ("forecast page", day, quarter, today, replay), lambda: forecast_report(seen.ws, day, quarter, today,
                                                                                         replay)))


def backtest_spec(rows: list[dict[str, Any]], checkpoint: str, currency: str) -> dict[str, Any]:
    """Each method's forecast at `checkpoint` of every replayed quarter as points, the actual bookings as a line."""
    points = [{"quarter": r["quarter"], "method": r["method"], "forecast": r["forecast"]}
              for r in rows if r["checkpoint"] == checkpoint]
    actuals = list({r["quarter"]: {"quarter": r["quarter"], "actual": r["actual"]}
                    for r in rows if r["checkpoint"] == checkpoint}.values())
    x = {"field": "quarter", "type": "ordinal", "title": None, "sort": None}
    return {
        "$schema": SCHEMA, "title": f"Forecast at {checkpoint} against actual bookings ({currency})",
        "width": 420, "height": 200,
        "layer": [
            {"data": {"values": actuals}, "mark": {"type": "line", "color": "#24292f", "point": True},
             "encoding": {"x": x, "y": {"field": "actual", "type": "quantitative", "title": None,
                                        "axis": {"format": "~s"}},
                          "tooltip": [{"field": "quarter"}, {"field": "actual", "format": ",.0f"}]}},
            {"data": {"values": points}, "mark": {"type": "point", "filled": True, "size": 50},
             "encoding": {"x": x, "y": {"field": "forecast", "type": "quantitative"},
                          "color": {"field": "method", "type": "nominal", "title": None},
                          "tooltip": [{"field": "quarter"}, {"field": "method"},
                                      {"field": "forecast", "format": ",.0f"}]}},
        ],
        "config": {"view": {"stroke": None}},
    }


def calls_data(request: Request, seen: Viewer, quarter: str, span: str) -> dict[str, Any]:
    """The calls on the shown quarter (newest first) and every forecaster's scored past calls."""
    calls = read_calls(seen.ws)
    version = (len(calls), str(calls["called_at"].max()) if len(calls) else "")
    accuracy = kept(request, seen, ("forecast-calls", span, version), lambda: kept_answer(
        seen.ws, ("forecast calls page", span), lambda: calls_report(
            seen.ws, seen.ws.calendar, seen.ws.currency, None if span == "all" else RECENT_QUARTERS).as_dict()))
    names = dict(seen.ws.table("people").select("person_id", "name").to_pandas().itertuples(index=False))
    mine = calls[calls["quarter"] == quarter].sort_values("called_at", ascending=False)
    latest = [{"person_id": r["person_id"], "name": names.get(r["person_id"], r["person_id"]),
               "commit_amount": r["commit_amount"],
               "best_case_amount": None if r["best_case_amount"] != r["best_case_amount"] else r["best_case_amount"],
               "called_at": r["called_at"].isoformat(timespec="minutes").replace("T", " "),
               "recorded_by": r["recorded_by"], "note": r["note"]}
              for r in mine.to_dict("records")]
    return {"quarter": quarter, "latest": latest, "accuracy": accuracy, "span": span}


def callable_people(seen: Viewer) -> list[dict[str, str]]:
    """Whom the viewer may record a call for: everyone in their scope (an executive's: the company)."""
    people = seen.ws.table("people").select("person_id", "name", "role").to_pandas()
    people = people[people["role"].isin(["executive", "manager", "rep"])].sort_values("name")
    return [{"person_id": str(p), "name": str(n)} for p, n in zip(people["person_id"], people["name"], strict=True)]


@router.get("/forecast", include_in_schema=False)
@router.get("/forecast.json", summary="The quarter's bookings forecast by every method (as `cadence forecast`), the "
            "backtest, the forecast categories rolled up the manager hierarchy and the managers' calls scored")
def forecast_page(request: Request, period: str | None = None, as_of: str | None = None, replay: str = "quick",
                  calls: str = "recent", called: str | None = None,
                  seen: Viewer = Depends(viewer("forecast"))) -> Response:
    return _page(request, seen, period, as_of, replay, calls, flash=f"Kept call {called}" if called else None)


def _page(request: Request, seen: Viewer, period: str | None, as_of: str | None, replay: str, span: str, *,
          values: dict[str, str] | None = None, errors: dict[str, str] | None = None, flash: str | None = None,
          status: int = 200) -> Response:
    if replay not in REPLAYS:
        raise InputError(f"replay {replay!r} is neither quick nor full", hint="use replay=quick or replay=full")
    if span not in CALL_SPANS:
        raise InputError(f"calls {span!r} is neither recent nor all", hint="use calls=recent or calls=all")
    day, quarter = _day(as_of), _quarter(seen.ws, period)
    data = dict(forecast_data(request, seen, day, quarter, replay))
    forecast = data["forecast"]
    data["calls"] = calls_data(request, seen, forecast["quarter"], span)
    if wants_json(request):
        return respond(request, "forecast.html", data, status_code=status)
    rows = data["backtest"]["rows"]
    charts = {"interval": to_svg(interval_spec(_as_result(forecast), forecast["currency"]))}
    checkpoint = CHECKPOINT if any(r["checkpoint"] == CHECKPOINT for r in rows) else (rows[0]["checkpoint"]
                                                                                      if rows else None)
    if checkpoint:
        charts["backtest"] = to_svg(backtest_spec(rows, checkpoint, forecast["currency"]))
    may_call = seen.may_write("forecast")
    return respond(request, "forecast.html", data, status_code=status, viewer=seen, charts=charts,
                   period=period or "", as_of=as_of or "", replay=replay, span=span, may_call=may_call,
                   people=callable_people(seen) if may_call else [], flash=flash, errors=errors or {},
                   values=values or {"person": "", "quarter": forecast["quarter"], "commit": "", "best_case": "",
                                     "note": ""})


@router.post("/forecast/calls", include_in_schema=False)
def add_call(request: Request, person: str = Form(""), quarter: str = Form(""), commit: str = Form(""),
             best_case: str = Form(""), note: str = Form(""),
             seen: Viewer = Depends(viewer("forecast"))) -> Response:
    """Keep a call (`cadence forecast call`): a manager's own or their team's, anyone's for an executive."""
    seen.require_write("forecast")
    values = {"person": person, "quarter": quarter, "commit": commit, "best_case": best_case, "note": note}
    try:
        if seen.scope.kind != "all" and person.strip() and person.strip() not in seen.scope.person_ids:
            raise CallRefused("person_id", person.strip(), "is not in your team: a manager calls for themselves "
                                                           "and the people of their team")
        call = record_call(seen.full, person_id=person, quarter=quarter, commit=commit, best_case=best_case,
                           note=note, recorded_by=seen.user.user_id)
    except CadenceError as error:
        field = {"person_id": "person", "best_case": "best_case"}.get(str(getattr(error, "field", "")),
                                                                      str(getattr(error, "field", "commit")))
        return _page(request, seen, None, None, "quick", "recent", values=values,
                     errors={field if field in CALL_FIELDS else "commit": error.one_line()}, status=400)
    seen.audit("write", f"forecast_calls/{call.call_id}", after=call.as_dict())
    return RedirectResponse(f"/forecast?called={call.call_id}#calls", status_code=303)


def _as_result(forecast: dict[str, Any]) -> Any:
    """The kept forecast dict back as a QuarterForecast, for the report's interval chart."""
    from cadence.analysis.forecast import MethodForecast, QuarterForecast

    methods = [MethodForecast(m["method"], m["forecast"], m["p10"], m["p50"], m["p90"], m["booked"], m["from_open"],
                              m["from_new"]) for m in forecast["methods"]]
    return QuarterForecast(forecast["quarter"], date.fromisoformat(forecast["start"]),
                           date.fromisoformat(forecast["end"]), date.fromisoformat(forecast["as_of"]),
                           forecast["open_deals"], methods, list(forecast["notes"]))
