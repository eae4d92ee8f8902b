"""Deals as the CRM shows them: one row per opportunity now, and one history row per change.

A history row is written each time a deal enters a stage, with the amount and expected close
date the rep entered then: a rough estimate early on, the quoted list amount from Proposal, the
discounted amount on a won close. Everything after the window's last day is cut off, so deals
still in flight are open, at the stage they had reached.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class _Timeline:
    """Each deal's stage entries (deals × 5), their times in whole seconds, and its close (column 5)."""

    entries: np.ndarray
    seconds: np.ndarray
    visible: np.ndarray  # entered by the end of the window
    close: np.ndarray
    closed: np.ndarray
    reached: np.ndarray
    won: np.ndarray

    @property
    def current(self) -> np.ndarray:
        """The last open stage each deal had entered by the end of the window."""
        return np.minimum(self.reached, self.visible.sum(axis=1) - 1)


def build_history(deals: pd.DataFrame, account_names: pd.Series,
                  rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(opportunities, opportunity_history) in canonical columns, from the deals' numbers."""
    line = _timeline(deals)
    n = len(deals)
    list_amount = deals["list_amount"].to_numpy()
    estimate = np.round(list_amount * rng.uniform(0.7, 1.3, n), -1)
    early = np.round(list_amount * rng.uniform(0.8, 1.2, n), -1)
    amounts = np.column_stack([estimate, estimate, early, list_amount, list_amount])
    final = np.where(line.won, np.round(list_amount * (1 - deals["discount"].to_numpy() / 100), 2),
                     amounts[np.arange(n), line.reached])
    noise = rng.normal(-0.1, 0.25, (n, 5))
    expected = np.maximum(line.close[:, None] + (line.close[:, None] - line.entries) * noise, line.entries + 1)
    history = _history_rows(deals["opportunity_id"].to_numpy(), line, amounts, final, expected)
    opportunities = _opportunity_rows(deals, account_names, line, amounts, final, expected)
    return opportunities, history


def _timeline(deals: pd.DataFrame) -> _Timeline:
    n = len(deals)
    reached = deals["reached"].to_numpy()
    fractions = np.column_stack([np.zeros(n), deals[list(FRACTION_COLUMNS)].to_numpy()])
    entries = deals["created"].to_numpy()[:, None] + fractions * deals["span"].to_numpy()[:, None]
    close = close_day(deals)
    stage_index = np.arange(5)[None, :]
    seconds = np.round(np.column_stack([entries, close]) * 86_400).astype("int64")
    for j in range(1, 5):  # never two changes of one deal in the same second
        seconds[:, j] = np.maximum(seconds[:, j], seconds[:, j - 1] + 1)
    last_entry = np.where(stage_index <= reached[:, None], seconds[:, :5], np.iinfo("int64").min).max(axis=1)
    seconds[:, 5] = np.maximum(seconds[:, 5], last_entry + 1)
    visible = (stage_index <= reached[:, None]) & (entries < DAYS)
    return _Timeline(entries, seconds, visible, close, close < DAYS, reached, deals["won"].to_numpy().astype(bool))


def _history_rows(ids: np.ndarray, line: _Timeline, amounts: np.ndarray, final: np.ndarray,
                  expected: np.ndarray) -> pd.DataFrame:
    """One row per stage entered (with the amount and expected close then), and one per close."""
    rows = np.repeat(np.arange(len(ids)), line.visible.sum(axis=1))
    entered = pd.DataFrame({
        "opportunity_id": ids[rows],
        "changed_at": _from_seconds(line.seconds[:, :5][line.visible]),
        "stage": np.broadcast_to(np.array(OPEN_STAGES, dtype=object), line.visible.shape)[line.visible],
        "amount": amounts[line.visible],
        "close_date": dates(expected[line.visible]),
    })
    closed = line.closed
    closing = pd.DataFrame({
        "opportunity_id": ids[closed],
        "changed_at": _from_seconds(line.seconds[closed, 5]),
        "stage": np.where(line.won[closed], WON_STAGE, LOST_STAGE),
        "amount": final[closed],
        "close_date": dates(line.close[closed]),
    })
    history = pd.concat([entered, closing], ignore_index=True).sort_values(["opportunity_id", "changed_at"])
    return history.reset_index(drop=True)


def _opportunity_rows(deals: pd.DataFrame, account_names: pd.Series, line: _Timeline, amounts: np.ndarray,
                      final: np.ndarray, expected: np.ndarray) -> pd.DataFrame:
    """Each deal as it stands at the end of the window."""
    rows, current, closed, won = np.arange(len(deals)), line.current, line.closed, line.won
    return pd.DataFrame({
        "opportunity_id": deals["opportunity_id"].to_numpy(),
        "account_id": deals["account_id"].to_numpy(),
        "owner_id": deals["owner_id"].to_numpy(),
        "name": _names(deals, account_names),
        "kind": deals["kind"].to_numpy(),
        "pipeline": "default",
        "stage": np.where(closed, np.where(won, WON_STAGE, LOST_STAGE), np.array(OPEN_STAGES, dtype=object)[current]),
        "amount": np.where(closed, final, amounts[rows, current]),
        "currency": "USD",
        "created_at": _from_seconds(line.seconds[:, 0]),
        "close_date": dates(np.where(closed, line.close, expected[rows, current])),
        "closed_at": pd.Series(_from_seconds(line.seconds[:, 5])).where(closed),
        "is_closed": closed,
        "is_won": won & closed,
        "discount_pct": pd.Series(deals["discount"].to_numpy()).where(closed & (won | (line.reached >= PROPOSAL))),
        "loss_reason": pd.Series(deals["loss_reason"].to_numpy(), dtype="object").where(closed & ~won),
        "lead_source": deals["channel"].to_numpy(),
    })


def _from_seconds(seconds: np.ndarray) -> np.ndarray:
    return timestamps(seconds / 86_400)


def _names(deals: pd.DataFrame, account_names: pd.Series) -> list[str]:
    names = deals["account_id"].map(account_names).fillna("Unknown account")
    years = fiscal_year(deals["created"].to_numpy())
    return [f"{name} — {KIND_LABELS[kind]}" + (f" {year}" if kind == "renewal" else "")
            for name, kind, year in zip(names, deals["kind"], years, strict=True)]
