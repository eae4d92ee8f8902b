"""The company overview in the terminal: one headline panel and a few small tables."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.table import Table

from cadence.analysis.overview import Overview


def render_overview(overview: Overview) -> RenderableType:
    money = _money(overview.currency)
    parts: list[RenderableType] = [_headline(overview, money)]
    if overview.money_note:
        parts.append(overview.money_note)
    for title, key, value, rows in (
        ("Bookings by fiscal year", "year", "bookings",
         {k: money(v) for k, v in overview.bookings_by_fiscal_year.items()}),
        ("Accounts by segment", "segment", "accounts", {k: f"{v:,}" for k, v in overview.accounts_by_segment.items()}),
        ("People by team", "team", "people", {k: f"{v:,}" for k, v in overview.people_by_team.items()}),
    ):
        if rows:
            parts.append(_two_columns(title, key, value, rows))
    return Group(*parts)


def _headline(overview: Overview, money: Callable[[float | None], str]) -> Table:
    as_of = overview.as_of.isoformat() if overview.as_of else "no data yet"
    headline = Table(title=f"{overview.company} — as of {as_of}", title_justify="left", show_header=False,
                     box=None, padding=(0, 2))
    headline.add_column(style="bold")
    headline.add_column(justify="right")
    for label, value in _headline_rows(overview, money):
        headline.add_row(label, value)
    return headline


def _headline_rows(overview: Overview, money: Callable[[float | None], str]) -> list[tuple[str, str]]:
    deals = overview.opportunities
    return [
        ("ARR", money(overview.arr)),
        ("MRR", money(overview.mrr)),
        ("Customers", f"{overview.customers:,}"),
        ("Accounts", f"{overview.accounts:,}"),
        ("People", f"{overview.people:,}"),
        ("Opportunities", f"{sum(deals.values()):,} ({deals.get('open', 0):,} open, {deals.get('won', 0):,} won, "
                          f"{deals.get('lost', 0):,} lost)"),
        ("Open pipeline", money(overview.open_pipeline)),
        ("Win rate", f"{overview.win_rate:.1%}" if overview.win_rate is not None else "—"),
        ("Median sales cycle", f"{overview.median_sales_cycle_days:,.0f} days"
         if overview.median_sales_cycle_days is not None else "—"),
        ("Average deal size", money(overview.average_deal_size)),
        ("Leads", f"{overview.leads:,}"),
        ("Activities", f"{overview.activities:,}"),
    ]


def _two_columns(title: str, key: str, value: str, rows: dict[str, str]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column(key)
    table.add_column(value, justify="right")
    for k, v in rows.items():
        table.add_row(k, v)
    return table


def _money(currency: str) -> Callable[[float | None], str]:
    def fmt(value: float | None) -> str:
        return "—" if value is None else f"{currency} {value:,.0f}"

    return fmt
