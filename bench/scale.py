"""Make a workspace N times the size of another by copying its entities N times under new ids.

Every id that names an account, deal, lead, activity, subscription or survey response gets a
`-k` suffix in copy k, consistently across tables, so joins still hold; people, stages and the
company's configuration stay as they are (the same team, ten times the business).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

ENTITY_IDS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id", "parent_account_id"),
    "leads": ("lead_id", "account_id", "opportunity_id"),
    "opportunities": ("opportunity_id", "account_id"),
    "opportunity_history": ("opportunity_id",),
    "activities": ("activity_id", "account_id", "opportunity_id"),
    "subscriptions": ("subscription_id", "account_id", "opportunity_id"),
    "usage": ("account_id",),
    "nps": ("response_id", "account_id"),
}


def scale_workspace(source: Path, target: Path, factor: int) -> Path:
    """Copy the workspace folder `source` to `target` with its business multiplied by `factor`."""
    shutil.copytree(source, target)
    con = duckdb.connect(str(target / "cadence.duckdb"))
    try:
        for table, ids in ENTITY_IDS.items():
            columns = [row[0] for row in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [table]).fetchall()]
            con.execute(f'CREATE TEMP TABLE original AS SELECT * FROM "{table}"')
            for k in range(1, factor):
                select = ", ".join(f"\"{c}\" || '-{k}'" if c in ids else f'"{c}"' for c in columns)
                con.execute(f'INSERT INTO "{table}" SELECT {select} FROM original')
            con.execute("DROP TABLE original")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return target
