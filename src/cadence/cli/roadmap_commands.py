"""`cadence requests …` and `cadence roadmap …`: customer requests in dollars, their themes, and the roadmap."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import console, emit_csv, emit_json, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.errors import InputError

if TYPE_CHECKING:
    from cadence.analysis.roadmap.plan import Valuation
    from cadence.analysis.roadmap.themes import ThemeOverrides
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


def _period(ws: Workspace, label: str | None, as_of: date) -> tuple[date, date, str]:
    from cadence.analysis.roadmap.plan import next_period

    if label is None:
        return next_period(ws.calendar, as_of)
    try:
        start, grain = ws.calendar.parse(label)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if grain not in ("month", "quarter", "year"):
        raise InputError(f"plan a month, a quarter or a year, not {label!r}", hint="e.g. --period 2026-Q1")
    return start, ws.calendar.next_start(start, grain), ws.calendar.label(start, grain)


def _overrides(ws: Workspace) -> ThemeOverrides:
    from cadence.report.sections.roadmap import load_theme_overrides

    return load_theme_overrides(ws.root)


def _valuation(ws: Workspace, period: str | None) -> Valuation:
    from cadence.analysis.roadmap.plan import value_roadmap

    as_of = _as_of(ws)
    start, end, _ = _period(ws, period, as_of)
    return value_roadmap(ws, period_start=start, period_end=end, as_of=as_of, overrides=_overrides(ws))


def _money(value: float, ws: Workspace) -> str:
    from cadence.analysis.roadmap.value import money

    return money(value, ws.config.currency)


# -- cadence requests -----------------------------------------------------------------------------------------
@requests_app.command("list")
def list_requests(
    status: Annotated[str | None, typer.Option(help="Only this status: open, planned, shipped, declined.")] = None,
    theme: Annotated[str | None, typer.Option(help="Only this theme (key from `cadence requests themes`).")] = None,
    period: PeriodOption = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 30,
    output: FormatOption = Output.table,
) -> None:
    """Requests, most valuable first, with their theme and dollar value if answered in the period."""
    with open_workspace() as ws:
        valuation = _valuation(ws, period)
        rows = _request_rows(valuation, status, theme)
    if output is Output.json:
        emit_json({"requests": rows[:limit], "total": len(rows)})
        return
    if output is Output.csv:
        emit_csv(rows[:limit])
        return
    console.print(rich_table(f"{len(rows):,} requests (first {min(limit, len(rows))})", rows[:limit],
                             columns=["request_id", "title", "account", "opportunity_id", "certainty", "theme",
                                      "feature_id", "status", "value"]))


def _request_rows(valuation: Valuation, status: str | None, theme: str | None) -> list[dict[str, Any]]:
    from cadence.analysis.roadmap.value import request_values

    data, catalogue = valuation.data, valuation.catalogue
    if theme is not None:
        catalogue.theme(theme)  # a clear error for an unknown key
    values = request_values(data, catalogue, valuation.chances, valuation.rules, valuation.ship_dates[-1])
    value_of = dict(zip(values["request_id"], values["value"], strict=True))
    names = data.deals.set_index("opportunity_id")["account_name"]
    frame = data.requests.assign(theme=data.requests["request_id"].map(catalogue.assignment),
                                 value=data.requests["request_id"].map(value_of).fillna(0.0).round(2),
                                 account=data.requests["opportunity_id"].map(names).fillna(data.requests["account_id"]))
    if status is not None:
        frame = frame[frame["status"] == status]
    if theme is not None:
        frame = frame[frame["theme"] == theme]
    frame = frame.sort_values(["value", "request_id"], ascending=[False, True])
    columns = ["request_id", "title", "account", "opportunity_id", "certainty", "theme", "feature_id", "status",
               "value", "requested_at"]
    out = frame[columns].astype("object").where(frame[columns].notna(), None)
    return [{**{str(k): v for k, v in r.items()}, "requested_at": str(r["requested_at"])}
            for r in out.to_dict("records")]


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
    from cadence.analysis.roadmap.data import check_request_links
    from cadence.ingest.prepare import prepare
    from cadence.ingest.request_sources import NewRequest, manual_request_batch

    when = _when(at)
    with open_workspace() as ws:
        check_request_links(ws, account_id=account, opportunity_id=deal, feature_id=feature)
        batch = manual_request_batch(NewRequest(title, account, deal, by, when, certainty, feature, theme,
                                                request_id=request_id))
        prepared = prepare(batch, ws.stages())
        if prepared.quarantined:
            problem = prepared.quarantine.iloc[0]
            raise InputError(f"request refused: {problem['column_name']} {problem['value']!r}: {problem['reason']}")
        ws.load(prepared)
    added = str(batch.frames[0].frame["request_id"].iloc[0])
    if output is Output.json:
        emit_json({"request_id": added, **prepared.summary()})
        return
    console.print(f"Added request [bold]{added}[/]: {title}")


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"not a date: {text!r}", hint="write it as YYYY-MM-DD") from None


# -- cadence requests themes ------------------------------------------------------------------------------------
@themes_app.callback()
def themes(ctx: typer.Context, period: PeriodOption = None, output: FormatOption = Output.table) -> None:
    """Themes with their requests, deals, dollar value and the features that answer them."""
    if ctx.invoked_subcommand is not None:
        return
    with open_workspace() as ws:
        valuation = _valuation(ws, period)
        value = {t.key: round(t.value, 2) for t in valuation.themes}
        found = sorted(valuation.catalogue.themes, key=lambda t: (-value.get(t.key, 0.0), t.key))
        rows: list[dict[str, Any]] = [
            {"key": t.key, "name": t.name, "requests": t.requests, "deals": t.deals, "accounts": t.accounts,
             "value": value.get(t.key, 0.0), "features": ", ".join(t.features), "pinned": t.pinned,
             "says": " · ".join(t.phrasings[:2])} for t in found]
        notes = valuation.catalogue.notes
    if output is Output.json:
        emit_json({"method": valuation.catalogue.method, "themes": rows, "notes": notes})
        return
    if output is Output.csv:
        emit_csv(rows)
        return
    shown = [{**r, "value": round(r["value"])} for r in rows]
    console.print(rich_table("Themes by the dollars waiting on them", shown,
                             columns=["key", "name", "requests", "deals", "value", "features", "says"]))
    for note in notes:
        console.print(Text(f"not applied: {note}", style="yellow"))


def _edit(change: Any) -> None:
    """Apply `change(overrides, catalogue) -> overrides`, check it, and save themes.yml."""
    from cadence.analysis.roadmap.plan import find_request_themes
    from cadence.report.sections.roadmap import save_theme_overrides

    with open_workspace() as ws:
        overrides = _overrides(ws)
        catalogue = find_request_themes(ws, overrides)
        updated = change(overrides, catalogue)
        after = find_request_themes(ws, updated)
        new_notes = [n for n in after.notes if n not in catalogue.notes]
        if new_notes:
            raise InputError(new_notes[0])
        path = save_theme_overrides(ws.root, updated)
    console.print(f"Saved {path}")


@themes_app.command("rename")
def rename_theme(key: Annotated[str, typer.Argument(help="Theme key.")],
                 name: Annotated[str, typer.Argument(help="New name.")]) -> None:
    """Give a theme the name product uses for it."""
    from dataclasses import replace

    def change(o: ThemeOverrides, catalogue: Any) -> ThemeOverrides:
        catalogue.theme(key)
        return replace(o, renames={**o.renames, key: name})

    _edit(change)


@themes_app.command("merge")
def merge_themes(key: Annotated[str, typer.Argument(help="Theme to merge away.")],
                 into: Annotated[str, typer.Argument(help="Theme it joins.")]) -> None:
    """Merge one theme into another: both ask for the same thing."""
    from dataclasses import replace

    def change(o: ThemeOverrides, catalogue: Any) -> ThemeOverrides:
        catalogue.theme(key)
        catalogue.theme(into)
        return replace(o, merges={**o.merges, key: into})

    _edit(change)


@themes_app.command("split")
def split_theme(key: Annotated[str, typer.Argument(help="Theme to split.")],
                words: Annotated[str, typer.Option(help="Comma-separated words: requests mentioning any move.")],
                name: Annotated[str, typer.Option(help="Name of the new theme.")]) -> None:
    """Move the requests of a theme that mention given words into a new theme."""
    from dataclasses import replace

    from cadence.analysis.roadmap.themes import Split

    def change(o: ThemeOverrides, catalogue: Any) -> ThemeOverrides:
        catalogue.theme(key)
        parts = tuple(w.strip() for w in words.split(",") if w.strip())
        return replace(o, splits=(*o.splits, Split(key, parts, name)))

    _edit(change)


@themes_app.command("pin")
def pin_request(request: Annotated[str, typer.Argument(help="Request id.")],
                theme: Annotated[str, typer.Argument(help="Theme key, or the name of a new theme.")]) -> None:
    """Put one request in a theme by hand, whatever its wording says."""
    from dataclasses import replace

    _edit(lambda o, catalogue: replace(o, pins={**o.pins, request: theme}))


@themes_app.command("unpin")
def unpin_request(request: Annotated[str, typer.Argument(help="Request id.")]) -> None:
    """Let a pinned request's wording place it again."""
    from dataclasses import replace

    def change(o: ThemeOverrides, catalogue: Any) -> ThemeOverrides:
        if request not in o.pins:
            raise InputError(f"request {request} is not pinned")
        return replace(o, pins={k: v for k, v in o.pins.items() if k != request})

    _edit(change)


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
    from cadence.analysis.roadmap.optimiser import parse_capacity
    from cadence.analysis.roadmap.plan import plan_roadmap

    hours = parse_capacity(capacity)
    with open_workspace() as ws:
        as_of = _as_of(ws)
        start, end, label = _period(ws, period, as_of)
        result = plan_roadmap(ws, hours, period_start=start, period_end=end, as_of=as_of, period=label,
                              overrides=_overrides(ws), monthly=monthly, naive_rule=naive)
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
    if output is Output.json:
        emit_json(data)
        return
    rows = [{k: p[k] for k in ("kind", "account", "opportunity_id", "segment", "amount", "certainty", "chance",
                               "deadline", "share", "value")} for p in data["parts"]]
    if output is Output.csv:
        emit_csv(rows)
        return
    console.print(rich_table(f"{found.feature_id} {found.title}: if shipped by {data['ship_date']}", rows))
    console.print(f"[bold]{data['summary']}[/]")


@roadmap_app.command("influence")
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
    if output is Output.json:
        emit_json(report.as_dict())
        return
    rows = [_influence_row(f, currency) for f in report.features]
    if output is Output.csv:
        emit_csv(rows)
        return
    if not rows:
        console.print("No shipped feature was asked for by deals open when it shipped: nothing to compare yet.")
        return
    console.print(rich_table(f"What shipping moved: deals won within {weeks} weeks, asking vs comparable", rows))
    console.print(Text(f"Method: {report.method}.", style="dim"))


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
