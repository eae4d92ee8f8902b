"""The day the tempo board is seen from: the morning after the last day of data."""

from __future__ import annotations

from datetime import date, timedelta

from cadence.analysis.as_of import TableSource, data_last_day
from cadence.analysis.tempo.board import TempoBoard, latest_day, tempo_board
from cadence.analysis.tempo.data import TempoData, load_tempo
from cadence.metrics.calendar import FiscalCalendar


def board_as_of(tables: TableSource, data: TempoData, today: date) -> date:
    """The morning after the last day of data: today's shipments count; an old export (or the demo) is seen as
    of its own last day, like the scorecard's week — and a team that stopped shipping is not frozen in time."""
    last = data_last_day(tables, not_after=today) or today
    shipped = latest_day(data)
    if shipped is not None:
        last = max(last, min(shipped, today))
    return last + timedelta(days=1)


def board_on(tables: TableSource, calendar: FiscalCalendar, today: date, as_of: date | None = None) -> TempoBoard:
    """The board as of `as_of`; without one, as of the last day of data with every review recorded up to
    `today` (a review held after the data ends still shows)."""
    data = load_tempo(tables)
    if as_of is not None:
        return tempo_board(data, calendar, as_of)
    day = board_as_of(tables, data, today)
    return tempo_board(data, calendar, day, reviews_until=max(day, today + timedelta(days=1)))
