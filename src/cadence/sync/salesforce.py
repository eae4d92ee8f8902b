"""Salesforce through its REST API: the same objects, field names and mapping as a Data Loader export.

What each sync reads (`SELECT` lists are the fields the export mapping knows that the org has, from each
object's `describe`):

- incrementally, on `SystemModstamp` (from the last cursor minus five minutes, `>=`): User, Account,
  Opportunity, OpportunityHistory, Task, Event. Through `queryAll`, so deleted records come back with
  `IsDeleted` true: a deleted Account, Opportunity (with its history), Task or Event leaves the warehouse.
  User has no deletion (a user is deactivated), so it is read with `query`;
- whole, every time (they are small): OpportunityStage (the org's stage list: order, won, closed,
  probability), CurrencyType, DatedConversionRate, FiscalYearSettings and Period. An object the org does not
  have (Period without custom fiscal years, the currency objects in a single-currency org) is skipped.

Paging follows `nextRecordsUrl` until `done`. With `bulk: true` each object is read by a Bulk API 2.0 query
job instead (created, polled until `JobComplete`, results fetched as CSV pages following `Sforce-Locator`).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pandas as pd

from cadence.config.sources import SalesforceSource
from cadence.ingest import salesforce as mapping
from cadence.ingest import salesforce_rates as rates
from cadence.ingest.batch import CanonicalFrame, ImportBatch, ImportOptions
from cadence.progress import Progress
from cadence.sync.http import ApiClient, SyncError
from cadence.sync.records import Fetched, Removal, SyncBatch, flatten, frame_of, source_path
from cadence.sync.salesforce_auth import salesforce_tokens

__all__ = ["INCREMENTAL", "OVERLAP", "WHOLE", "SalesforceConnector", "known_fields", "soql_time"]

OVERLAP = timedelta(minutes=5)
INCREMENTAL = ("User", "Account", "Opportunity", "OpportunityHistory", "Task", "Event")
WHOLE = ("OpportunityStage", "CurrencyType", "DatedConversionRate", "FiscalYearSettings", "Period")
DELETABLE = {"Account": ("accounts", "account_id"), "Opportunity": ("opportunities", "opportunity_id"),
             "Task": ("activities", "activity_id"), "Event": ("activities", "activity_id")}
# the fields salesforce_calendar reads, and OpportunityStage's (the stage list), besides the mapping's aliases
CALENDAR_FIELDS = ("Id", "Name", "StartDate", "EndDate", "YearType", "IsStandardYear", "FiscalYearSettingsId",
                   "Number", "Type", "PeriodLabel", "QuarterLabel", "NextStartDate", "IsActive")
STAGE_FIELDS = ("ApiName", "MasterLabel", "SortOrder", "IsClosed", "IsWon", "DefaultProbability",
                "ForecastCategoryName", "IsActive")
BOOKKEEPING = ("Id", "SystemModstamp", "IsDeleted")
BULK_PAGE = 50_000


def _aliases() -> set[str]:
    names: set[str] = set()
    for module in (mapping, rates):
        for value in vars(module).values():
            items = value.values() if isinstance(value, dict) else [value]
            for item in items:
                if isinstance(item, tuple) and all(isinstance(v, str) for v in item):
                    names.update(v for v in item if v.replace(".", "").replace("_", "").isalnum())
    return names


def known_fields() -> set[str]:
    """Every API field name the export mapping reads (Data Loader headers are API field names)."""
    return _aliases() | set(CALENDAR_FIELDS) | set(STAGE_FIELDS) | set(BOOKKEEPING)


def soql_time(moment: datetime) -> str:
    """A SOQL datetime literal (UTC): 2026-03-01T02:00:00Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Salesforce's '2026-03-01T02:00:00.000+0000' as a naive UTC datetime."""
    stamp = pd.Timestamp(text)
    stamp = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
    return stamp.to_pydatetime()


