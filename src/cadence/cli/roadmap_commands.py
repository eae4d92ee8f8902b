"""`cadence requests …` and `cadence roadmap …`: customer requests in dollars, their themes, and the roadmap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import console, emit_json, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.render import Sheet, View, render, supports
from cadence.errors import InputError

if TYPE_CHECKING:
    from cadence.analysis.roadmap.listing import ThemeList
    from cadence.analysis.roadmap.plan import Valuation
    from cadence.entries.themes import ThemeEdit
    from cadence.workspace import Workspace

requests_app = typer.Typer(help="Customer feature requests: list them, add one, group them into themes.",
                           no_args_is_help=True)
themes_app = typer.Typer(help="Requests grouped into themes; rename, merge, split and pin them by hand.",
                         invoke_without_command=True)
roadmap_app = typer.Typer(help="The roadmap in dollars: the plan under developer hours, and what shipping moved.",
                          no_args_is_help=True)
requests_app.add_typer(themes_app, name="themes")
app.add_typer(requests_app, name="requests")
app.add_typer(roadmap_app, name="roadmap")

PeriodOption = Annotated[str | None, typer.Option("--period", help="Period planned, e.g. 2026-Q1 or 2026-03 "
                                                                  "(default: the next fiscal quarter).")]


# -- shared ------------------------------------------------------------------------------------------------
def _as_of(ws: Workspace) -> date:
    """The first day after the as-of day (the data's last day, or --today)."""
    from cadence.cli.options import as_of

    return as_of(ws).next_day


def _valuation(ws: Workspace, period: str | None) -> Valuation:
    from cadence.analysis.roadmap.listing import valuation_for
    from cadence.entries.themes import load_theme_overrides

    return valuation_for(ws, _as_of(ws), period, overrides=load_theme_overrides(ws))


# -- cadence requests -----------------------------------------------------------------------------------------
@requests_app.command("list")
@supports(Output.csv, Output.markdown)
def list_requests(
    status: Annotated[str | None, typer.Option(help="Only this status: open, planned, shipped, declined.")] = None,
    theme: Annotated[str | None, typer.Option(help="Only this theme (key from `cadence requests themes`).")] = None,
    period: PeriodOption = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 30,
    output: FormatOption = Output.table,
) -> None:
    """Requests, most valuable first, with their theme and dollar value if answered in the period."""
    from cadence.analysis.roadmap.listing import REQUEST_COLUMNS, request_list

    with open_workspace() as ws:
        found = request_list(_valuation(ws, period), status=status, theme=theme, limit=limit)
    title = f"{len(found.rows):,} requests (first {len(found.shown)})"
    render(View(found, [Sheet(title, found.shown)],
                lambda: console.print(rich_table(title, found.shown, columns=REQUEST_COLUMNS[:-1]))), output)


@requests_app.command("add")
def add_request(
    title: Annotated[str, typer.Argument(help="The request in the customer's words.")],
    account: Annotated[str | None, typer.Option(help="Account id asking.")] = None,
    deal: Annotated[str | None, typer.Option(help="Opportunity id it would move.")] = None,
    certainty: Annotated[str | None, typer.Option(help="0–1, or critical / important / nice-to-have / …")] = None,
    by: Annotated[str | None, typer.Option(help="Who logged it.")] = None,
    feature: Annotated[str | None, typer.Option(help="Feature id that answers it.")] = None,
    theme: Annotated[str | None, typer.Option(help="Theme, if you know it (pins the request there).")] = None,
    at: Annotated[str | None, typer.Option(help="When it was asked (YYYY-MM-DD; default now).")] = None,
    request_id: Annotated[str | None, typer.Option("--id", help="Request id (default: made from its content).")] = None,
    output: FormatOption = Output.table,
) -> None:
    """Add one request: validated and logged like an import."""
    from cadence.entries import add_request
    from cadence.ingest.request_sources import NewRequest

    request = NewRequest(title, account, deal, by, _when(at), certainty, feature, theme, request_id=request_id)
    with open_workspace() as ws:
        added = add_request(ws, request)
    if output is Output.json:
        emit_json(added.as_dict())
        return
    console.print(f"Added request [bold]{added.request_id}[/]: {title}")


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"not a date: {text!r}", hint="write it as YYYY-MM-DD") from None


