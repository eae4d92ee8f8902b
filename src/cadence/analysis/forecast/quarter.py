"""The quarter's bookings forecast on an as-of date, by every method, from one load of the warehouse.

`Forecaster` keeps what several forecasts share — the rows, the closings, every past quarter replayed
at each point, each quarter's fitted model — in memory, so a backtest of many checkpoints reads the
warehouse once, rebuilds each past snapshot once, and fits one model per quarter (a quarter's lessons
are the quarters that ended before it began, the same for every checkpoint inside it).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from cadence.analysis.forecast.amounts import AmountEstimate, estimate_amounts
from cadence.analysis.forecast.calibration import quarter_swing
from cadence.analysis.forecast.conversion import OpenDealOutlook
from cadence.analysis.forecast.data import ForecastData, as_timestamp
from cadence.analysis.forecast.features import open_deal_features, with_values
from cadence.analysis.forecast.historical import historical_conversion
from cadence.analysis.forecast.result import METHODS, MethodForecast, QuarterForecast
from cadence.analysis.forecast.run_rate import RunRate, new_deal_bookings, run_rate
from cadence.analysis.forecast.simulate import simulate
from cadence.analysis.forecast.snapshot import Snapshot, closings, pipeline_as_of, won_between
from cadence.analysis.forecast.stage_weighted import stage_probabilities, stage_weighted
from cadence.analysis.forecast.training import lesson, past_quarters
from cadence.analysis.forecast.win_model import THREADS, WIN_MODEL_GUIDE, WinModel
from cadence.analysis.words import plural
from cadence.metrics.calendar import FiscalCalendar

OFFSETS = (0, 30, 60)  # days into past quarters at which they are replayed for the win model
FIT_WORKERS = 2  # win models fitted at once by `prepare`
UNMEASURED_SWING = 0.25  # the quarter's shared swing assumed until two past quarters can measure it


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
        self._models: dict[tuple[date, tuple[int, ...]], WinModel] = {}
        self._amounts: dict[date, AmountEstimate] = {}
        self._stretches: dict[tuple[date, int], float | None] = {}
        self._last_training: tuple[tuple[date, tuple[int, ...]], pd.DataFrame] | None = None

    def forecast(self, as_of: date, quarter_start: date | None = None) -> QuarterForecast:
        """The bookings forecast of the quarter holding `as_of` (or starting on `quarter_start`)."""
        start = quarter_start or self.calendar.start_of(as_of, "quarter")
        end = self.calendar.next_start(start, "quarter")
        as_of = min(max(as_of, start), end)
        offset = (as_of - start).days
        snapshot = pipeline_as_of(self.data, as_of, open_only=True)  # the closed deals: in self.closes
        open_deals = open_deal_features(self.data, snapshot, end, self.closes, self._amount_estimate(as_of))
        if as_of >= end:
            open_deals = open_deals.iloc[0:0]
        booked = float(won_between(self.closes, start, as_of)["amount"].fillna(0).sum())
        notes = _snapshot_notes(snapshot, open_deals, self.data.undated)
        results = [self._stage_weighted(open_deals, booked, as_of, start, end, notes)]
        lessons = self._training(start, [offset])
        if lessons.empty or not lessons["won"].any():
            notes.append("historical and win_model left out: no earlier quarter has won deals to learn from, so only "
                         f"the stage-weighted forecast is shown ({WIN_MODEL_GUIDE})")
        else:
            results += self._learned(start, offset, lessons, open_deals, booked, notes, as_of < end)
        results = [r for r in results if r.method in self.methods]
        return QuarterForecast(self.calendar.label(start, "quarter"), start, end, as_of, len(open_deals),
                               results, notes)

    def deal_outlooks(self, as_of: date, quarter_start: date) -> tuple[pd.DataFrame, dict[str, OpenDealOutlook]]:
        """The deals open on `as_of` and, per method (stage_weighted, and win_model when it can be fitted), each
        one's probability of being won in the quarter and its value: the parts `forecast` adds up, kept per deal so
        a part of the company (one manager's team) can be forecast with the company's model."""
        end = self.calendar.next_start(quarter_start, "quarter")
        as_of = min(max(as_of, quarter_start), end)
        snapshot = pipeline_as_of(self.data, as_of, open_only=True)  # the closed deals: in self.closes
        open_deals = open_deal_features(self.data, snapshot, end, self.closes, self._amount_estimate(as_of))
        if as_of >= end:
            open_deals = open_deals.iloc[0:0]
        probabilities, _ = stage_probabilities(self.data, as_of)
        outlooks = {"stage_weighted": stage_weighted(open_deals, probabilities, quarter_start, end)}
        lessons = self._training(quarter_start, [(as_of - quarter_start).days])
        if not lessons.empty and lessons["won"].any():
            model = self._model(quarter_start, (as_of - quarter_start).days)
            if model.fitted:
                outlooks["win_model"] = model.outlook(open_deals)
        return open_deals, outlooks

    def prepare(self, points: list[tuple[date, date]]) -> None:
        """Fit, two at a time, the win models the forecasts on these (as-of date, quarter start) points will need.

        Each model learns only from the quarters before its own, so a backtest needs one per quarter; they are
        independent, and the boosting releases the interpreter while it builds trees, so a two-core machine
        fits two at once. The models are the same as fitted one by one (seeded, one thread each)."""
        moments = [as_timestamp(min(max(as_of, start), self.calendar.next_start(start, "quarter")))
                   for as_of, start in points]
        for as_of, start in points:
            offset = (min(max(as_of, start), self.calendar.next_start(start, "quarter")) - start).days
            moments += self._lesson_moments(start, sorted({*OFFSETS, offset}))
        self.data.states.prefetch(moments)  # every snapshot the points replay, in one query
        if "win_model" not in self.methods:
            return
        wanted: dict[tuple[date, tuple[int, ...]], pd.DataFrame] = {}
        for as_of, start in points:
            end = self.calendar.next_start(start, "quarter")
            offset = (min(max(as_of, start), end) - start).days
            offsets = tuple(sorted({*OFFSETS, offset}))
            lessons = self._training(start, [offset])
            if (start, offsets) in self._models or lessons.empty or not lessons["won"].any():
                continue
            wanted[(start, offsets)] = self._training(start, list(offsets))
        if len(wanted) < 2:
            return
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        with threadpool_limits(THREADS), ThreadPoolExecutor(FIT_WORKERS) as pool:
            for key, model in zip(wanted, pool.map(WinModel, wanted.values()), strict=True):
                self._models[key] = model

    def past(self, start: date) -> list[tuple[date, date]]:
        """The quarters before the one starting `start` that the data covers, oldest first."""
        return self._past(start)

    # -- methods ---------------------------------------------------------------------------------
    def _stage_weighted(self, open_deals: pd.DataFrame, booked: float, as_of: date, start: date, end: date,
                        notes: list[str]) -> MethodForecast:
        probabilities, measured = stage_probabilities(self.data, as_of)
        notes += measured
        outlook = stage_weighted(open_deals, probabilities, start, end)
        undated = int(open_deals["close_date"].isna().sum())
        if undated:
            notes.append(f"{undated:,} open deals have no expected close date; the stage-weighted forecast counts "
                         "them as due this quarter")
        return MethodForecast("stage_weighted", booked + outlook.expected, None, None, None, booked,
                              outlook.expected, 0.0)

    def _learned(self, start: date, offset: int, lessons: pd.DataFrame, open_deals: pd.DataFrame, booked: float,
                 notes: list[str], running: bool) -> list[MethodForecast]:
        """The historical and win-model forecasts, with intervals."""
        past = self._past(start)
        new_deals = run_rate([self._new_deals(q, offset) for q in past]) if running else RunRate([])
        swing = self._swing(past, offset)
        if swing is None:
            swing = UNMEASURED_SWING
            notes.append(f"fewer than two past quarters to measure how much a quarter swings: the intervals assume "
                         f"±{UNMEASURED_SWING:.0%}")
        results = []
        if "historical" in self.methods:
            outlook = historical_conversion(lessons, open_deals, offset)
            results.append(self._simulated("historical", booked, outlook, new_deals, swing))
        if "win_model" in self.methods:
            model = self._model(start, offset)
            if model.fitted:
                results.append(self._simulated("win_model", booked, model.outlook(open_deals), new_deals, swing))
            else:
                notes.append(model.why_not_fitted())
        return results

    def _simulated(self, method: str, booked: float, outlook: OpenDealOutlook, new_deals: RunRate,
                   swing: float) -> MethodForecast:
        interval = simulate(booked, outlook, new_deals, swing, seed=self.seed)
        expected = booked + outlook.expected + new_deals.expected
        return MethodForecast(method, expected, interval.p10, interval.p50, interval.p90, booked, outlook.expected,
                              new_deals.expected)

    # -- what forecasts share --------------------------------------------------------------------
    def _past(self, start: date) -> list[tuple[date, date]]:
        return past_quarters(self.calendar, self.data.first_day, start)

    def _amount_estimate(self, moment: date) -> AmountEstimate:
        """Amounts for deals without one, from deals won before `moment`."""
        if moment not in self._amounts:
            won = self.closes[self.closes["is_won"] & (self.closes["closed_at"] < as_timestamp(moment))]
            self._amounts[moment] = estimate_amounts(won, self.data.deals)
        return self._amounts[moment]

    def _lesson(self, quarter: tuple[date, date], offset: int) -> pd.DataFrame:
        key = (quarter[0], offset)
        if key not in self._lessons:
            self._lessons[key] = lesson(self.data, self.closes, *quarter, offset)
        return self._lessons[key]

    def _training(self, start: date, offsets: list[int]) -> pd.DataFrame:
        """Every quarter before `start` replayed `offsets` days in.

        Deals without an amount are valued with what was won before `start`, not before each lesson's
        own date: early lessons would otherwise value them at nothing (Maven won nothing before March 2017).
        """
        key = (start, tuple(offsets))
        if self._last_training is not None and self._last_training[0] == key:
            return self._last_training[1]  # a forecast asks twice (its rates, then its swing): built once
        self.data.states.prefetch(self._lesson_moments(start, offsets))
        frames = [self._lesson(q, o) for q in self._past(start) for o in offsets]
        frames = [f for f in frames if len(f)]
        training = with_values(pd.concat(frames, ignore_index=True), self._amount_estimate(start)) if frames \
            else pd.DataFrame()
        self._last_training = (key, training)  # only the last: a large company's are hundreds of MB each
        return training

    def _lesson_moments(self, start: date, offsets: list[int]) -> list[pd.Timestamp]:
        """The moments of the lessons `_training(start, offsets)` replays and has not replayed yet."""
        return [as_timestamp(q[0] + timedelta(days=o)) for q in self._past(start) for o in offsets
                if (q[0], o) not in self._lessons and self.data.first_day < q[0] + timedelta(days=o) < q[1]]

    def _model(self, start: date, offset: int) -> WinModel:
        """The win model for the quarter starting `start`, fitted on its past quarters replayed at OFFSETS
        and at `offset` (so a forecast late in a quarter learns from late points of past quarters)."""
        offsets = tuple(sorted({*OFFSETS, offset}))
        if (start, offsets) not in self._models:
            self._models[(start, offsets)] = WinModel(self._training(start, list(offsets)))
        return self._models[(start, offsets)]

    def _swing(self, past: list[tuple[date, date]], offset: int) -> float | None:
        """How much past quarters strayed from what was expected of them `offset` days in."""
        lessons = self._training(past[-1][1], [offset]) if past else pd.DataFrame()
        if lessons.empty:
            return None
        stretches = [self._new_deals(q, offset) for q in past]
        run_rates = {q[0]: run_rate(stretches[:i]) for i, q in enumerate(past)}
        realised = {q[0]: value or 0.0 for q, value in zip(past, stretches, strict=True)}
        return quarter_swing(lessons, run_rates, realised)

    def _new_deals(self, quarter: tuple[date, date], offset: int) -> float | None:
        key = (quarter[0], offset)
        if key not in self._stretches:
            self._stretches[key] = new_deal_bookings(self.data, self.closes, quarter, offset)
        return self._stretches[key]


def _snapshot_notes(snapshot: Snapshot, open_deals: pd.DataFrame, undated: int = 0) -> list[str]:
    notes = []
    if undated:
        one = undated == 1
        notes.append(f"{plural(undated, 'deal', verb='has')} no created_at and no history: no pipeline as of "
                     f"a day can place {'it' if one else 'them'} in time, so every open pipeline here (and in the "
                     f"backtest) leaves {'it' if one else 'them'} out")
    if snapshot.unplaced:
        one = snapshot.unplaced == 1
        notes.append(f"{plural(snapshot.unplaced, 'deal')} created before the as-of date had no history row by then: "
                     f"{'its' if one else 'their'} state comes from the deal row (closed if closed_at is earlier, "
                     "else open in the first stage)")
    unknown = int((~open_deals["amount_known"]).sum()) if len(open_deals) else 0
    if unknown:
        one = unknown == 1
        notes.append(f"{plural(unknown, 'open deal')} had no amount on the as-of date: valued at the "
                     f"median won amount of {'its' if one else 'their'} product among deals won before then")
    return notes
