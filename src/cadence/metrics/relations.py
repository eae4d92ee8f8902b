"""The relations metrics are computed over: canonical tables joined with what they may be cut by.

Each relation is a function of a `TableSource` (anything with `table(name)`, e.g. a Workspace)
returning one Ibis table whose columns are the measures, the time columns and the dimensions.
A dimension is available to a metric exactly when its relation has that column.
"""

from __future__ import annotations

from typing import Any, Protocol

import ibis

from cadence.metrics.dating import dating_of
from cadence.metrics.money import convert


class TableSource(Protocol):
    def table(self, name: str) -> Any: ...


def deals(tables: TableSource) -> Any:
    """Opportunities with their account's segment/industry/region and their owner's team and name."""
    opp = tables.table("opportunities")
    acc = tables.table("accounts").select(
        account_key="account_id", segment="segment", industry="industry", region="region"
    )
    ppl = tables.table("people").select(person_key="person_id", team="team", owner_name="name",
                                        owner_manager_id="manager_id")
    joined = opp.left_join(acc, opp.account_id == acc.account_key).left_join(
        ppl, opp.owner_id == ppl.person_key
    )
    selected = joined.select(
        *[opp[c] for c in opp.columns],
        "segment", "industry", "region", "team", "owner_manager_id",
        owner_name=ibis.coalesce(joined.owner_name, opp.owner_id),  # a bare CRM id when no User export names them
        closed_on=dating_of(tables).closed_on(opp),  # the workspace's rule (see dating.py)
        cycle_days=opp.closed_at.cast("date").delta(opp.created_at.cast("date"), unit="day"),
        rate_on=deal_rate_day(opp),
    )
    return convert(selected, tables)  # amount_value: the amount in the reporting currency (see money.py)


def deal_rate_day(opp: Any) -> Any:
    """The day whose rate converts a deal: its close date once closed; none (the latest rate) while open."""
    closed_day = ibis.coalesce(opp.close_date.cast("date"), opp.closed_at.cast("date"))
    return ibis.cases((opp.is_closed, closed_day), else_=ibis.null("date"))


def leads(tables: TableSource) -> Any:
    lead = tables.table("leads")
    acc = tables.table("accounts").select(account_key="account_id", segment="segment", region="region")
    joined = lead.left_join(acc, lead.account_id == acc.account_key)
    converted_status = lead.status.strip().lower().fill_null("") == "converted"
    return joined.select(*[lead[c] for c in lead.columns], "segment", "region",
                         converted=lead.opportunity_id.notnull() | lead.converted_at.notnull() | converted_status)


def activities(tables: TableSource) -> Any:
    act = tables.table("activities")
    ppl = tables.table("people").select(person_key="person_id", team="team", role="role", rep_name="name")
    joined = act.left_join(ppl, act.person_id == ppl.person_key)
    return joined.select(*[act[c] for c in act.columns], "team", "role",
                         rep_name=ibis.coalesce(joined.rep_name, act.person_id))


def usage(tables: TableSource) -> Any:
    use = tables.table("usage")
    acc = tables.table("accounts").select(account_key="account_id", segment="segment", region="region")
    joined = use.left_join(acc, use.account_id == acc.account_key)
    return joined.select(*[use[c] for c in use.columns], "segment", "region",
                         week_ts=use.week.cast("timestamp"))


def nps(tables: TableSource) -> Any:
    resp = tables.table("nps")
    acc = tables.table("accounts").select(account_key="account_id", segment="segment", region="region")
    joined = resp.left_join(acc, resp.account_id == acc.account_key)
    return joined.select(*[resp[c] for c in resp.columns], "segment", "region")