# -- cadence requests themes ------------------------------------------------------------------------------------
@themes_app.callback()
@supports(Output.csv, Output.markdown)
def themes(ctx: typer.Context, period: PeriodOption = None, output: FormatOption = Output.table) -> None:
    """Themes with their requests, deals, dollar value and the features that answer them."""
    if ctx.invoked_subcommand is not None:
        return
    from cadence.analysis.roadmap.listing import theme_list

    with open_workspace() as ws:
        found = theme_list(_valuation(ws, period))
    title = "Themes by the dollars waiting on them"
    render(View(found, [Sheet(title, found.rows)], lambda: _show_themes(found, title)), output)


def _show_themes(found: ThemeList, title: str) -> None:
    shown = [{**r, "value": round(r["value"])} for r in found.rows]
    console.print(rich_table(title, shown,
                             columns=["key", "name", "requests", "deals", "value", "features", "says"]))
    for note in found.notes:
        console.print(Text(f"not applied: {note}", style="yellow"))


def _edit(change: Callable[[Workspace], ThemeEdit]) -> None:
    """Apply one theme edit to the workspace (saved in themes.yml) and say where it was saved."""
    with open_workspace() as ws:
        edit = change(ws)
    console.print(f"Saved {edit.path}")


@themes_app.command("rename")
def rename_theme(key: Annotated[str, typer.Argument(help="Theme key.")],
                 name: Annotated[str, typer.Argument(help="New name.")]) -> None:
    """Give a theme the name product uses for it."""
    from cadence.entries import themes

    _edit(lambda ws: themes.rename_theme(ws, key, name))


@themes_app.command("merge")
def merge_themes(key: Annotated[str, typer.Argument(help="Theme to merge away.")],
                 into: Annotated[str, typer.Argument(help="Theme it joins.")]) -> None:
    """Merge one theme into another: both ask for the same thing."""
    from cadence.entries import themes

    _edit(lambda ws: themes.merge_themes(ws, key, into))


@themes_app.command("split")
def split_theme(key: Annotated[str, typer.Argument(help="Theme to split.")],
                words: Annotated[str, typer.Option(help="Comma-separated words: requests mentioning any move.")],
                name: Annotated[str, typer.Option(help="Name of the new theme.")]) -> None:
    """Move the requests of a theme that mention given words into a new theme."""
    from cadence.entries import themes

    _edit(lambda ws: themes.split_theme(ws, key, words, name))


@themes_app.command("pin")
def pin_request(request: Annotated[str, typer.Argument(help="Request id.")],
                theme: Annotated[str, typer.Argument(help="Theme key, or the name of a new theme.")]) -> None:
    """Put one request in a theme by hand, whatever its wording says."""
    from cadence.entries import themes

    _edit(lambda ws: themes.pin_request(ws, request, theme))


@themes_app.command("unpin")
def unpin_request(request: Annotated[str, typer.Argument(help="Request id.")]) -> None:
    """Let a pinned request's wording place it again."""
    from cadence.entries import themes

    _edit(lambda ws: themes.unpin_request(ws, request))


# -- cadence roadmap --------------------------------------------------------------------------------------------
@roadmap_app.command("plan")
def plan(
    capacity: Annotated[list[str], typer.Option("--capacity", help="Developer hours for the period: 320h, or "
                                                                 "TEAM=200h per team (repeatable).")],
    period: PeriodOption = None,
    naive: Annotated[str, typer.Option(help="The naive plan's ranking: value-per-hour or rice.")] = "value-per-hour",
    monthly: Annotated[bool, typer.Option("--monthly/--period-end", help="Ship at each month's end (default) or "
                                                                        "all at the period's end.")] = True,
    output: FormatOption = Output.table,
) -> None:
    """The features that earn the most expected revenue under the hours you have, beside the naive plan."""
    from cadence.analysis.roadmap.listing import plan_for
    from cadence.analysis.roadmap.optimiser import parse_capacity
    from cadence.entries.themes import load_theme_overrides

    hours = parse_capacity(capacity)
    with open_workspace() as ws:
        result = plan_for(ws, hours, _as_of(ws), period, overrides=load_theme_overrides(ws), monthly=monthly,
                          naive_rule=naive)
        data, currency = result.as_dict(ws.config.currency), ws.config.currency
    if output is Output.json:
        emit_json(data)
        return
    _print_plan(data, currency)


