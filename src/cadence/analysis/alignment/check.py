"""Does each team's KPI move the mission metric? Lead/lag correlation of period-over-period changes.

The method, stated once (`METHOD` and `RULE` carry it to every report):

1. **What a series adds per period.** A level that accumulates — ARR, MRR, customers, active users (a
   *stock*) — grows by what is added to it each period, and that addition is what a team's flows
   (bookings, leads) and rates (win rate, NPS) drive. So a stock is first turned into its change per
   period (net new ARR); flows and rates are taken as they are. The caller says which series are stocks.
2. **Period-over-period changes.** Every series is then replaced by its first difference (this period
   minus the last), and the first period, which has no change, drops out. Levels of a growing company
   all trend upward together, so correlating levels would call almost anything aligned; changes remove
   the shared trend. First differences rather than relative (percent) changes, because Pearson's r does
   not depend on a series' scale anyway, while relative changes explode near zero (a month without
   bookings in a segment) and mean nothing for series that cross zero (net new MRR). The price: in a
   fast-growing company later periods weigh more in r, so Spearman's ρ (on ranks) is reported beside it.
3. **Lead and lag.** At each lag k in −max_lag … +max_lag, the KPI's change in period t is paired with
   the mission metric's change in period t + k: a **positive lag means the KPI leads** (moves first).
   A lag with fewer than `min_points` pairs is not tried. The best lag is the one with the strongest
   correlation |r| (ties go to the shorter lag, then to the KPI leading).
4. **Chance.** p is the share of surrogate KPI series whose strongest |r| over every lag tried is at
   least the observed one. Surrogates keep the spectrum (hence the autocorrelation) of the KPI's
   changes and randomise its phases, so a smooth or oscillating series is not mistaken for a related
   one (a rhythm both series take from the calendar is another matter: see step 5); taking the
   strongest lag of each surrogate accounts for having tried 2·max_lag + 1 lags.
5. **Verdict.** r is read in the KPI's good direction: as is when the KPI and the mission metric are both
   higher-is-better, reversed for a lower-is-better KPI such as sales cycle (it is aligned when it falls
   as the mission metric rises). Then, in this order:

   - **aligned**: p < 0.05 and r ≥ 0.5 — a strong relation, and chance does not explain it;
   - **weak**: p < 0.05 and 0.2 ≤ r < 0.5 — real, but the KPI explains little of the mission metric;
   - **not aligned**: p < 0.05 with r < 0.2 or running the wrong way; or p ≥ 0.05 with r < 0.5 when the
     data could have shown a clear relation (chance alone reaches r = 0.7 in fewer than 5% of surrogates);
   - **not enough data**: fewer than `min_points` pairs at every lag, a series that never changes, or
     p ≥ 0.05 when either r ≥ 0.5 (it looks strong, but these points cannot tell it from chance) or
     chance alone reaches r = 0.7 in 5% of surrogates or more (even a clear relation could not be told
     from chance). Calling such a KPI "not aligned" would be a guess. With 36 months and seven lags,
     chance reaches about r = 0.5 — more when both series share a rhythm such as quarter-end pushes,
     which surrogates keep; with 12 quarters, about 0.85.

   - **a shared rhythm** (with `season`, e.g. 3 for months): an aligned KPI is checked once more with
     each series' usual change at each position of the cycle (month 1, 2 or 3 of the quarter) taken out.
     If r at the best lag then falls below 0.5, the verdict is **weak**: the KPI moves with the mission
     metric mainly through a quarter-end rhythm both share. Two unrelated series that both jump at
     quarter end would otherwise look aligned (surrogates with random phases do not line such a
     rhythm up as the calendar does); the rhythm is not simply removed, because a KPI may well move
     the mission metric through it (the quarter-end deals are the quarter-end ARR).

   Significance comes first because the best of seven lags of two unrelated series is easily |r| ≈ 0.3
   over three years of months: a rule on r alone would call noise "weak" most of the time.

Pure: series in, results out; no I/O, no configuration, deterministic for a given `seed`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from cadence.errors import InputError

Verdict = Literal["aligned", "weak", "not aligned", "not enough data"]
Direction = Literal["up", "down"]

STRONG = 0.5  # r at or above this, the right way, is a strong relation
CLEAR = 0.7  # a relation this strong that the data could not tell from chance means too little data
MODEST = 0.2  # below this there is no relation worth managing by
ALPHA = 0.05  # significance level, over all lags tried
SURROGATES = 999

METHOD = ("each series is compared by its period-over-period change (a level that accumulates, such as ARR, by "
          "the change of what it adds each period); the KPI's change in period t is paired with the mission "
          "metric's change in period t + lag, a positive lag meaning the KPI moves first")
RULE = (f"aligned: the strongest correlation over the lags tried runs the KPI's good way with r ≥ {STRONG}, "
        f"beyond chance (p < {ALPHA}, allowing for every lag tried), and, by month, still r ≥ {STRONG} once the "
        f"quarter's month-by-month rhythm is taken out of both series; weak: beyond chance with {MODEST} ≤ r < "
        f"{STRONG}, or aligned only through that rhythm; not aligned: beyond chance but r < {MODEST} or the wrong "
        f"way, or r < {STRONG} the good way and no stronger than chance although the data could have shown a clear "
        f"relation; not enough data: too few paired changes, a series that never changes, r ≥ {STRONG} the good way "
        f"that chance could produce, or so few points that chance alone reaches r = {CLEAR} in {ALPHA:.0%} of cases")


@dataclass(frozen=True)
class LagCorrelation:
    """The correlation of changes at one lag (positive: the KPI leads)."""

    lag: int
    r: float | None
    spearman: float | None
    points: int


@dataclass(frozen=True)
class KpiAlignment:
    """How one KPI moves with the mission metric, and the verdict with its reason."""

    kpi: str
    verdict: Verdict
    reason: str
    r: float | None = None  # Pearson r of changes at the best lag, as measured (not sign-adjusted)
    spearman: float | None = None  # Spearman ρ at the best lag
    best_lag: int | None = None  # periods; positive: the KPI leads the mission metric
    p_value: float | None = None  # chance of so strong a correlation at any lag tried, if unrelated
    chance_r: float | None = None  # the |r| chance alone reaches in ALPHA of cases, over the lags tried
    r_beyond_rhythm: float | None = None  # r at the best lag once a shared calendar rhythm is taken out
    points: int = 0  # paired changes at the best lag (or the most any lag had)
    expected_sign: int = 1  # +1: aligned KPIs move with the mission metric; −1: against it (lower is better)
    lags: tuple[LagCorrelation, ...] = ()
    team: str | None = None
    metric: str | None = None
    where: str | None = None
    grain: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["lags"] = [asdict(lag) for lag in self.lags]
        return data


def check_alignment(mission: pd.DataFrame, kpis: dict[str, pd.DataFrame], *, max_lag: int = 3,
                    min_points: int = 8, directions: Mapping[str, Direction] | None = None,
                    mission_direction: Direction = "up", stocks: Collection[str] = (), mission_stock: bool = False,
                    season: int | None = None, period_name: str = "period", surrogates: int = SURROGATES,
                    seed: int = 0) -> list[KpiAlignment]:
    """For each KPI series, how its changes move with the mission metric's (see the module's docstring).

    `mission` and each frame of `kpis` hold one row per period: `period` (a label) and `value`, and
    optionally `period_start` (used to order periods; labels are sorted otherwise). A period missing
    from one series is unknown there: the changes on either side of it drop out. `directions` gives each
    KPI's direction (default "up"); `stocks` names the KPIs that are accumulating levels (see step 1);
    `season` the length of a calendar rhythm (3 for months: the quarter) to look beyond (see step 5).
    """
    if max_lag < 0 or min_points < 3:
        raise InputError("max_lag must be ≥ 0 and min_points ≥ 3")
    directions = directions or {}
    results = []
    for name, frame in kpis.items():
        expected = 1 if directions.get(name, "up") == mission_direction else -1
        x, y = _paired_changes(frame, mission, kpi_stock=name in stocks, mission_stock=mission_stock)
        result = _judge(name, x, y, expected=expected, max_lag=max_lag, min_points=min_points,
                        period_name=period_name, surrogates=surrogates, seed=seed)
        if season and result.verdict == "aligned":
            result = _beyond_rhythm(result, x, y, season, period_name)
        results.append(result)
    return results


# -- series -------------------------------------------------------------------------------------------
def _levels(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    missing = {"period", "value"} - set(frame.columns)
    if missing:
        raise InputError(f"{what}: needs columns period and value (missing {', '.join(sorted(missing))})")
    if frame["period"].duplicated().any():
        raise InputError(f"{what}: expected one row per period", hint="do not cut the series by a dimension")
    keep = [c for c in ("period", "period_start", "value") if c in frame.columns]
    out = frame[keep].copy()
    out["period"] = out["period"].astype(str)
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    return out


def _timeline(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Every period in either series, in time order."""
    both = pd.concat([a, b], ignore_index=True)
    if "period_start" in a.columns and "period_start" in b.columns:
        starts = both.assign(period_start=pd.to_datetime(both["period_start"]))
        order = starts.groupby("period")["period_start"].min().sort_values(kind="stable")
        return [str(p) for p in order.index]
    return sorted(both["period"].unique().tolist())


