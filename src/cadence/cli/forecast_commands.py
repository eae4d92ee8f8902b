"""`cadence forecast` and `cadence forecast backtest`: the quarter's bookings, and how well each method did before."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import RichProgress, console, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.options import as_of as resolve_as_of
from cadence.cli.options import as_of_line, parse_day
from cadence.cli.render import Sheet, View, render, supports
from cadence.errors import InputError
from cadence.report.format import format_value

if TYPE_CHECKING:
    from cadence.analysis.forecast import QuarterForecast

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
    output: FormatOption = Output.table,
) -> None:
    """The quarter's bookings forecast: stage-weighted, historical conversion and win model, with P10–P90."""
    if ctx.invoked_subcommand is not None:
        return
    from cadence.analysis.forecast import forecast_quarter
    from cadence.metrics.money import in_currency, reporting_currency

    with open_workspace() as ws:
        day = parse_day(as_of, "--as-of")
        quarter = _quarter(ws, period)
        today = None if day or quarter else resolve_as_of(ws)
        source = in_currency(ws, currency)  # amounts converted in the warehouse, to --currency if given
        result = forecast_quarter(source, ws.calendar, today.next_day if today else day, quarter)
        shown = reporting_currency(source)
    data = {**result.as_dict(), "currency": shown}
    known = as_of_line(today) if today else Text(f"knowing what the data held before {result.as_of}" + (
        " (given with --as-of)" if day else f" (within {result.quarter})"), style="dim")
    render(View(data, [Sheet(f"{result.quarter} bookings forecast ({shown})", data["methods"])],
                lambda: render_forecast(result, shown, known)), output)


def render_forecast(result: QuarterForecast, currency: str, known: Text | None = None) -> None:
    if known is not None:
        console.print(known)
    def money(value: float | None) -> str:  # compact, with the currency: `--format json` has every digit
        return format_value(value, "currency", currency)

    rows = [{"method": m.method, "forecast": money(m.forecast), "p10": money(m.p10), "p50": money(m.p50),
             "p90": money(m.p90), "booked": money(m.booked), "open deals": money(m.from_open),
             "new deals": money(m.from_new)} for m in result.methods]
    console.print(rich_table(f"{result.quarter} bookings forecast ({currency}) before {result.as_of} — "
                             f"{result.open_deals:,} open deals", rows))
    for m in result.methods:
        console.print(Text(f"{m.method}: {m.label}", style="dim"))
    for note in result.notes:
        console.print(Text(f"· {note}", style="dim"))


@forecast_app.command()
@supports(Output.csv, Output.markdown)
def backtest(
    rows: Annotated[bool, typer.Option("--rows", help="Show every quarter and checkpoint, not just the summary.")]
    = False,
    output: FormatOption = Output.table,
) -> None:
    """Replay every past quarter at its start, day 30 and day 60: each method's error and P10–P90 coverage."""
    from cadence.analysis.forecast import backtest as run
    from cadence.analysis.forecast import best_against_baseline, missing_methods, score, too_few_to_rank

    with open_workspace() as ws:
        results = run(ws, ws.calendar, progress=RichProgress())
    scores = score(results)
    headline = best_against_baseline(scores)
    thin, missing = too_few_to_rank(scores), missing_methods(scores)
    replays = [r.as_dict() for r in results]
    data = {"rows": replays, "summary": [s.as_dict() for s in scores],
            "headline": headline, "not_ranked": thin, "missing_methods": missing}
    render(View(data, [Sheet("Every replay", replays)], lambda: _show_backtest(data, rows)), output)


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
