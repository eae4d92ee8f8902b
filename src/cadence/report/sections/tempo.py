"""Tempo on the weekly scorecard: each team against what good looks like, why the misses happen, and the
gap-review actions that are past due."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cadence.analysis.tempo import (
    DIAGNOSIS_RULE,
    PACE_RULE,
    TempoBoard,
    TempoRow,
    load_tempo,
    tempo_board,
)
from cadence.analysis.tempo.reviews import ReviewFollowUp
from cadence.report.model import Chart, ScorecardContext, Section
from cadence.report.tempo_charts import tempo_trend_spec

if TYPE_CHECKING:
    from cadence.workspace import Workspace


def tempo_row(row: TempoRow) -> dict[str, Any]:
    """One line of the tempo table: the period, actual against target, pace, streak and diagnosis."""
    period = row.current
    chance = f"{period.chance:.0%}" if period.status in ("on_pace", "at_risk") and period.chance is not None else None
    return {"team": row.track.team, "deliverable": row.track.label, "period": period.label, "actual": period.actual,
            "target": period.target, "status": period.status.replace("_", " "), "chance": chance,
            "streak": str(row.streak) if row.streak else None,
            "diagnosis": row.diagnosis.verdict if row.diagnosis else None}


def past_due_line(review: ReviewFollowUp) -> str:
    owner = review.owner or review.owner_id or "no owner"
    return (f"Past due — {review.team} · {review.metric} ({review.period}, cause {review.cause}): "
            f"{review.action} — {owner}, due {review.due}")


def follow_up_line(review: ReviewFollowUp) -> str:
    outcome = {True: f"gap closed in {review.checked_in}", False: f"gap still open in {review.checked_in}",
               None: "no later period has ended yet"}[review.gap_closed]
    return f"Reviewed {review.team} · {review.metric} ({review.period}): {review.action} — {outcome}"


def tempo_notes(board: TempoBoard, context: ScorecardContext) -> list[str]:
    notes = [f"⚠ {past_due_line(r)}" for r in board.past_due]
    since = context.week_start - timedelta(days=7)  # the last two meetings: the ones this one follows up
    notes += [follow_up_line(r) for r in board.reviews if r.created_at >= since and not r.past_due]
    for row in board.diagnosed():
        if row.diagnosis is not None:
            notes.append(f"{row.track.team} · {row.track.label} ({row.current.label}): {row.diagnosis.verdict} — "
                         f"{row.diagnosis.reason}. " + "; ".join(row.diagnosis.evidence) + ".")
    return notes + [f"Pace rule — {PACE_RULE}.", f"Organisational or individual — {DIAGNOSIS_RULE}."]


class TempoSection:
    key = "tempo"
    title = "Tempo: each team against what good looks like"
    order = 20

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        data = load_tempo(ws)
        if data.targets.empty:
            return None
        board = tempo_board(data, ws.calendar, context.as_of)
        chart = Chart("tempo-trend", "Shipped against target", tempo_trend_spec(board))
        return Section(self.key, self.title, rows=[tempo_row(r) for r in board.rows], charts=[chart],
                       notes=tempo_notes(board, context))