def _changes(levels: pd.DataFrame, timeline: list[str], *, stock: bool) -> np.ndarray:
    values = levels.set_index("period")["value"].reindex(timeline).to_numpy(dtype="float64")
    values = np.diff(values, prepend=np.nan)  # first differences; the first period has none
    if stock:  # an accumulating level: what it adds per period first, then that addition's change
        values = np.diff(values, prepend=np.nan)
    return values


def _paired_changes(kpi: pd.DataFrame, mission: pd.DataFrame, *, kpi_stock: bool,
                    mission_stock: bool) -> tuple[np.ndarray, np.ndarray]:
    a, b = _levels(kpi, "KPI series"), _levels(mission, "mission series")
    timeline = _timeline(a, b)
    return _changes(a, timeline, stock=kpi_stock), _changes(b, timeline, stock=mission_stock)


# -- correlation --------------------------------------------------------------------------------------
def _without_rhythm(changes: np.ndarray, season: int) -> np.ndarray:
    """Changes less their average at the same position of a `season`-period cycle (e.g. month 3 of a quarter)."""
    out = changes.copy()
    position = np.arange(len(changes)) % season
    for p in range(season):
        at = (position == p) & np.isfinite(changes)
        if at.sum() >= 2:
            out[at] -= changes[at].mean()
    return out


