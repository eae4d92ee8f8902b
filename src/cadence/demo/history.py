"""Deals as the CRM shows them: one row per opportunity now, and one history row per change.

A history row is written each time a deal enters a stage, with the amount and expected close
date the rep entered then: a rough estimate early on, the quoted list amount from Proposal, the
discounted amount on a won close. Everything after the window's last day is cut off, so deals
still in flight are open, at the stage they had reached.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.demo.calendar import DAYS, dates, fiscal_year, timestamps
from cadence.demo.deals import FRACTION_COLUMNS, LOST_STAGE, OPEN_STAGES, PROPOSAL, WON_STAGE, close_day

KIND_LABELS = {"new": "new business", "expansion": "expansion", "renewal": "renewal"}


def assign_ids(deals: pd.DataFrame) -> pd.DataFrame:
    """Opportunity ids in order of creation."""
    deals = deals.sort_values("created", kind="stable").reset_index(drop=True)
    deals["opportunity_id"] = [f"O{i + 1:06d}" for i in range(len(deals))]
    return deals


def build_history(deals: pd.DataFrame, account_names: pd.Series,
                  rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(opportunities, opportunity_history) in canonical columns, from the deals' numbers."""
    n = len(deals)
    created = deals["created"].to_numpy()
    span = deals["span"].to_numpy()
    reached = deals["reached"].to_numpy()
    won = deals["won"].to_numpy().astype(bool)
    close = close_day(deals)
    closed = close < DAYS
    fractions = np.column_stack([np.zeros(n), deals[list(FRACTION_COLUMNS)].to_numpy()])
    entries = created[:, None] + fractions * span[:, None]  # n × 5 open stages
    stage_index = np.arange(5)[None, :]
    seconds = np.round(np.column_stack([entries, close]) * 86_400).astype("int64")
    for j in range(1, 5):  # never two changes of one deal in the same second
        seconds[:, j] = np.maximum(seconds[:, j], seconds[:, j - 1] + 1)
    last_entry = np.where(stage_index <= reached[:, None], seconds[:, :5], np.iinfo("int64").min).max(axis=1)
    seconds[:, 5] = np.maximum(seconds[:, 5], last_entry + 1)
    visible = (stage_index <= reached[:, None]) & (entries < DAYS)

    list_amount = deals["list_amount"].to_numpy()
    estimate = np.round(list_amount * rng.uniform(0.7, 1.3, n), -1)
    early = np.round(list_amount * rng.uniform(0.8, 1.2, n), -1)
    amounts = np.column_stack([estimate, estimate, early, list_amount, list_amount])
    final = np.where(won, np.round(list_amount * (1 - deals["discount"].to_numpy() / 100), 2),
                     amounts[np.arange(n), reached])
    noise = rng.normal(-0.1, 0.25, (n, 5))
    expected = np.maximum(close[:, None] + (close[:, None] - entries) * noise, entries + 1)

    rows = np.repeat(np.arange(n), visible.sum(axis=1))
    history = pd.DataFrame({
        "opportunity_id": deals["opportunity_id"].to_numpy()[rows],
        "changed_at": _from_seconds(seconds[:, :5][visible]),
        "stage": np.broadcast_to(np.array(OPEN_STAGES, dtype=object), (n, 5))[visible],
        "amount": amounts[visible],
        "close_date": dates(expected[visible]),
    })
    closing = pd.DataFrame({
        "opportunity_id": deals["opportunity_id"].to_numpy()[closed],
        "changed_at": _from_seconds(seconds[closed, 5]),
        "stage": np.where(won[closed], WON_STAGE, LOST_STAGE),
        "amount": final[closed],
        "close_date": dates(close[closed]),
    })
    history = pd.concat([history, closing], ignore_index=True).sort_values(["opportunity_id", "changed_at"])
    history = history.reset_index(drop=True)

    current = np.minimum(reached, visible.sum(axis=1) - 1)
    last_expected = expected[np.arange(n), current]
    opportunities = pd.DataFrame({
        "opportunity_id": deals["opportunity_id"].to_numpy(),
        "account_id": deals["account_id"].to_numpy(),
        "owner_id": deals["owner_id"].to_numpy(),
        "name": _names(deals, account_names),
        "kind": deals["kind"].to_numpy(),
        "pipeline": "default",
        "stage": np.where(closed, np.where(won, WON_STAGE, LOST_STAGE), np.array(OPEN_STAGES, dtype=object)[current]),
        "amount": np.where(closed, final, amounts[np.arange(n), current]),
        "currency": "USD",
        "created_at": _from_seconds(seconds[:, 0]),
        "close_date": dates(np.where(closed, close, last_expected)),
        "closed_at": pd.Series(_from_seconds(seconds[:, 5])).where(closed),
        "is_closed": closed,
        "is_won": won & closed,
        "discount_pct": pd.Series(deals["discount"].to_numpy()).where(closed & (won | (reached >= PROPOSAL))),
        "loss_reason": pd.Series(deals["loss_reason"].to_numpy(), dtype="object").where(closed & ~won),
        "lead_source": deals["channel"].to_numpy(),
    })
    return opportunities, history


def _from_seconds(seconds: np.ndarray) -> np.ndarray:
    return timestamps(seconds / 86_400)


def _names(deals: pd.DataFrame, account_names: pd.Series) -> list[str]:
    names = deals["account_id"].map(account_names).fillna("Unknown account")
    years = fiscal_year(deals["created"].to_numpy())
    return [f"{name} — {KIND_LABELS[kind]}" + (f" {year}" if kind == "renewal" else "")
            for name, kind, year in zip(names, deals["kind"], years, strict=True)]
