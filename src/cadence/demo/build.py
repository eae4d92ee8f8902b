"""`build_demo`: generate Northwind Analytics and load it through the same path as every import.

The generators run in dependency order on one seeded numpy Generator (same seed, same company);
the tables then go through `prepare` — validation, quarantine, reconciliation — exactly as a
customer's CSV would, and nothing may be quarantined: a refused row means the generator is wrong.
Beside the warehouse, for tests only: `plan.json` says what was planted and on whom (`plan.py`),
`truths.json` what the loaded warehouse shows, measured after the load (`truths.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cadence.config import DEFAULT_WAREHOUSE
from cadence.demo import accounts as accounts_mod
from cadence.demo.activities import build_activities
from cadence.demo.bunching import push_to_quarter_end
from cadence.demo.calendar import DAYS, QUARTER_STARTS, dates, timestamps
from cadence.demo.calls import build_calls
from cadence.demo.company import COMPANY, config_text
from cadence.demo.generated import Company
from cadence.demo.goals import build_goals
from cadence.demo.hiring import build_candidates, build_performance
from cadence.demo.history import assign_ids, build_history
from cadence.demo.leads import build_leads, demand
from cadence.demo.people import Org, build_org
from cadence.demo.pipeline import assign_owners, new_business
from cadence.demo.plan import PLAN_FILE, plan_of
from cadence.demo.product import Roadmap, build_requests, build_roadmap, unblock_deals
from cadence.demo.revenue import PLANS, build_revenue
from cadence.demo.revisions import categorise, current_categories, revise
from cadence.demo.skills import build_skills
from cadence.demo.tempo import build_gap_reviews, build_shipments, build_targets
from cadence.demo.truths import measure_truths
from cadence.demo.usage import build_nps, build_usage
from cadence.errors import CadenceError
from cadence.ingest.batch import LINE, CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import PreparedImport, prepare
from cadence.progress import Progress, Silent
from cadence.schema.tables import table_named
from cadence.workspace import Workspace, init_workspace, open_workspace

TRUTHS_FILE = "truths.json"
FORMAT = "demo"


def build_demo(directory: str | Path, *, seed: int = 7, progress: Progress | None = None) -> Workspace:
    """Create (or overwrite) the demo workspace in `directory` and return it, open."""
    progress = progress or Silent()
    root = Path(directory).expanduser().resolve()
    company = generate_company(seed, progress)
    progress.start("Loading the demo company into the warehouse", total=3)
    for stale in (root / DEFAULT_WAREHOUSE, root / f"{DEFAULT_WAREHOUSE}.wal"):
        stale.unlink(missing_ok=True)
    init_workspace(root, company=COMPANY, force=True)
    (root / "cadence.yml").write_text(config_text(company.tables), encoding="utf-8")
    ws = open_workspace(root)
    try:
        batch = import_batch(company.tables)
        progress.advance()
        prepared = prepare(batch, ws.stages())
        check_nothing_quarantined(prepared)
        progress.advance()
        ws.load(prepared)
        write_calls(ws, company.extras["forecast_calls"])
        ws.keep_figures_ready()
        progress.advance()
        write_oracles(ws, company)
    except BaseException:
        ws.close()
        raise
    finally:
        progress.finish()
    return ws


def write_calls(ws: Workspace, calls: pd.DataFrame) -> None:
    """The managers' forecast calls, as the forecast page records them (app data, not an import)."""
    table = table_named("forecast_calls")
    frame = calls.reindex(columns=table.column_names)
    with ws.warehouse.transaction():
        ws.warehouse.upsert(table, frame)


def write_oracles(ws: Workspace, company: Company) -> None:
    """`plan.json` (what was planted) and `truths.json` (what the loaded warehouse shows) in the workspace."""
    plan = plan_of(company)
    truths = measure_truths(ws, plan)
    for name, content in ((PLAN_FILE, plan), (TRUTHS_FILE, truths)):
        (ws.root / name).write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def generate_company(seed: int, progress: Progress | None = None) -> Company:
    """Every canonical table of the demo company, from one seeded generator."""
    progress = progress or Silent()
    rng = np.random.default_rng(seed)
    steps: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("people and accounts", lambda s: _people_and_accounts(s, rng)),
        ("leads and deals", lambda s: _leads_and_deals(s, rng)),
        ("customers and revenue", lambda s: _customers(s, rng)),
        ("activities", lambda s: _activities(s, rng)),
        ("usage, tempo and hiring", lambda s: _the_rest(s, rng)),
    ]
    # forecast categories, revisions and calls draw from their own generator: the effects planted before them
    # stay exactly where they were
    state: dict[str, Any] = {"forecast_rng": np.random.default_rng([seed, 15])}
    progress.start("Generating the demo company", total=len(steps))
    try:
        for _, step in steps:
            step(state)
            progress.advance()
    finally:
        progress.finish()
    return state["company"]