def _beyond_rhythm(result: KpiAlignment, x: np.ndarray, y: np.ndarray, season: int,
                   period_name: str) -> KpiAlignment:
    """An aligned KPI, checked again without the `season`-period rhythm both series may share."""
    assert result.best_lag is not None
    ix, iy = _lag_pairs(x, y, result.best_lag)
    r = float(_pearson_rows(_without_rhythm(x, season)[ix][None, :], _without_rhythm(y, season)[iy])[0])
    if np.isnan(r) or result.expected_sign * r >= STRONG:
        return replace(result, r_beyond_rhythm=None if np.isnan(r) else r)
    reason = (f"{result.reason}; but without the {season}-{period_name} rhythm both series share, r = {r:+.2f} — "
              f"weak: it moves with the mission metric mainly through that rhythm")
    return replace(result, verdict="weak", reason=reason, r_beyond_rhythm=r)


def _lag_pairs(x: np.ndarray, y: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into x, into y) of the pairs x[t], y[t + lag] where both are known."""
    n = len(x)
    ix = np.arange(max(0, -lag), min(n, n - lag))
    iy = ix + lag
    known = np.isfinite(x[ix]) & np.isfinite(y[iy])
    return ix[known], iy[known]


def _pearson_rows(xs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row of `xs` with `y` (NaN where a row or `y` does not vary)."""
    xc = xs - xs.mean(axis=-1, keepdims=True)
    yc = y - y.mean()
    denominator = np.sqrt((xc**2).sum(axis=-1) * (yc**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc @ yc) / denominator
    return np.where(denominator > 1e-12 * max(1.0, float(np.abs(yc).max(initial=0.0))), r, np.nan)


def _correlations(x: np.ndarray, y: np.ndarray, max_lag: int, min_points: int) -> list[LagCorrelation]:
    out = []
    for lag in range(-max_lag, max_lag + 1):
        ix, iy = _lag_pairs(x, y, lag)
        if len(ix) < min_points:
            out.append(LagCorrelation(lag, None, None, len(ix)))
            continue
        r = float(_pearson_rows(x[ix][None, :], y[iy])[0])
        ranks_x = pd.Series(x[ix]).rank().to_numpy()
        rho = float(_pearson_rows(ranks_x[None, :], pd.Series(y[iy]).rank().to_numpy())[0])
        out.append(LagCorrelation(lag, None if np.isnan(r) else r, None if np.isnan(rho) else rho, len(ix)))
    return out


def _best(lags: list[LagCorrelation]) -> LagCorrelation | None:
    tried = [c for c in lags if c.r is not None]
    if not tried:
        return None
    strongest = max(abs(c.r) for c in tried if c.r is not None)
    for c in sorted(tried, key=lambda c: (abs(c.lag), c.lag < 0)):
        if c.r is not None and abs(c.r) >= strongest - 1e-9:
            return c
    return None  # pragma: no cover - one of them is the strongest


def _surrogates(x: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` series with the spectrum of `x` (its autocorrelation) and random phases; NaN where x is."""
    known = np.isfinite(x)
    filled = np.where(known, x, np.nanmean(x))
    spectrum = np.fft.rfft(filled - filled.mean())
    phases = rng.uniform(0.0, 2 * np.pi, size=(count, len(spectrum)))
    phases[:, 0] = 0.0
    if len(x) % 2 == 0:
        phases[:, -1] = np.angle(spectrum[-1])  # the Nyquist term stays real
    series = np.fft.irfft(np.abs(spectrum) * np.exp(1j * phases), n=len(x), axis=-1) + filled.mean()
    series[:, ~known] = np.nan
    return series


def _chance(x: np.ndarray, y: np.ndarray, lags: list[LagCorrelation], observed: float, *, count: int,
            seed: int) -> tuple[float, float]:
    """p: the share of surrogates whose strongest |r| over the lags tried reaches `observed` (add-one
    estimate); and the |r| that chance alone reaches in `ALPHA` of them (what significance needs)."""
    shuffled = _surrogates(x, count, np.random.default_rng(seed))
    strongest = np.zeros(count)
    for c in lags:
        if c.r is None:
            continue
        ix, iy = _lag_pairs(x, y, c.lag)
        r = np.abs(_pearson_rows(shuffled[:, ix], y[iy]))
        strongest = np.fmax(strongest, np.nan_to_num(r, nan=0.0))
    p = (1 + np.count_nonzero(strongest >= observed - 1e-12)) / (count + 1)
    return float(p), float(np.quantile(strongest, 1 - ALPHA))


# -- verdict ------------------------------------------------------------------------------------------
def _varies(values: np.ndarray) -> bool:
    known = values[np.isfinite(values)]
    return len(known) >= 2 and float(np.ptp(known)) > 1e-12 * max(1.0, float(np.abs(known).max()))


def _judge(name: str, x: np.ndarray, y: np.ndarray, *, expected: int, max_lag: int, min_points: int,
           period_name: str, surrogates: int, seed: int) -> KpiAlignment:
    lags = tuple(_correlations(x, y, max_lag, min_points))
    most = max(c.points for c in lags)

    def short(reason: str) -> KpiAlignment:
        return KpiAlignment(name, "not enough data", reason, points=most, expected_sign=expected, lags=lags)

    if most < min_points:
        return short(f"{most} paired changes at most; at least {min_points} are needed to judge")
    for series, who in ((x, name), (y, "the mission metric")):
        if not _varies(series):
            return short(f"{who} did not change from {period_name} to {period_name}: no variation to correlate")
    best = _best(list(lags))
    if best is None or best.r is None:
        return short(f"no lag has {min_points} paired changes in which both series vary")
    tried = sum(c.r is not None for c in lags)
    p, chance_r = _chance(x, y, list(lags), abs(best.r), count=surrogates, seed=seed)
    verdict, why = _verdict(expected * best.r, p, chance_r, best.points)
    if expected < 0 and verdict != "not enough data":
        why += " (lower is better for this KPI: it is aligned when it moves opposite to the mission metric)"
    spearman = f" (Spearman {best.spearman:+.2f})" if best.spearman is not None else ""
    reason = (f"{_movement(best.lag, best.r, period_name)}: r = {best.r:+.2f}{spearman} over {best.points} paired "
              f"changes, {_p_text(p)} allowing for the {tried} lags tried — {verdict}: {why}")
    return KpiAlignment(name, verdict, reason, r=best.r, spearman=best.spearman, best_lag=best.lag, p_value=p,
                        chance_r=chance_r, points=best.points, expected_sign=expected, lags=lags)


def _verdict(r: float, p: float, chance_r: float, points: int) -> tuple[Verdict, str]:
    """The rule (`RULE`), for r read in the KPI's good direction, its p over all lags tried, and the |r|
    chance alone reaches in `ALPHA` of cases with these points."""
    if p < ALPHA:
        if r >= STRONG:
            return "aligned", f"r ≥ {STRONG} the good way, beyond chance (p < {ALPHA})"
        if r >= MODEST:
            return "weak", f"beyond chance, but modest ({MODEST} ≤ r < {STRONG})"
        if r < 0:
            return "not aligned", "beyond chance, it moves the wrong way for the mission"
        return "not aligned", f"r < {MODEST}: too small to manage by, though beyond chance"
    if r >= STRONG:
        return "not enough data", (f"r ≥ {STRONG} the good way looks strong, but with these {points} paired "
                                   f"changes chance alone reaches r = {chance_r:.2f} in {ALPHA:.0%} of cases: they "
                                   "cannot tell it from chance")
    if chance_r >= CLEAR:
        return "not enough data", (f"with {points} paired changes chance alone reaches r = {chance_r:.2f} in "
                                   f"{ALPHA:.0%} of cases, so even a clear relation could not be told from chance")
    return "not aligned", (f"no stronger than chance (p ≥ {ALPHA}), though these points would have shown a clear "
                           f"relation: chance alone reaches only r = {chance_r:.2f} in {ALPHA:.0%} of cases")


def _movement(lag: int, r: float, period_name: str) -> str:
    way = "rises and falls with" if r >= 0 else "moves opposite to"
    plural = period_name if abs(lag) == 1 else f"{period_name}s"
    if lag > 0:
        return f"{way} the mission metric, leading it by {lag} {plural}"
    if lag < 0:
        return f"{way} the mission metric, following it by {-lag} {plural}"
    return f"{way} the mission metric in the same {period_name}"


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
