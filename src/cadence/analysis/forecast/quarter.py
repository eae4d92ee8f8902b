"""The quarter's bookings forecast on an as-of date, by every method, from one load of the warehouse.

`Forecaster` keeps what several forecasts share — the rows, the closings, each quarter's lessons and
fitted model — in memory, so a backtest of many checkpoints reads the warehouse once and fits one model
per quarter (a quarter's lessons are the quarters that ended before it began, the same for every
checkpoint inside it).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from cadence.analysis.forecast.amounts import AmountEstimate, estimate_amounts
from cadence.analysis.forecast.conversion import OpenDealOutlook
from cadence.analysis.forecast.data import ForecastData, as_timestamp
from cadence.analysis.forecast.features import open_deal_features
from cadence.analysis.forecast.historical import historical_conversion
from cadence.analysis.forecast.result import METHODS, MethodForecast, QuarterForecast
from cadence.analysis.forecast.run_rate import RunRate, new_deal_bookings
from cadence.analysis.forecast.simulate import simulate
from cadence.analysis.forecast.snapshot import closings, pipeline_as_of, won_between
from cadence.analysis.forecast.stage_weighted import stage_probabilities, stage_weighted
from cadence.analysis.forecast.training import past_quarters, training_frame
from cadence.analysis.forecast.win_model import WinModel
from cadence.metrics.calendar import FiscalCalendar

OFFSETS = (0, 15, 30, 45, 60, 75)  # days into past quarters at which they are replayed as lessons


class Forecaster:
    """Forecasts quarters of one company's data, on any as-of date, without looking past it."""

    def __init__(self, data: ForecastData, calendar: FiscalCalendar, *, methods: tuple[str, ...] = METHODS,
                 seed: int = 0):
        self.data = data
        self.calendar = calendar
        self.methods = methods
        self.seed = seed
        self.closes = closings(data)
        self._lessons: dict[tuple[date, int], pd.DataFrame] = {}
        self._models: dict[date, WinModel] = {}
        self._amounts: dict[date, AmountEstimate] = {}

    def forecast(self, as_of: date, quarter_start: date | None = None) -> QuarterForecast:
        """The bookings forecast of the quarter holding `as_of` (or starting on `quarter_start`)."""
        start = quarter_start or self.calendar.start_of(as_of, "quarter")
        end = self.calendar.next_start(start, "quarter")
        as_of = min(max(as_of, start), end)
        offset = (as_of - start).days
        snapshot = pipeline_as_of(self.data, as_of)
        amounts = self._amount_estimate(start)
        open_deals = open_deal_features(self.data, snapshot, end, self.closes, amounts) if as_of < end \
            else open_deal_features(self.data, snapshot, end, self.closes, amounts).iloc[0:0]
        booked = float(won_between(self.closes, start, as_of)["amount"].fillna(0).sum())
        notes = self._snapshot_notes(snapshot, open_deals)
        results = [self._stage_weighted(open_deals, booked, as_of, start, end, notes)]
        lessons = self._training(start, offset)
        if not lessons["won"].any() if len(lessons) else True:
            notes.append("no earlier quarter with won deals to learn from: only the stage-weighted forecast")
        else:
            new_deals = new_deal_bookings(self.data, self.closes, self._past(start), offset) if as_of < end \
                else RunRate([])
            if "historical" in self.methods:
                outlook = historical_conversion(lessons, open_deals, offset)
                results.append(self._simulated("historical", booked, outlook, new_deals))
            if "win_model" in self.methods:
                model = self._model(start)
                if model.fitted:
                    results.append(self._simulated("win_model", booked, model.outlook(open_deals), new_deals))
                else:
                    notes.append("too few won deals in earlier quarters to fit the win-probability model")
        results = [r for r in results if r.method in self.methods]
        return QuarterForecast(self.calendar.label(start, "quarter"), start, end, as_of, len(open_deals),
                               results, notes)

    # -- methods ---------------------------------------------------------------------------------
    def _stage_weighted(self, open_deals: pd.DataFrame, booked: float, as_of: date, start: date, end: date,
                        notes: list[str]) -> MethodForecast:
        probabilities, measured = stage_probabilities(self.data, self.closes, as_of)
        notes += measured
        outlook = stage_weighted(open_deals, probabilities, start, end)
        undated = int(open_deals["close_date"].isna().sum())
        if undated:
            notes.append(f"{undated:,} open deals have no expected close date; the stage-weighted forecast counts "
                         "them as due this quarter")
        return MethodForecast("stage_weighted", booked + outlook.expected, None, None, None, booked,
                              outlook.expected, 0.0)

    def _simulated(self, method: str, booked: float, outlook: OpenDealOutlook, new_deals: RunRate) -> MethodForecast:
        interval = simulate(booked, outlook, new_deals, seed=self.seed)
        return MethodForecast(method, interval.mean, interval.p10, interval.p50, interval.p90, booked,
                              outlook.expected, interval.mean - booked - outlook.expected)

    # -- what forecasts share --------------------------------------------------------------------
    def _past(self, start: date) -> list[tuple[date, date]]:
        return past_quarters(self.calendar, self.data.first_day, start)

    def _amount_estimate(self, start: date) -> AmountEstimate:
        if start not in self._amounts:
            won = self.closes[self.closes["is_won"] & (self.closes["closed_at"] < as_timestamp(start))]
            self._amounts[start] = estimate_amounts(won, self.data.deals)
        return self._amounts[start]

    def _training(self, start: date, offset: int) -> pd.DataFrame:
        """Lessons for the quarter starting `start`: its past quarters replayed at OFFSETS and at `offset`."""
        for each in {*OFFSETS, offset}:
            if (start, each) not in self._lessons:
                self._lessons[(start, each)] = training_frame(self.data, self.calendar, start, [each], self.closes,
                                                              self._amount_estimate(start))
        frames = [self._lessons[(start, each)] for each in sorted({*OFFSETS, offset})]
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"won": []})

    def _model(self, start: date) -> WinModel:
        if start not in self._models:
            lessons = pd.concat([self._lessons[(start, o)] for o in OFFSETS if len(self._lessons[(start, o)])],
                                ignore_index=True)
            self._models[start] = WinModel(lessons)
        return self._models[start]

    def _snapshot_notes(self, snapshot: object, open_deals: pd.DataFrame) -> list[str]:
        notes = []
        fallback = getattr(snapshot, "fallback_count", 0)
        if fallback:
            notes.append(f"{fallback:,} deals created before the as-of date had no history row by then: their state "
                         "comes from the deal row (closed if closed_at is earlier, else open in the first stage)")
        unknown = int(open_deals["amount_known"].eq(False).sum()) if len(open_deals) else 0
        if unknown:
            notes.append(f"{unknown:,} open deals had no amount on the as-of date: valued at the median won amount "
                         "of their product (deals won before the quarter)")
        return notes


def quarter_checkpoint(calendar: FiscalCalendar, quarter_start: date, days: int) -> date:
    """The day `days` into the quarter (0 is its first day)."""
    return quarter_start + timedelta(days=days)