class SalesforceConnector:
    """Reads an org (see the module's docstring); `to_batch` hands the records to the export mapping."""

    source = "salesforce"

    def __init__(self, config: SalesforceSource, *, client: ApiClient | None = None,
                 sleep: Callable[[float], None] = time.sleep, transport: httpx.BaseTransport | None = None,
                 poll_seconds: float = 2.0, poll_limit: int = 900):
        self.config = config
        self.client = client or ApiClient("Salesforce", salesforce_tokens(config, transport=transport),
                                          timeout=config.timeout_seconds, sleep=sleep, transport=transport)
        self.sleep, self.poll_seconds, self.poll_limit = sleep, poll_seconds, poll_limit
        self.known = known_fields()
        self.skipped: list[str] = []  # objects the org does not have, or the user may not read

    def close(self) -> None:
        self.client.close()

    # -- reading -----------------------------------------------------------------------------------
    def fetch(self, cursors: dict[str, str], full: bool, progress: Progress) -> list[Fetched]:
        wanted: list[str] = [*(self.config.objects or [])] or [*INCREMENTAL, *WHOLE]
        found = []
        for name in [n for n in (*INCREMENTAL, *WHOLE) if n in wanted]:
            described = self._describe(name)
            if described is None:
                continue
            found.append(self._read(name, described, None if full else cursors.get(name), progress))
        return found

    def _describe(self, name: str) -> dict[str, Any] | None:
        """The object's fields by name (relationship names as `Rel.`), or None when the org has no such object."""
        try:
            body = self.client.get_json(f"{self.config.base}/sobjects/{name}/describe")
        except SyncError as error:
            # an object the org lacks; an optional one (the currency or fiscal objects) the user may not read
            if error.status == 404 or (error.status == 403 and name in WHOLE):
                self.skipped.append(name)
                return None
            raise
        fields: dict[str, Any] = {}
        for item in body.get("fields", []):
            fields[str(item["name"])] = item
            if item.get("relationshipName"):
                fields[f"{item['relationshipName']}."] = item
        return fields

    def _select(self, name: str, described: dict[str, Any]) -> list[str]:
        chosen = []
        for field_name in sorted(self.known):
            parent = field_name.split(".", 1)[0] + "." if "." in field_name else None
            if field_name in described or (parent and parent in described):
                chosen.append(field_name)
        return sorted(set(chosen) | ({"Id"} & set(described)), key=lambda f: (f != "Id", f))

    def _read(self, name: str, described: dict[str, Any], cursor: str | None, progress: Progress) -> Fetched:
        fields = self._select(name, described)
        incremental = name in INCREMENTAL and "SystemModstamp" in described
        deletable = name in DELETABLE and "IsDeleted" in described
        soql = f"SELECT {', '.join(fields)} FROM {name}"
        if incremental and cursor:
            soql += f" WHERE SystemModstamp >= {soql_time(parse_time(cursor) - OVERLAP)}"
        if incremental and not self.config.bulk:  # Bulk API jobs are not ordered: records are de-duplicated anyway
            soql += " ORDER BY SystemModstamp"
        unknown = {f for f, item in described.items() if not f.endswith(".") and item.get("custom")
                   and f not in self.known}
        progress.start(f"reading {name} from Salesforce", None)
        by_id: dict[str, dict[str, str]] = {}
        try:
            pages = self._bulk(soql, deletable) if self.config.bulk else self._rest(soql, deletable)
            for page in pages:
                for record in page:
                    flat = flatten(record) if isinstance(record, dict) else record
                    unknown |= {k for k in flat if k not in self.known and "." not in k
                                and f"{k}." not in described}  # a parent that is null: `UserRole`, no `.Name`
                    key = flat.get("Id") or str(len(by_id))
                    kept = by_id.get(key)  # the same record twice (overlapping pages): the newest wins
                    if kept is None or kept.get("SystemModstamp", "") <= flat.get("SystemModstamp", ""):
                        by_id[key] = flat
                progress.advance(len(page))
        finally:
            progress.finish()
        records = list(by_id.values())
        stamps = [r["SystemModstamp"] for r in records if r.get("SystemModstamp")]
        newest = max(stamps, key=parse_time) if stamps else cursor
        deleted = [r for r in records if r.get("IsDeleted", "").lower() == "true"]
        live = [r for r in records if r.get("IsDeleted", "").lower() != "true"]
        return Fetched(name, live, [r["Id"] for r in deleted if r.get("Id")], newest if incremental else None,
                       unknown, columns=fields)

    def _rest(self, soql: str, deletable: bool) -> Iterator[list[dict[str, Any]]]:
        """Pages of the REST query (`queryAll` when deleted records are wanted), following `nextRecordsUrl`."""
        body = self.client.get_json(f"{self.config.base}/{'queryAll' if deletable else 'query'}", {"q": soql})
        while True:
            yield list(body.get("records", []))
            following = body.get("nextRecordsUrl")
            if body.get("done", True) or not following:
                return
            body = self.client.get_json(self.config.instance_url.rstrip("/") + str(following))

    def _bulk(self, soql: str, deletable: bool) -> Iterator[list[dict[str, str]]]:
        """Pages of a Bulk API 2.0 query job's CSV results (`Sforce-Locator` until 'null')."""
        job = self.client.post_json(f"{self.config.base}/jobs/query",
                                    {"operation": "queryAll" if deletable else "query", "query": soql})
        url = f"{self.config.base}/jobs/query/{job['id']}"
        for _ in range(self.poll_limit):
            state = self.client.get_json(url).get("state")
            if state == "JobComplete":
                break
            if state in ("Failed", "Aborted"):
                raise SyncError(f"Salesforce's Bulk API query job {job['id']} ended {state}",
                                hint="run the sync again, or set bulk: false")
            self.sleep(self.poll_seconds)
        else:
            raise SyncError(f"Salesforce's Bulk API query job {job['id']} did not finish in time",
                            hint="run the sync again later")
        locator: str | None = None
        while True:
            params: dict[str, Any] = {"maxRecords": BULK_PAGE}
            if locator:
                params["locator"] = locator
            response = self.client.request("GET", f"{url}/results", params=params, accept="text/csv")
            yield list(csv.DictReader(io.StringIO(response.text)))
            locator = response.headers.get("Sforce-Locator")
            if not locator or locator == "null":
                return

    # -- mapping -----------------------------------------------------------------------------------
    def to_batch(self, fetched: list[Fetched], options: ImportOptions, run_id: str, full: bool) -> SyncBatch:
        """The records through the Data Loader mapping (`ingest.salesforce`), object by object in its order."""
        work = SyncBatch(ImportBatch("salesforce"))
        context = mapping.Context(options)
        readers = {obj.name: obj for obj in mapping.OBJECTS}
        stage_list: pd.DataFrame | None = None
        for item in fetched:
            if item.name == "OpportunityStage":
                stage_list = frame_of(item.records, item.columns)
                continue
            if item.name in DELETABLE and item.deleted:
                table, column = DELETABLE[item.name]
                ids = tuple(mapping.salesforce_id18(i) if len(i) == 15 else i for i in item.deleted)
                work.removals.append(Removal(table, column, ids))
                if item.name == "Opportunity":
                    work.removals.append(Removal("opportunity_history", "opportunity_id", ids, counted=False))
            if full and item.name in DELETABLE:
                table, column = DELETABLE[item.name]
                work.whole.setdefault((table, column), set()).update(
                    mapping.salesforce_id18(r["Id"]) if len(r["Id"]) == 15 else r["Id"] for r in item.records)
            if not item.records:
                continue
            frame = frame_of(item.records, item.columns)
            work.add_object(source_path("salesforce", item.name, run_id), frame,
                            list(readers[item.name].read(frame, context)))
        stages = self._stages(work.batch, stage_list, options)
        if stages is not None:
            work.batch.add(stages)
        return work

    def _stages(self, batch: ImportBatch, stage_list: pd.DataFrame | None,
                options: ImportOptions) -> CanonicalFrame | None:
        """The pipeline 'salesforce': OpportunityStage's list (replacing the pipeline's stages), with the stages
        of the deals and history read; without OpportunityStage, those stages alone, added to the known ones."""
        deals = [f.frame for f in batch.frames if f.table == "opportunities"]
        moves = [f.frame for f in batch.frames if f.table == "opportunity_history"]
        listed = []
        if stage_list is not None and len(stage_list):
            active = stage_list[stage_list.get("IsActive", pd.Series("true", index=stage_list.index))
                                .astype(str).str.lower() != "false"]
            name = mapping.coalesce(active, ("ApiName", "MasterLabel"))
            listed.append(pd.DataFrame({
                "stage": name, "is_won": active.get("IsWon"), "is_closed": active.get("IsClosed"),
                "_stage_order": active.get("SortOrder"), "_probability": active.get("DefaultProbability"),
                "forecast_category": active.get("ForecastCategoryName"), "created_at": None}))
        if not listed and not deals and not moves:
            return None
        if listed:  # the org's own list decides its stages; deals only add stages it no longer lists
            named = set(listed[0]["stage"].dropna())
            deals = [d[~d["stage"].isin(named)] for d in deals]
        stages = mapping.declared_stages([*listed, *deals], moves, options)
        file = source_path("salesforce", "OpportunityStage", "stages")
        return CanonicalFrame("stages", stages, file, primary=False, replace_on="pipeline" if listed else None)
