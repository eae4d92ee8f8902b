"""`cadence forecast` and `cadence forecast backtest`: the quarter's bookings, and how well each method did before."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import RichProgress, console, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.options import as_of as resolve_as_of
from cadence.cli.options import as_of_line, parse_day
from cadence.cli.render import Sheet, View, render, supports
from cadence.errors import InputError
from cadence.report.format import format_value

FreshOption = Annotated[bool, typer.Option("--fresh", help="Compute it again instead of reading back the answer "
                                           "kept for this data, these settings and this question.")]

forecast_app = typer.Typer(help="The quarter's bookings forecast by several methods, and their backtest.")
app.add_typer(forecast_app, name="forecast")




def _quarter(ws: Any, label: str | None) -> date | None:
    if label is None:
        return None
    try:
        start, grain = ws.calendar.parse(label)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if grain != "quarter":
        raise InputError(f"--period {label!r} is not a quarter", hint="write it like 2026-Q1 (fiscal)")
    return start  # type: ignore[no-any-return]


@forecast_app.callback(invoke_without_command=True)
@supports(Output.csv, Output.markdown)
def forecast(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Forecast with what was known at the start of this "
                                              "day (YYYY-MM-DD); default: everything the data holds.")] = None,
    period: Annotated[str | None, typer.Option(help="The fiscal quarter to forecast, e.g. 2026-Q1 "
                                               "(default: the one holding --as-of).")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="Show money in this currency (ISO code), "
                                                 "converted with the workspace's rates.")] = None,
    fresh: FreshOption = False,
    output: FormatOption = Output.table,
) -> None:
    """The quarter's bookings forecast: stage-weighted, historical conversion and win model, with P10–P90.

    An answer computed before for the same data, cadence.yml and question is read back (a second format, another
    reader); any import, sync or hand entry computes it again, as does `--fresh`."""
    if ctx.invoked_subcommand is not None:
        return
    from cadence.analysis.forecast import forecast_with_rollup
    from cadence.metrics.money import in_currency, reporting_currency
    from cadence.report.kept_answers import kept_answer

    with open_workspace() as ws:
        day = parse_day(as_of, "--as-of")
        quarter = _quarter(ws, period)
        today = None if day or quarter else resolve_as_of(ws)

        def compute() -> dict[str, Any]:
            source = in_currency(ws, currency)  # amounts converted in the warehouse, to --currency if given
            result, rollup = forecast_with_rollup(source, ws.calendar, today.next_day if today else day, quarter)
            return {**result.as_dict(), "currency": reporting_currency(source), "rollup": rollup.as_dict()}

        data = kept_answer(ws, ("cadence forecast", day, quarter, today, currency), compute, fresh=fresh)
    shown = data["currency"]
    known = as_of_line(today) if today else Text(f"knowing what the data held before {data['as_of']}" + (
        " (given with --as-of)" if day else f" (within {data['quarter']})"), style="dim")

    def show() -> None:
        render_forecast(data, shown, known)
        render_rollup(data["rollup"], shown)

    render(View(data, [Sheet(f"{data['quarter']} bookings forecast ({shown})", data["methods"])], show), output)


def render_forecast(result: dict[str, Any], currency: str, known: Text | None = None) -> None:
    """The forecast as `QuarterForecast.as_dict` writes it: each method's figures, its label, the notes."""
    if known is not None:
        console.print(known)
    def money(value: float | None) -> str:  # compact, with the currency: `--format json` has every digit
        return format_value(value, "currency", currency)

    rows = [{"method": m["method"], "forecast": money(m["forecast"]), "p10": money(m["p10"]),
             "p50": money(m["p50"]), "p90": money(m["p90"]), "booked": money(m["booked"]),
             "open deals": money(m["from_open"]), "new deals": money(m["from_new"])} for m in result["methods"]]
    console.print(rich_table(f"{result['quarter']} bookings forecast ({currency}) before {result['as_of']} — "
                             f"{result['open_deals']:,} open deals", rows))
    for m in result["methods"]:
        console.print(Text(f"{m['method']}: {m['label']}", style="dim"))
    for note in result["notes"]:
        console.print(Text(f"· {note}", style="dim"))


def render_rollup(rollup: dict[str, Any], currency: str) -> None:
    """Commit / best case / pipeline per person, indented under their manager, beside the model."""
    def money(value: float | None) -> str:
        return format_value(value, "currency", currency)

    rows = [{"person": "  " * line["depth"] + line["name"], "closed": money(line["closed"]),
             "commit": money(line["commit"]), "best case": money(line["best_case"]),
             "pipeline": money(line["pipeline"]), "model": money(line["model"]), "deals": line["deals"]}
            for line in rollup["lines"]]
    console.print(rich_table(f"{rollup['quarter']} forecast categories rolled up the manager hierarchy "
                             f"({currency}) before {rollup['as_of']}", rows))
    for note in rollup["notes"]:
        console.print(Text(f"· {note}", style="dim"))


@forecast_app.command()
@supports(Output.csv, Output.markdown)
def backtest(
    rows: Annotated[bool, typer.Option("--rows", help="Show every quarter and checkpoint, not just the summary.")]
    = False,
    fresh: FreshOption = False,
    output: FormatOption = Output.table,
) -> None:
    """Replay every past quarter at its start, day 30 and day 60: each method's error and P10–P90 coverage.

    An answer computed before for the same data, cadence.yml and question is read back (a second format, another
    reader); any import, sync or hand entry computes it again, as does `--fresh`."""
    from cadence.analysis.forecast import backtest as run
    from cadence.analysis.forecast import backtest_report
    from cadence.report.kept_answers import kept_answer

    with open_workspace() as ws:
        data = kept_answer(ws, ("cadence forecast backtest",),
                           lambda: backtest_report(run(ws, ws.calendar, progress=RichProgress())), fresh=fresh)
    render(View(data, [Sheet("Every replay", data["rows"])], lambda: _show_backtest(data, rows)), output)


