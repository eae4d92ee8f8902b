"""The roadmap at scale: 10,000 feature requests on 2,000 features with dependencies, valued and planned.

A synthetic company is written to a fresh workspace (5,000 accounts, 20,000 deals with their stage
history, 2,000 features in four teams — about a third needing one or two earlier features — and
10,000 requests worded in 400 needs, most linked to a feature). Then:

- **valuation**: themes, chances and the value of every request, theme and feature at each month end
  of the quarter, against a spreadsheet's valuation (amount × certainty summed per linked feature);
- **optimiser**: the exact program (SciPy milp / HiGHS) under a quarter's developer hours, against the
  naive plan (value per hour, greedy fill) — seconds, and the expected revenue of both plans with the
  bound, so the value of being exact is measured, not assumed;
- the same with one ship date (the quarter's end), the program's smallest form.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    from bench.run import best_of
except ModuleNotFoundError:  # `python bench/run.py` puts bench/ itself on the path, not the project
    from run import best_of  # type: ignore[import-not-found,no-redef]

N_ACCOUNTS, N_DEALS, N_FEATURES, N_REQUESTS, N_NEEDS = 5_000, 20_000, 2_000, 10_000, 400
AS_OF = date(2026, 1, 1)
STAGES = ["Prospecting", "Discovery", "Demo", "Proposal", "Negotiation"]
VOCABULARY = ("sso okta saml login audit log export report dashboard chart slack teams alert api webhook sync "
         "salesforce hubspot permission role guest mobile offline currency euro import csv bulk schedule email "
         "pdf residency europe gdpr hipaa sandbox workflow approval quota forecast territory billing invoice "
         "calendar search filter tag comment timeline template branding theme widget embed field formula rollup "
         "history undo retention archive backup restore encryption key token scim directory provisioning")
WORDS = VOCABULARY.split()


def company(seed: int = 11) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    accounts = pd.DataFrame({"account_id": [f"A{i:05d}" for i in range(N_ACCOUNTS)],
                             "name": [f"Company {i}" for i in range(N_ACCOUNTS)],
                             "domain": [f"company{i}.com" for i in range(N_ACCOUNTS)],
                             "segment": rng.choice(["enterprise", "mid_market", "no_touch"], N_ACCOUNTS,
                                                   p=[0.2, 0.4, 0.4])})
    created = pd.Series(pd.Timestamp(AS_OF) - pd.to_timedelta(rng.uniform(1, 730, N_DEALS), unit="D"))
    reached = rng.integers(1, 6, N_DEALS)
    outcome = rng.random(N_DEALS)
    open_ = ((created > pd.Timestamp(AS_OF) - pd.Timedelta(days=120)) & (outcome < 0.6)).to_numpy()
    won = ~open_ & (outcome < 0.08 * reached + 0.05)
    cycle = pd.Series(pd.to_timedelta(rng.gamma(2.0, 20.0, N_DEALS) + 5, unit="D"))
    closed = (created + cycle).where(~open_)
    stage = np.where(open_, np.array(STAGES)[reached - 1], np.where(won, "Closed Won", "Closed Lost"))
    expected = pd.Series(pd.Timestamp(AS_OF) + pd.to_timedelta(rng.uniform(-20, 150, N_DEALS), unit="D"))
    close_date = (created + cycle).where(~open_, expected)
    deals = pd.DataFrame({"opportunity_id": [f"O{i:06d}" for i in range(N_DEALS)],
                          "account_id": rng.choice(accounts["account_id"], N_DEALS),
                          "stage": stage, "amount": np.round(rng.lognormal(9.5, 1.0, N_DEALS), 2),
                          "kind": rng.choice(["new", "expansion"], N_DEALS, p=[0.7, 0.3]),
                          "created_at": created, "close_date": close_date.dt.date,
                          "closed_at": closed, "is_closed": ~open_, "is_won": won})
    history = []
    for i in range(N_DEALS):
        steps = STAGES[:reached[i]] + ([] if open_[i] else [stage[i]])
        times = created[i] + cycle[i] * np.linspace(0, 1, len(steps))
        history += [(deals.at[i, "opportunity_id"], t, s) for t, s in zip(times, steps, strict=True)]
    history_frame = pd.DataFrame(history, columns=["opportunity_id", "changed_at", "stage"])
    history_frame = history_frame.drop_duplicates(["opportunity_id", "changed_at"])
    features, need_of = _features(rng)
    requests = _requests(rng, deals, accounts, features, need_of)
    return {"accounts": accounts, "opportunities": deals, "opportunity_history": history_frame,
            "features": features, "feature_requests": requests}


def _features(rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    ids = [f"F{i:04d}" for i in range(N_FEATURES)]
    need_of = rng.integers(0, N_NEEDS, N_FEATURES)
    depends = []
    for i in range(N_FEATURES):
        if i and rng.random() < 0.35:
            parents = rng.choice(i, size=min(i, int(rng.integers(1, 3))), replace=False)
            depends.append(",".join(ids[j] for j in sorted(parents)))
        else:
            depends.append(None)
    features = pd.DataFrame({"feature_id": ids, "title": [f"Feature {i}" for i in range(N_FEATURES)],
                             "team": rng.choice(["Platform", "Integrations", "Mobile", "Growth"], N_FEATURES),
                             "effort_hours": np.round(rng.lognormal(np.log(150), 0.6, N_FEATURES)),
                             "depends_on": depends, "status": rng.choice(["idea", "planned"], N_FEATURES)})
    return features, need_of


def _requests(rng: np.random.Generator, deals: pd.DataFrame, accounts: pd.DataFrame, features: pd.DataFrame,
              need_of: np.ndarray) -> pd.DataFrame:
    phrasing = {n: [" ".join(rng.choice(WORDS, 3, replace=False)) for _ in range(4)] for n in range(N_NEEDS)}
    feature = rng.integers(0, N_FEATURES, N_REQUESTS)
    need = need_of[feature]
    open_deals = deals.loc[~deals["is_closed"], "opportunity_id"].to_numpy()
    lost = deals.loc[deals["is_closed"] & ~deals["is_won"], "opportunity_id"].to_numpy()
    kind = rng.choice(["open", "lost", "customer"], N_REQUESTS, p=[0.5, 0.2, 0.3])
    opportunity = np.where(kind == "open", rng.choice(open_deals, N_REQUESTS),
                           np.where(kind == "lost", rng.choice(lost, N_REQUESTS), None))
    linked = rng.random(N_REQUESTS) < 0.8
    return pd.DataFrame({
        "request_id": [f"R{i:05d}" for i in range(N_REQUESTS)],
        "title": [phrasing[n][int(k)] for n, k in zip(need, rng.integers(0, 4, N_REQUESTS), strict=True)],
        "account_id": np.where(kind == "customer", rng.choice(accounts["account_id"], N_REQUESTS), None),
        "opportunity_id": opportunity,
        "requested_at": pd.Timestamp(AS_OF) - pd.to_timedelta(rng.uniform(1, 300, N_REQUESTS), unit="D"),
        "certainty": np.round(rng.uniform(0.1, 0.95, N_REQUESTS), 2),
        "feature_id": np.where(linked, features["feature_id"].to_numpy()[feature], None),
        "status": "open",
    })


def _workspace(workdir: Path) -> Any:
    import cadence
    from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
    from cadence.ingest.prepare import prepare
    from cadence.workspace import init_workspace

    ws = cadence.open(init_workspace(workdir / "roadmap"))
    batch = ImportBatch("bench", files=[SourceFile("bench", 0)])
    for table, frame in company().items():
        batch.add(CanonicalFrame(table, frame, "bench", primary=False))
    prepared = prepare(batch, ws.stages())
    assert prepared.quarantine.empty, prepared.quarantine.head()
    ws.load(prepared)
    return ws


def _spreadsheet_value(ws: Any) -> pd.DataFrame:
    """What a spreadsheet does: Σ deal amount × certainty per linked feature."""
    requests = ws.table("feature_requests").to_pandas()
    deals = ws.table("opportunities").select("opportunity_id", "amount").to_pandas()
    joined = requests.merge(deals, on="opportunity_id", how="left")
    joined["value"] = joined["amount"].astype(float).fillna(0.0) * joined["certainty"]
    return joined.groupby("feature_id")["value"].sum().reset_index()


def run(workdir: Path) -> list[dict[str, Any]]:
    from cadence.analysis.roadmap.optimiser import Capacity, naive_plan, optimise
    from cadence.analysis.roadmap.plan import candidates_from, elapsed_shares, value_roadmap

    ws = _workspace(workdir)
    start, end = date(2026, 1, 1), date(2026, 4, 1)
    value_seconds, valuation = best_of(1, lambda: value_roadmap(ws, period_start=start, period_end=end, as_of=AS_OF))
    sheet_seconds, _ = best_of(3, lambda: _spreadsheet_value(ws))
    candidates = candidates_from(valuation)
    total_effort = sum(c.effort_hours or 0 for c in candidates)
    capacity = Capacity(round(0.08 * total_effort))
    rows: list[dict[str, Any]] = [{
        "name": f"roadmap valuation: {N_REQUESTS:,} requests, {N_FEATURES:,} features, 3 ship dates",
        "seconds": value_seconds, "reference": "spreadsheet Σ amount × certainty per feature",
        "reference_seconds": sheet_seconds, "ratio": value_seconds / sheet_seconds,
        "themes": len(valuation.catalogue.themes)}]
    for label, dates in (("3 ship dates (month ends)", valuation.ship_dates), ("1 ship date (quarter end)",
                                                                                valuation.ship_dates[-1:])):
        chosen = candidates if len(dates) == 3 else [
            type(c)(c.feature_id, c.effort_hours, c.values[-1:], c.team, c.depends_on, c.reach, c.confidence)
            for c in candidates]
        elapsed = elapsed_shares(start, end, list(dates))
        seconds, solution = best_of(1, lambda chosen=chosen, elapsed=elapsed: optimise(chosen, capacity, elapsed))
        naive_seconds, naive = best_of(3, lambda chosen=chosen, elapsed=elapsed: naive_plan(chosen, capacity,
                                                                                             elapsed))
        optimal = solution.plan.expected_revenue
        rows.append({
            "name": f"roadmap optimiser, {label}: {len(chosen):,} features, {capacity.hours:,.0f} h",
            "seconds": seconds, "reference": "naive plan (value per hour, greedy)",
            "reference_seconds": naive_seconds, "ratio": seconds / naive_seconds,
            "expected_revenue": round(optimal, 2), "naive_expected_revenue": round(naive.expected_revenue, 2),
            "bound": round(solution.bound, 2), "gap": solution.gap, "status": solution.status,
            "uplift_over_naive": (optimal - naive.expected_revenue) / naive.expected_revenue,
            "chosen": len(solution.plan.ship), "naive_chosen": len(naive.ship),
            "dependencies": sum(len(c.depends_on) for c in chosen)})
    ws.close()
    return rows