def _people_and_accounts(state: dict[str, Any], rng: np.random.Generator) -> None:
    state["org"] = build_org(rng)
    state["skills"] = build_skills(state["org"], rng)
    state["accounts"] = accounts_mod.build_accounts(rng)
    state["market"] = demand(rng)


def _leads_and_deals(state: dict[str, Any], rng: np.random.Generator) -> None:
    org, skills, accounts = state["org"], state["skills"], state["accounts"]
    leads, sourced = build_leads(org, accounts, state["market"], rng)
    deals = new_business(sourced.frame, org, skills, rng)
    roadmap = build_roadmap(rng)
    planted = unblock_deals(deals, roadmap, rng)
    push_to_quarter_end(deals, rng)
    deals["source_row"] = np.arange(len(deals))
    state.update(leads=leads, deals=deals, roadmap=roadmap, planted=planted)


def _customers(state: dict[str, Any], rng: np.random.Generator) -> None:
    org, skills, accounts = state["org"], state["skills"], state["accounts"]

    def assign(segment: np.ndarray, created: np.ndarray) -> np.ndarray:
        return assign_owners(org, skills, segment, created, rng)

    revenue = build_revenue(state["deals"], accounts, org, assign, rng)
    deals = revenue.deals.assign(deal_key=np.arange(len(revenue.deals)))
    deals = assign_ids(deals)
    ids = pd.Series(deals["opportunity_id"].to_numpy(), index=deals["deal_key"].to_numpy())
    revenue.subscriptions["opportunity_id"] = revenue.subscriptions["deal"].map(ids)
    planted = state["planted"].copy()
    born = deals["source_row"].notna().to_numpy()
    by_row = pd.Series(np.nonzero(born)[0], index=deals.loc[born, "source_row"].astype("int64").to_numpy())
    planted["deal"] = planted["deal"].map(by_row)
    state.update(revenue=revenue, deals=deals, planted=planted)


def _activities(state: dict[str, Any], rng: np.random.Generator) -> None:
    customers = state["revenue"].subscriptions["account_id"].unique()
    state["activities"] = build_activities(state["deals"], state["org"], state["skills"], state["accounts"],
                                           customers, rng)


def _the_rest(state: dict[str, Any], rng: np.random.Generator) -> None:
    org, deals, revenue, roadmap = state["org"], state["deals"], state["revenue"], state["roadmap"]
    accounts = state["accounts"]
    accounts, duplicates = accounts_mod.add_duplicates(accounts, rng)
    opportunities, history = build_history(deals, accounts.set_index("account_id")["name"], rng)
    opportunities["product"] = _plans(opportunities["amount"].astype("float64").to_numpy() / 12)
    history["forecast_category"] = categorise(history, state["forecast_rng"])
    history = revise(history, state["forecast_rng"])
    opportunities["forecast_category"] = current_categories(opportunities, history)
    calls = build_calls(org, opportunities, state["forecast_rng"])
    leads = _link_leads(state["leads"], deals)
    subs = revenue.subscriptions
    spells = revenue.spells
    engaged = _engagement(accounts, rng)
    spell_start = np.array([s.start for s in spells])
    spell_pushed = np.array([s.pushed for s in spells])
    usage = build_usage(subs, spell_start, spell_pushed, engaged, rng)
    nps = build_nps(subs, engaged, rng)
    customers = pd.DataFrame({"account_id": [s.account_id for s in spells], "start": spell_start,
                              "end": [s.end for s in spells]})
    csms = org.people.loc[org.people["role"] == "csm", "person_id"].to_numpy()
    requests = build_requests(deals, roadmap, state["planted"], csms, customers, rng)
    opportunities = _missing_feature_losses(opportunities, requests, roadmap)
    sdr_demos = _sdr_demos(deals, accounts, org)
    shipments = build_shipments(org, roadmap, sdr_demos, rng)
    targets = build_targets()
    reviews = build_gap_reviews(org, shipments, targets, rng)
    goals = build_goals(org, _quarterly(opportunities, subs), rng)
    candidates, scores = build_candidates(org, rng)
    performance = build_performance(org, opportunities, leads)
    first_seen, last_owner = _account_references(deals, leads, state["activities"], spells, requests)
    accounts = accounts_mod.settle_accounts(accounts, first_seen, last_owner, org, rng)
    tables = {
        "people": org.people, "accounts": accounts, "products": _products(), "leads": leads,
        "opportunities": opportunities, "opportunity_history": history, "activities": state["activities"],
        "subscriptions": _subscription_rows(subs), "usage": usage, "nps": nps, "goals": goals,
        "tempo_targets": targets, "shipments": shipments, "gap_reviews": reviews,
        "features": roadmap.features, "feature_requests": requests, "candidates": candidates,
        "interview_scores": scores, "performance": performance,
    }
    tables = {name: _canonical(name, frame) for name, frame in tables.items()}
    extras = {"duplicates": duplicates, "deals": deals, "planted": state["planted"], "sdr_demos": sdr_demos,
              "forecast_calls": calls}
    state["company"] = Company(org, state["skills"], roadmap, revenue, tables, extras)