def _show_backtest(data: dict[str, Any], rows: bool) -> None:
    scores, headline, thin, missing = data["summary"], data["headline"], data["not_ranked"], data["missing_methods"]
    if rows:
        console.print(rich_table("Every replay", data["rows"]))
    console.print(rich_table("Backtest: absolute % error of each method against the quarter's bookings",
                             [{"method": s["method"], "checkpoint": s["checkpoint"], "quarters": s["quarters"],
                               "median_ape": _pct(s["median_ape"]), "mean_ape": _pct(s["mean_ape"]),
                               "coverage": _coverage(s)} for s in scores]))
    for method, reason in missing.items():
        console.print(Text(f"{method} is missing: {reason}.", style="yellow"))
    if thin:
        console.print(Text(f"No best method: {thin}.", style="yellow"))
    elif headline:
        console.print(f"At day 30 the best method, {headline['best_method']}, is off by a median "
                      f"{_pct(headline['best_median_ape'])} against stage-weighted's "
                      f"{_pct(headline['baseline_median_ape'])} over {headline['quarters']} quarters; its P10–P90 "
                      f"held the actual {_pct(headline['best_coverage'])} of the time.")


def _coverage(score: dict[str, Any]) -> str:
    """"50.0% (2 of 4)": a share of a handful of quarters is read with its count."""
    if not score["with_interval"]:
        return "–"
    return f"{_pct(score['coverage'])} ({score['inside']} of {score['with_interval']})"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


@forecast_app.command("call")
def call(
    person: Annotated[str, typer.Option("--person", help="Who makes the call (a person_id from people).")],
    quarter: Annotated[str, typer.Option("--quarter", help="The fiscal quarter called, e.g. 2026-Q1.")],
    commit: Annotated[str, typer.Option("--commit", help="What they commit to close in the quarter (corporate "
                                        "currency).")],
    best_case: Annotated[str | None, typer.Option("--best-case", help="What could close if the best cases "
                                                  "land.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="What they said about it.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When the call was made (YYYY-MM-DD); default: now.")]
    = None,
    output: FormatOption = Output.table,
) -> None:
    """Keep a forecaster's call on a quarter; a second call is a second row (every call is kept, with its date)."""
    from cadence.entries.forecast_calls import record_call

    with open_workspace() as ws:
        recorded = record_call(ws, person_id=person, quarter=quarter, commit=commit, best_case=best_case,
                               note=note, at=at, recorded_by="cli")
    data = recorded.as_dict()
    render(View(data, show=lambda: console.print(
        f"Kept {data['name']}'s call on {data['quarter']}: commit "
        f"{format_value(data['commit_amount'], 'currency', data['currency'])}"
        + (f", best case {format_value(data['best_case_amount'], 'currency', data['currency'])}"
           if data["best_case_amount"] is not None else "") + f" (called {data['called_at']}).")), output)


@forecast_app.command("calls")
@supports(Output.csv, Output.markdown)
def calls(fresh: FreshOption = False, output: FormatOption = Output.table) -> None:
    """Whose forecast to believe: each forecaster's calls on past quarters (at the start, day 30 and day 60)
    against what their team closed, beside the model's and the stage-weighted forecast's accuracy.

    An answer computed before for the same data, cadence.yml and question is read back (a second format, another
    reader); any import, sync or hand entry computes it again, as does `--fresh`."""
    from cadence.analysis.forecast import calls_report
    from cadence.report.kept_answers import kept_answer

    with open_workspace() as ws:
        data = kept_answer(ws, ("cadence forecast calls",),
                           lambda: calls_report(ws, ws.calendar, ws.currency).as_dict(), fresh=fresh)
    rows = [{"forecaster": f["name"], "person_id": f["person_id"], "quarters": f["quarters_scored"],
             "accuracy": _pct(f["accuracy"]), "model_accuracy": _pct(f["model_accuracy"]),
             "stage_weighted_accuracy": _pct(f["stage_weighted_accuracy"]), "mean_error": _signed(f["mean_error"]),
             "bias": f["bias"] or "–"} for f in data["forecasters"]]
    detail = [{"forecaster": f["name"], "quarter": q["quarter"], "actual": q["actual"], **{
        f"{key}_day{c['day']}": c[key] for c in q["checkpoints"] for key in ("call", "model", "stage_weighted")}}
        for f in data["forecasters"] for q in f["quarters"]]
    render(View(data, [Sheet("Forecast calls scored", rows)], lambda: _show_calls(rows, detail, data)), output)


def _show_calls(rows: list[dict[str, Any]], detail: list[dict[str, Any]], data: dict[str, Any]) -> None:
    console.print(rich_table(f"Whose forecast to believe: calls against what closed ({data['currency']}), "
                             "accuracy = max(0, 1 − |actual − call| ÷ actual)", rows))
    for f in data["forecasters"]:
        if f["bias"]:
            low, high = f["bias_interval"]
            word = "sandbags (calls under)" if f["bias"] == "under" else "over-calls"
            console.print(f"{f['name']} {word}: mean error {_signed(f['mean_error'])}, 95% interval "
                          f"{_signed(low)} to {_signed(high)} over {f['quarters_scored']} quarters.")
    for note in data["notes"]:
        console.print(Text(f"· {note}", style="dim"))


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1%}"
