"""The day the tempo board is seen from: the morning after the last day of data."""

from __future__ import annotations

from datetime import date, timedelta

from cadence.analysis.as_of import TableSource, data_last_day
from cadence.analysis.tempo.board import latest_day
from cadence.analysis.tempo.data import TempoData


def board_as_of(tables: TableSource, data: TempoData, today: date) -> date:
    """The morning after the last day of data: today's shipments count; an old export (or the demo) is seen as
    of its own last day, like the scorecard's week — and a team that stopped shipping is not frozen in time."""
    last = data_last_day(tables, not_after=today) or today
    shipped = latest_day(data)
    if shipped is not None:
        last = max(last, min(shipped, today))
    return last + timedelta(days=1)
