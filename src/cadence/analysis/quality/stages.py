"""Stages: open deals sitting in a stage whose name says the deal is closed."""

from __future__ import annotations

from datetime import date

from cadence.analysis.quality.findings import Finding, TableSource, rows_finding
from cadence.analysis.words import plural
from cadence.ingest.stage_inference import name_says


def open_in_closed_stage(tables: TableSource, today: date) -> list[Finding]:
    """Open opportunities in a stage named as closed ("Closed: abandoned", "Closed Won", "Perdida", …).

    Rule: not closed (won or lost) and the stage's name says won, lost or closed. Usually the
    pipeline's stage list treats a closed stage as open (an export that did not say which stages are
    closed): the deals then count as pipeline and in the forecast. Mark the stage `won: true` or
    `lost: true` under cadence.yml's `pipelines:` and import again.
    """
    opps = tables.table("opportunities")
    open_deals = opps.filter(~opps.is_closed)
    names = open_deals.select("stage").distinct().to_pandas()["stage"]
    closed_names = sorted(str(n) for n in names if name_says(n) is not None)
    if not closed_names:
        return []
    rows = open_deals.filter(open_deals.stage.isin(closed_names))
    shown = ", ".join(repr(n) for n in closed_names[:5])
    return rows_finding(
        rows, "opportunity_id", check="open_in_closed_stage", severity="warning",
        order_by=[rows.stage, rows.opportunity_id],
        message=lambda n: f"{plural(n, 'open opportunity', 'open opportunities', verb='is')} in a stage whose "
                          f"name says closed ({shown}; rule: not closed and the stage name says won, lost or "
                          "closed); they count as pipeline. Mark the stage `won: true` or `lost: true` under "
                          "cadence.yml's `pipelines:` and import again.",
    )