def _link_leads(leads: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    ids = deals.dropna(subset=["lead_id"]).set_index("lead_id")["opportunity_id"]
    leads = leads.copy()
    leads["opportunity_id"] = leads["lead_id"].map(ids).where(leads["status"] == "converted")
    return leads


def _engagement(accounts: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    return pd.Series(rng.beta(6, 3, len(accounts)), index=accounts["account_id"].to_numpy())


def _plans(mrr: np.ndarray) -> np.ndarray:
    bounds = np.array([p for p, _ in PLANS])
    names = np.array([n for _, n in PLANS], dtype=object)
    return names[np.minimum(np.searchsorted(bounds, mrr, side="left"), len(names) - 1)]


def _products() -> pd.DataFrame:
    prices = {"Starter": 40.0, "Team": 35.0, "Business": 32.0, "Enterprise": 30.0}
    return pd.DataFrame({"product_id": [f"PLAN-{n.upper()}" for n in prices], "name": list(prices),
                         "series": "Northwind platform", "list_price": list(prices.values())})


def _missing_feature_losses(opportunities: pd.DataFrame, requests: pd.DataFrame, roadmap: Roadmap) -> pd.DataFrame:
    """Lost deals that had asked for a feature not shipped by then say so in their loss reason."""
    ship = requests["feature_id"].map(roadmap.features.set_index("feature_id")["ship_day"])
    asked = requests.assign(ship=ship).dropna(subset=["opportunity_id"])
    closed = opportunities.set_index("opportunity_id")["closed_at"]
    close_day = (asked["opportunity_id"].map(closed) - timestamps(np.array([0.0]))[0]).dt.total_seconds() / 86_400
    waiting = asked[(asked["ship"].isna() | (asked["ship"] > close_day)) & close_day.notna()]["opportunity_id"]
    lost = opportunities["opportunity_id"].isin(set(waiting)) & opportunities["is_closed"] & ~opportunities["is_won"]
    opportunities = opportunities.copy()
    opportunities.loc[lost, "loss_reason"] = "Missing feature"
    return opportunities


def _sdr_demos(deals: pd.DataFrame, accounts: pd.DataFrame, org: Org) -> pd.DataFrame:
    sdr = deals[deals["sdr_id"].notna()]
    team = org.people.set_index("person_id")["team"]
    names = accounts.set_index("account_id")["name"]
    return pd.DataFrame({"lead_id": sdr["lead_id"].to_numpy(), "sdr_id": sdr["sdr_id"].to_numpy(),
                         "team": sdr["sdr_id"].map(team).to_numpy(), "created": sdr["created"].to_numpy(),
                         "account_name": sdr["account_id"].map(names).to_numpy()})


def _quarterly(opportunities: pd.DataFrame, subs: pd.DataFrame) -> pd.DataFrame:
    """Per fiscal quarter: the money figures executives' goals are set against."""
    base = timestamps(np.array([0.0]))[0]
    won = opportunities[opportunities["is_won"]]
    won_q = np.searchsorted(QUARTER_STARTS, ((won["closed_at"] - base).dt.days).to_numpy(), side="right") - 1
    created_q = np.searchsorted(QUARTER_STARTS, ((opportunities["created_at"] - base).dt.days).to_numpy(),
                                side="right") - 1
    quarters = np.arange(len(QUARTER_STARTS) - 1)
    bookings = np.bincount(won_q, weights=won["amount"].to_numpy(dtype="float64"), minlength=len(quarters) + 1)
    created = np.bincount(np.clip(created_q, 0, None), weights=opportunities["amount"].to_numpy(dtype="float64"),
                          minlength=len(quarters) + 1)
    arr = np.array([_arr_on(subs, float(day)) for day in QUARTER_STARTS])
    return pd.DataFrame({"quarter": quarters, "bookings": bookings[: len(quarters)],
                         "pipeline_created": created[: len(quarters)], "net_new_arr": np.diff(arr),
                         "product_influenced_bookings": bookings[: len(quarters)] * 0.12})


def _arr_on(subs: pd.DataFrame, day: float) -> float:
    active = (subs["start"] <= day) & (subs["end"] > day)
    return float(subs.loc[active, "mrr"].sum() * 12)


def _account_references(deals: pd.DataFrame, leads: pd.DataFrame, activities: pd.DataFrame, spells: list[Any],
                        requests: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """First day anything refers to each account, and the rep owning its latest sales deal."""
    base = timestamps(np.array([0.0]))[0]

    def days(values: pd.Series) -> pd.Series:
        return (values - base).dt.total_seconds() / 86_400

    seen = pd.concat([
        pd.Series(deals["created"].to_numpy(), index=deals["account_id"].to_numpy()),
        pd.Series(days(leads["created_at"]).to_numpy(), index=leads["account_id"].to_numpy()),
        pd.Series(days(activities["occurred_at"]).to_numpy(), index=activities["account_id"].to_numpy()),
        pd.Series([s.start for s in spells], index=[s.account_id for s in spells]),
        pd.Series(requests["requested"].to_numpy(), index=requests["account_id"].to_numpy()),
    ])
    seen = seen[seen.index.notna()]
    first_seen = seen.groupby(level=0).min()
    sales = deals[deals["kind"] != "renewal"].sort_values("created")
    last_owner = sales.groupby("account_id")["owner_id"].last()
    return first_seen, last_owner


def _subscription_rows(subs: pd.DataFrame) -> pd.DataFrame:
    frame = subs.sort_values(["start", "account_id"], kind="stable").reset_index(drop=True)
    return pd.DataFrame({
        "subscription_id": [f"S{i + 1:06d}" for i in range(len(frame))], "account_id": frame["account_id"],
        "plan": frame["plan"], "mrr": frame["mrr"], "currency": "USD", "seats": frame["seats"],
        "started_at": dates(frame["start"].to_numpy()),
        "ended_at": pd.Series(dates(np.nan_to_num(frame["end"].to_numpy(), posinf=0.0))).where(frame["end"] < DAYS),
        "opportunity_id": frame["opportunity_id"],
    })


def _canonical(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in table_named(name).column_names if c in frame.columns and c != "source"]
    return frame[columns].reset_index(drop=True)


def import_batch(tables: dict[str, pd.DataFrame]) -> ImportBatch:
    """The demo's tables as one import, each table one 'file' with its rows on lines 2…n+1."""
    batch = ImportBatch(format=FORMAT)
    for name, frame in tables.items():
        path = f"demo/{name}"
        batch.files.append(SourceFile(path, len(frame)))
        batch.add(CanonicalFrame(name, frame.assign(**{LINE: np.arange(2, len(frame) + 2)}), file=path))
    return batch


def check_nothing_quarantined(prepared: PreparedImport) -> None:
    """The demo must load whole: a quarantined row means a generator is wrong, so stop and say which."""
    if prepared.quarantined or len(prepared.quarantine):
        raise CadenceError(f"the demo generator made rows the schema refuses: {_problems(prepared.quarantine)}",
                           hint="this is a bug in cadence.demo; nothing was loaded")


def _problems(quarantine: pd.DataFrame) -> str:
    if quarantine.empty:
        return "rows quarantined"
    counts = quarantine.groupby(["target_table", "column_name", "reason"]).size().rename("n").reset_index()
    counts = counts.sort_values("n", ascending=False).head(8)
    return "; ".join(f"{t}.{c}: {r} ({n}×)" for t, c, r, n in counts.itertuples(index=False, name=None))
