"""Stage regressions: deals that moved back to an earlier stage of their pipeline."""

from __future__ import annotations

from datetime import date

import ibis

from cadence.analysis.quality.findings import Finding, TableSource, rows_finding
from cadence.analysis.words import plural


def stage_regressions(tables: TableSource, today: date) -> list[Finding]:
    """Opportunities whose history moves back to an earlier stage at least once.

    Rule: in opportunity_history, ordered by changed_at, a row whose stage has a lower position in
    the opportunity's pipeline (the `stages` table) than the stage before it. Closed stages (won or
    lost) rank after every open stage and equal to each other, so reopening a closed deal counts
    and won ↔ lost does not. Stages no pipeline declares are skipped. Regressions make stage
    conversion rates look better than they are: the deal is counted through a stage twice.
    """
    history = tables.table("opportunity_history")
    pipelines = tables.table("opportunities").select("opportunity_id", "pipeline")
    steps = history.select("opportunity_id", "changed_at", "stage").join(pipelines, "opportunity_id")
    steps = steps.join(_stage_ranks(tables), ["pipeline", "stage"])
    previous = steps["rank"].lag().over(group_by=steps.opportunity_id, order_by=steps.changed_at)
    steps = steps.mutate(previous_rank=previous)
    back = steps.filter(steps["rank"] < steps.previous_rank)
    deals = back.group_by("opportunity_id").aggregate(moves=back.opportunity_id.count())
    return rows_finding(
        deals, "opportunity_id", check="stage_regression", severity="warning",
        message=lambda n: f"{plural(n, 'opportunity', 'opportunities', verb='moved')} back to an earlier "
                          "stage at least once (rule: in opportunity_history, a stage positioned before the "
                          "previous one in the deal's pipeline; reopening a closed deal counts). Stage "
                          "conversion rates count these deals through a stage twice.",
    )


def _stage_ranks(tables: TableSource) -> ibis.Table:
    """pipeline, stage, rank: the stage's position, closed stages all ranked after the open ones."""
    stages = tables.table("stages")
    last = stages.group_by("pipeline").aggregate(last_position=stages.position.max())
    ranked = stages.join(last, "pipeline")
    closed = ranked.is_won | ranked.is_lost
    return ranked.select("pipeline", "stage",
                         rank=ibis.ifelse(closed, ranked.last_position + 1, ranked.position))
