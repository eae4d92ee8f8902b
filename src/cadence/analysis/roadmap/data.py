"""What the roadmap analyses read, loaded once: feature requests, roadmap features and the deals they concern.

Requests come from many tools, and not all of them know the CRM's ids, so a request is tied to its
account in this order: the deal it names (its account), else `account_id` when it is an account id,
else `account_id` read as a web domain (`acme.com`, the way Productboard and Canny know companies)
matched to `accounts.domain`; a company no account matches keeps what the request said, so it still
counts as one company asking. A request whose certainty is missing gets the median certainty of the
requests that state one (0.5, even odds, when none does), and says so in `certainty_given`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from cadence.errors import MissingDataError
from cadence.metrics.money import require_rates
from cadence.metrics.relations import TableSource, deals

UNSTATED_CERTAINTY = 0.5  # even odds, only when no request in the workspace states its certainty
CLOSED_REQUEST_STATUSES = ("shipped", "declined")
DEAL_COLUMNS = ("opportunity_id", "account_id", "name", "segment", "kind", "pipeline", "stage", "amount_value",
                "created_at", "close_date", "closed_at", "closed_on", "is_closed", "is_won")


class RoadmapDataError(MissingDataError):
    """The workspace lacks what a roadmap analysis needs; the message names the table."""


@dataclass
class RoadmapData:
    """Requests (with their deal and account resolved), features and every deal, as plain frames."""

    requests: pd.DataFrame  # request_id, title, account_id, opportunity_id, …, certainty, certainty_given
    features: pd.DataFrame  # feature_id, title, theme, team, effort_hours, depends_on (tuple), status, shipped_at
    deals: pd.DataFrame  # DEAL_COLUMNS plus account_name
    default_certainty: float

    def active_requests(self) -> pd.DataFrame:
        """Requests still waiting: not shipped or declined, and not answered by a feature already shipped."""
        shipped = set(self.features.loc[self.features["is_shipped"], "feature_id"])
        status = self.requests["status"].fillna("open")
        return self.requests[~status.isin(CLOSED_REQUEST_STATUSES) & ~self.requests["feature_id"].isin(shipped)]


def load_roadmap_data(tables: TableSource, *, need_requests: bool = True) -> RoadmapData:
    """Read requests, features and deals; a one-line error naming what is missing."""
    requests = plain(tables.table("feature_requests").to_pandas())
    if need_requests and requests.empty:
        raise RoadmapDataError("the roadmap needs feature_requests: the workspace has none",
                               hint="import them (`cadence ingest FILE --from productboard|canny|csv`) "
                                    "or add one with `cadence requests add`")
    features = _features(plain(tables.table("features").to_pandas()))
    deal_frame = _deals(tables)
    accounts = plain(tables.table("accounts").select("account_id", "domain").to_pandas())
    requests, default = _requests(requests, deal_frame, accounts)
    return RoadmapData(requests, features, deal_frame, default)


def _features(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["depends_on"] = [parse_depends_on(v) for v in frame["depends_on"]]
    frame["effort_hours"] = pd.to_numeric(frame["effort_hours"], errors="coerce").astype("float64")
    frame["status"] = frame["status"].astype("object").where(frame["status"].notna(), "idea")
    frame["shipped_at"] = pd.to_datetime(frame["shipped_at"])
    frame["is_shipped"] = (frame["status"] == "shipped") | frame["shipped_at"].notna()
    return frame.reset_index(drop=True)


def parse_depends_on(value: object) -> tuple[str, ...]:
    """features.depends_on is a comma-separated string of feature ids; empty or missing means none."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    return tuple(part.strip() for part in str(value).split(",") if part.strip())


def _deals(tables: TableSource) -> pd.DataFrame:
    relation = deals(tables)
    require_rates(relation, tables)  # deal values in one currency
    frame = plain(relation.select(*DEAL_COLUMNS).to_pandas())
    names = plain(tables.table("accounts").select("account_id", "name").to_pandas())
    frame["account_name"] = frame["account_id"].map(names.set_index("account_id")["name"])
    for column in ("created_at", "closed_at", "closed_on"):
        frame[column] = pd.to_datetime(frame[column])
    frame["close_date"] = pd.to_datetime(frame["close_date"])
    frame["amount_value"] = frame["amount_value"].astype("float64").fillna(0.0)
    frame["is_closed"] = frame["is_closed"].astype(bool)
    frame["is_won"] = frame["is_won"].astype(bool)
    return frame.reset_index(drop=True)


def _requests(frame: pd.DataFrame, deal_frame: pd.DataFrame,
              accounts: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    frame = frame.copy()
    frame["requested_at"] = pd.to_datetime(frame["requested_at"])
    frame["status"] = frame["status"].astype("object").map(lambda s: str(s).strip().lower() if isinstance(s, str)
                                                            and s.strip() else "open")
    deal_account = deal_frame.set_index("opportunity_id")["account_id"]
    from_deal = frame["opportunity_id"].map(deal_account)
    ids = set(accounts["account_id"])
    by_domain = accounts.dropna(subset=["domain"]).assign(domain=lambda a: a["domain"].str.lower().str.strip()) \
        .drop_duplicates("domain").set_index("domain")["account_id"]
    given = frame["account_id"].astype("object")
    as_domain = given.map(lambda v: by_domain.get(str(v).lower().strip()) if isinstance(v, str) and v not in ids
                          else None)
    resolved = given.where(given.isin(ids), as_domain)
    resolved = resolved.where(resolved.notna(), given)  # a company no account matches still counts as one asker
    frame["account_id"] = from_deal.where(from_deal.notna(), resolved)
    certainty = pd.to_numeric(frame["certainty"], errors="coerce").astype("float64")
    stated = certainty.dropna()
    default = float(stated.median()) if len(stated) else UNSTATED_CERTAINTY
    frame["certainty_given"] = certainty.notna()
    frame["certainty"] = certainty.fillna(default)
    return frame.reset_index(drop=True), default


def check_request_links(tables: TableSource, *, account_id: str | None = None, opportunity_id: str | None = None,
                        feature_id: str | None = None) -> None:
    """A request typed in must name an account, deal and feature that exist; an error suggests the closest."""
    from cadence.errors import UnknownNameError

    for value, table, column, kind in ((account_id, "accounts", "account_id", "account"),
                                       (opportunity_id, "opportunities", "opportunity_id", "deal"),
                                       (feature_id, "features", "feature_id", "feature")):
        if value is None:
            continue
        t = tables.table(table)
        if int(t.filter(t[column] == value).count().execute()) == 0:
            near = t.filter(t[column].lower().contains(value.lower()[:3])).select(column).limit(200).to_pandas()
            if near.empty:
                raise RoadmapDataError(f"no {kind} {value!r} in {table}", hint=f"give the {column} of one that exists")
            raise UnknownNameError(kind, value, [str(v) for v in near[column]])


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as Python objects: the analyses filter and group them row-wise, where Arrow strings are slow."""
    text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c]) and not
            pd.api.types.is_object_dtype(frame[c])]
    return frame.astype({c: "object" for c in text}) if text else frame


def day(value: date | pd.Timestamp) -> pd.Timestamp:
    """A date as a midnight timestamp, for comparing with the warehouse's naive UTC times."""
    return pd.Timestamp(value).normalize()