def _print_plan(data: dict[str, Any], currency: str) -> None:
    from cadence.analysis.roadmap.value import money

    chosen = [f for f in data["features"] if f["chosen"]]
    chosen.sort(key=lambda f: (f["ships_by"], -f["value"]))
    rows = [{"feature": f["feature_id"], "title": f["title"], "ships by": f["ships_by"],
             "hours": round(f["effort_hours"]), "value": round(f["value"]),
             "naive plan": "✓" if f["naive_chosen"] else ""}
            for f in chosen]
    console.print(rich_table(f"Roadmap {data['period']}: {data['hours_used']:,.0f} of {data['capacity_hours']:,.0f} "
                             "developer hours", rows))
    for f in chosen:
        console.print(f"  {f['feature_id']} {f['summary']}")
    naive = data["naive"]
    console.print(f"[bold]Expected revenue {money(data['expected_revenue'], currency)}[/] "
                  f"(bound {money(data['bound'], currency)}, gap {data['gap']:.3%}, {data['status']}) · naive plan "
                  f"({naive['rule']}): {money(naive['expected_revenue'], currency)} with "
                  f"{', '.join(naive['chosen']) or 'nothing'}")
    left = [f for f in data["features"] if not f["chosen"] and f["value"] > 0]
    if left:
        console.print(Text("Not this period: " + "; ".join(
            f"{f['feature_id']} {f['title']} ({money(f['value'], currency)}, {f['effort_hours'] or '?'}h"
            + (f", {f['excluded']}" if f["excluded"] else "") + ")" for f in left[:8]), style="dim"))
    console.print(Text(f"Method: {data['method']['plan']}. Value: {data['method']['value']}.", style="dim"))


@roadmap_app.command("value")
@supports(Output.csv, Output.markdown)
def value(
    feature: Annotated[str, typer.Argument(help="Feature id.")],
    period: PeriodOption = None,
    output: FormatOption = Output.table,
) -> None:
    """A feature's dollar value and every part of it, so it can be argued with."""
    with open_workspace() as ws:
        found = _valuation(ws, period).feature(feature)
        currency = ws.config.currency
    data = found.as_dict(currency)
    rows = [{k: p[k] for k in ("kind", "account", "opportunity_id", "segment", "amount", "certainty", "chance",
                               "deadline", "share", "value")} for p in data["parts"]]
    title = f"{found.feature_id} {found.title}: if shipped by {data['ship_date']}"
    render(View(data, [Sheet(title, rows)], lambda: _show_value(title, rows, data["summary"])), output)


def _show_value(title: str, rows: list[dict[str, Any]], summary: str) -> None:
    console.print(rich_table(title, rows))
    console.print(f"[bold]{summary}[/]")


@roadmap_app.command("influence")
@supports(Output.csv, Output.markdown)
def influence(
    weeks: Annotated[int, typer.Option(help="A deal counts as unblocked if won within this many weeks of shipping.")]
    = 8,
    output: FormatOption = Output.table,
) -> None:
    """Did shipped features move the deals that asked for them? Asking vs comparable deals, with intervals."""
    from cadence.analysis.roadmap.influence import feature_influence

    with open_workspace() as ws:
        report = feature_influence(ws, as_of=_as_of(ws), weeks=weeks)
        currency = ws.config.currency
    rows = [_influence_row(f, currency) for f in report.features]
    title = f"What shipping moved: deals won within {weeks} weeks, asking vs comparable"
    render(View(report, [Sheet(title, rows)], lambda: _show_influence(title, rows, report.method)), output)


def _show_influence(title: str, rows: list[dict[str, Any]], method: str) -> None:
    if not rows:
        console.print("No shipped feature was asked for by deals open when it shipped: nothing to compare yet.")
        return
    console.print(rich_table(title, rows))
    console.print(Text(f"Method: {method}.", style="dim"))


def _influence_row(f: Any, currency: str) -> dict[str, Any]:
    from cadence.analysis.roadmap.value import money

    def share(c: Any) -> str:
        if c.asking is None:
            return "–"
        return (f"{c.asking:.0%} vs {c.comparable:.0%} ({c.difference:+.0%}, {c.low:+.0%}…{c.high:+.0%})"
                if c.low is not None else f"{c.asking:.0%}")

    return {"feature": f.feature_id, "title": f.title, "shipped": f.shipped_on.isoformat(),
            "asking": f.asking_deals, "comparable": f.comparable_deals, "unblocked": share(f.unblocked),
            "win rate": share(f.win_rate), "won": f.deals_unblocked,
            "beyond comparable": None if f.extra_deals_unblocked is None else round(f.extra_deals_unblocked, 1),
            "bookings": money(f.influenced_bookings, currency), "verdict": f.verdict}
