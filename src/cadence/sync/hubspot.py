"""HubSpot through its CRM v3 API: the same mapping as HubSpot's exports, on the properties' internal names.

What each sync reads:

- whole, every time: owners (`/crm/v3/owners`: people) and the deal pipelines with their stages
  (`/crm/v3/pipelines/deals`: the stage list, its order, and won/lost from each stage's `isClosed` and
  `probability`); deals' pipeline and stage ids become those labels, as in an export;
- companies (accounts), contacts (leads) and deals (opportunities): a full sync pages through
  `/crm/v3/objects/{object}` with `after`; an incremental one searches (`/crm/v3/objects/{object}/search`) on
  the last-modified date from the last cursor minus five minutes (`GTE`), in time windows: search returns at
  most 10,000 results per query, so a window that holds more is split in two until each holds fewer. Deals
  found by search are read again in batches (`/batch/read`) for their history;
- deal stage history from `propertiesWithHistory=dealstage,amount,closedate` (a deal's whole history each
  time it is read, replacing what the warehouse had for it);
- associations (deal → company, contact → company and deal) through `/crm/v4/associations/…/batch/read`;
- archived records (`archived=true`): an archived company, contact or deal (with its history) leaves the
  warehouse.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pandas as pd

from cadence.config.sources import HubSpotSource
from cadence.ingest import hubspot as mapping
from cadence.ingest.batch import CanonicalFrame, ImportBatch, ImportOptions
from cadence.ingest.stage_inference import StageFacts, declare_stages
from cadence.progress import Progress
from cadence.sync.http import ApiClient, EnvToken, SyncError
from cadence.sync.records import Fetched, Removal, SyncBatch, flatten, frame_of, source_path

__all__ = ["OBJECTS", "OVERLAP", "SEARCH_CAP", "HubSpotConnector"]

OVERLAP = timedelta(minutes=5)
SEARCH_CAP = 10_000  # the most results one search query pages through
PAGE, SEARCH_PAGE, HISTORY_PAGE = 100, 200, 50


class CrmObject:
    """One CRM object: its API name, the table it fills, its last-modified property and its associations."""

    def __init__(self, name: str, table: str, key: str, modified: str, associations: tuple[str, ...],
                 read: Callable[..., list[tuple[str, pd.DataFrame, str | None]]]):
        self.name, self.table, self.key, self.modified = name, table, key, modified
        self.associations, self.read = associations, read


OBJECTS = (
    CrmObject("companies", "accounts", "account_id", "hs_lastmodifieddate", (), mapping.read_companies),
    CrmObject("contacts", "leads", "lead_id", "lastmodifieddate", ("companies", "deals"), mapping.read_contacts),
    CrmObject("deals", "opportunities", "opportunity_id", "hs_lastmodifieddate", ("companies",), mapping.read_deals),
)


def _aliases() -> set[str]:
    """Every internal property name the export mapping knows (lower-case names without spaces)."""
    names: set[str] = set()
    for value in vars(mapping).values():
        items = value.values() if isinstance(value, dict) else [value]
        for item in items:
            if isinstance(item, tuple) and all(isinstance(v, str) for v in item):
                names.update(v for v in item if v == v.lower() and v.replace("_", "").isalnum())
    return names | {"hs_object_id", "hs_lastmodifieddate", "lastmodifieddate", "createdate", "pipeline"}


def _ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000) if moment.tzinfo is None \
        else int(moment.timestamp() * 1000)


def _stamp(text: str) -> datetime:
    stamp = pd.Timestamp(text)
    return (stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp).to_pydatetime()


def _relabel(labels: dict[str, str]) -> Callable[[str], str]:
    return lambda value: labels.get(value, value)


def _number(value: object) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


class HubSpotConnector:
    """Reads a HubSpot account (see the module's docstring); `to_batch` hands it to the export mapping."""

    source = "hubspot"

    def __init__(self, config: HubSpotSource, *, client: ApiClient | None = None,
                 sleep: Callable[[float], None] = time.sleep, transport: httpx.BaseTransport | None = None,
                 now: Callable[[], datetime] | None = None, search_cap: int = SEARCH_CAP):
        self.config = config
        self.client = client or ApiClient("HubSpot", EnvToken(config.token_env, "HubSpot"),
                                          timeout=config.timeout_seconds, sleep=sleep, transport=transport)
        self.base = config.api_base.rstrip("/")
        self.now = now or (lambda: datetime.now(UTC).replace(tzinfo=None))
        self.search_cap = search_cap
        self.known = _aliases()
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.histories: dict[str, dict[str, list[dict[str, str]]]] = {}
        self.skipped: list[str] = []

    def close(self) -> None:
        self.client.close()

    # -- reading -----------------------------------------------------------------------------------
    def fetch(self, cursors: dict[str, str], full: bool, progress: Progress) -> list[Fetched]:
        wanted: list[str] = [*(self.config.objects or [])] or ["owners", "pipelines", *(o.name for o in OBJECTS)]
        until = self.now()
        found = []
        if "owners" in wanted:
            found.append(Fetched("owners", [flatten(o) for o in self._list(f"{self.base}/crm/v3/owners", {})]))
        if "pipelines" in wanted or "deals" in wanted:
            pipelines = self.client.get_json(f"{self.base}/crm/v3/pipelines/deals").get("results", [])
            self.pipelines = {str(p["id"]): p for p in pipelines}
        for obj in OBJECTS:
            if obj.name in wanted:
                found.append(self._read(obj, None if full else cursors.get(obj.name), until, progress))
        return found

    def _list(self, url: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every result of a list endpoint, following `paging.next.after`."""
        after: str | None = None
        while True:
            body = self.client.get_json(url, {**params, "limit": params.get("limit", PAGE),
                                              **({"after": after} if after else {})})
            yield from body.get("results", [])
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def _properties(self, obj: CrmObject) -> tuple[list[str], set[str]]:
        """The properties to ask for (the mapping's that the account has) and the custom ones it does not read."""
        try:
            listed = self.client.get_json(f"{self.base}/crm/v3/properties/{obj.name}").get("results", [])
        except SyncError as error:
            if error.status != 403:  # without the schemas scope: ask for every property the mapping knows
                raise
            listed = []
        have = {str(p["name"]): p for p in listed}
        wanted = sorted(n for n in self.known if n in have) if have else sorted(self.known)
        unknown = {n for n, p in have.items() if p.get("hubspotDefined") is False and n not in self.known}
        return wanted, unknown

    def _read(self, obj: CrmObject, cursor: str | None, until: datetime, progress: Progress) -> Fetched:
        properties, unknown = self._properties(obj)
        progress.start(f"reading {obj.name} from HubSpot", None)
        try:
            if cursor is None:
                results = self._read_all(obj, properties, progress)
            else:
                since = _stamp(cursor) - OVERLAP
                ids = list(dict.fromkeys(r["id"] for r in self._search(obj, properties, _ms(since),
                                                                       _ms(until) + 1, progress)))
                results = self._batch_read(obj, properties, ids)
            archived = [r for r in self._list(f"{self.base}/crm/v3/objects/{obj.name}", {"archived": "true"})
                        if cursor is None or not r.get("archivedAt")
                        or _stamp(r["archivedAt"]) >= _stamp(cursor) - OVERLAP]
        finally:
            progress.finish()
        associated = self._associations(obj, [str(r["id"]) for r in results])
        records: dict[str, dict[str, str]] = {}
        for result in results:
            props = {k: v for k, v in (result.get("properties") or {}).items()}
            unknown |= {k for k in props if k not in self.known}
            flat = flatten({k: v for k, v in props.items() if k in self.known})
            flat["hs_object_id"] = str(result["id"])
            for other, ids in associated.get(str(result["id"]), {}).items():
                flat[f"associations.{other}"] = ";".join(ids)
            if obj.name == "deals":
                self._labels(flat)
                self.histories[str(result["id"])] = result.get("propertiesWithHistory") or {}
            records[str(result["id"])] = flat
        stamps = [r[obj.modified] for r in records.values() if r.get(obj.modified)]
        newest = max(stamps, key=_stamp) if stamps else cursor
        return Fetched(obj.name, list(records.values()), [str(r["id"]) for r in archived],
                       _stamp(newest).isoformat() if newest else None, unknown,
                       columns=[*properties, "hs_object_id"])

    def _history_params(self, obj: CrmObject) -> dict[str, Any]:
        if obj.name != "deals":
            return {}
        return {"propertiesWithHistory": ",".join(mapping.HISTORY_PROPERTIES), "limit": HISTORY_PAGE}

    def _read_all(self, obj: CrmObject, properties: list[str], progress: Progress) -> list[dict[str, Any]]:
        found = []
        for result in self._list(f"{self.base}/crm/v3/objects/{obj.name}",
                                 {"properties": ",".join(properties), "archived": "false",
                                  **self._history_params(obj)}):
            found.append(result)
            progress.advance()
        return found

    def _search(self, obj: CrmObject, properties: list[str], start: int, end: int,
                progress: Progress) -> Iterator[dict[str, Any]]:
        """Records modified in [start, end) (epoch milliseconds), a window split in two while it holds more
        than search returns."""
        def body(after: str | None) -> dict[str, Any]:
            filters = [{"propertyName": obj.modified, "operator": "GTE", "value": str(start)},
                       {"propertyName": obj.modified, "operator": "LT", "value": str(end)}]
            return {"filterGroups": [{"filters": filters}], "properties": properties, "limit": SEARCH_PAGE,
                    "sorts": [{"propertyName": obj.modified, "direction": "ASCENDING"}],
                    **({"after": after} if after else {})}

        url = f"{self.base}/crm/v3/objects/{obj.name}/search"
        page = self.client.post_json(url, body(None))
        if int(page.get("total", 0)) > self.search_cap:
            if end - start <= 1:
                raise SyncError(f"HubSpot holds more than {self.search_cap:,} {obj.name} modified in the same "
                                "millisecond; search cannot page through them", hint="run cadence sync --full")
            middle = (start + end) // 2
            yield from self._search(obj, properties, start, middle, progress)
            yield from self._search(obj, properties, middle, end, progress)
            return
        while True:
            results = page.get("results", [])
            progress.advance(len(results))
            yield from results
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            page = self.client.post_json(url, body(str(after)))

    def _batch_read(self, obj: CrmObject, properties: list[str], ids: list[str]) -> list[dict[str, Any]]:
        """The records `ids` with their properties (and, for deals, their history), in batches."""
        found = []
        size = HISTORY_PAGE if obj.name == "deals" else PAGE
        for start in range(0, len(ids), size):
            request: dict[str, Any] = {"properties": properties, "inputs": [{"id": i} for i in ids[start:start + size]]}
            if obj.name == "deals":
                request["propertiesWithHistory"] = list(mapping.HISTORY_PROPERTIES)
            found += self.client.post_json(f"{self.base}/crm/v3/objects/{obj.name}/batch/read",
                                           request).get("results", [])
        return found

    def _associations(self, obj: CrmObject, ids: list[str]) -> dict[str, dict[str, list[str]]]:
        """record id -> associated object -> ids, from the v4 associations batch read."""
        found: dict[str, dict[str, list[str]]] = {}
        for other in obj.associations:
            for start in range(0, len(ids), PAGE):
                body = self.client.post_json(f"{self.base}/crm/v4/associations/{obj.name}/{other}/batch/read",
                                             {"inputs": [{"id": i} for i in ids[start:start + PAGE]]})
                for item in body.get("results", []):
                    targets = [str(t["toObjectId"]) for t in item.get("to", [])]
                    found.setdefault(str(item["from"]["id"]), {})[other] = targets
        return found

    def _labels(self, flat: dict[str, str]) -> None:
        """A deal's pipeline and stage ids as their labels (what an export shows, and the stage list's names)."""
        pipeline = self.pipelines.get(flat.get("pipeline", ""))
        if pipeline is None:
            return
        stages = {str(s["id"]): str(s["label"]) for s in pipeline.get("stages", [])}
        flat["pipeline"] = str(pipeline["label"])
        if flat.get("dealstage"):
            flat["dealstage"] = stages.get(flat["dealstage"], flat["dealstage"])

    # -- mapping -----------------------------------------------------------------------------------
    def to_batch(self, fetched: list[Fetched], options: ImportOptions, run_id: str, full: bool) -> SyncBatch:
        """Owners, companies, contacts and deals through the export mapping (`ingest.hubspot`)."""
        work = SyncBatch(ImportBatch("hubspot"))
        context = mapping.Context(options)
        by_name = {o.name: o for o in OBJECTS}
        for item in fetched:
            obj = by_name.get(item.name)
            if obj is not None and item.deleted:
                work.removals.append(Removal(obj.table, obj.key, tuple(item.deleted)))
                if obj.name == "deals":
                    work.removals.append(Removal("opportunity_history", "opportunity_id", tuple(item.deleted),
                                                 counted=False))
            if obj is not None and full:
                work.whole.setdefault((obj.table, obj.key), set()).update(r["hs_object_id"] for r in item.records)
            if not item.records:
                continue
            frame = frame_of(item.records, item.columns)
            if "closedate" in frame:
                frame["closedate"] = frame["closedate"].map(lambda v: mapping.local_day(v, options.timezone))
            path = source_path("hubspot", item.name, run_id)
            outputs = list(mapping.read_owners(frame, context) if obj is None else obj.read(frame, context))
            if item.name == "deals":
                outputs.append(("opportunity_history", self._history(frame, options.timezone), "opportunity_id"))
            work.add_object(path, frame, outputs)
        stages = self._stages(options)
        if stages is not None:
            work.batch.add(stages)
        return work

    def _history(self, deals: pd.DataFrame, zone: str) -> pd.DataFrame:
        rows: list[dict[str, object]] = []
        for deal, pipeline_label, line in zip(deals["hs_object_id"], deals.get("pipeline", pd.Series(dtype=str)),
                                              deals[mapping.LINE], strict=False):
            pipeline = next((p for p in self.pipelines.values() if p["label"] == pipeline_label), None)
            labels = {str(s["id"]): str(s["label"]) for s in (pipeline or {}).get("stages", [])}
            rows += mapping.history_from_versions(str(deal), int(line), self.histories.get(str(deal), {}),
                                                  _relabel(labels), zone)
        return pd.DataFrame(rows, columns=[*mapping.HISTORY_COLUMNS])

    def _stages(self, options: ImportOptions) -> CanonicalFrame | None:
        """Each pipeline's stages as HubSpot lists them: order, probability; closed with probability 1 is won,
        closed with 0 is lost (replacing the pipeline's stages in the warehouse)."""
        facts: list[StageFacts] = []
        for pipeline in self.pipelines.values():
            for stage in sorted(pipeline.get("stages", []), key=lambda s: s.get("displayOrder", 0)):
                meta = stage.get("metadata") or {}
                closed = str(meta.get("isClosed", "false")).lower() == "true"
                chance = _number(meta.get("probability"))
                facts.append(StageFacts(str(pipeline["label"]), str(stage["label"]), len(facts),
                                        won=closed and chance == 1.0, lost=closed and chance == 0.0,
                                        order=float(stage.get("displayOrder", len(facts))), probability=chance))
        if not facts:
            return None
        stages = declare_stages(facts, None, options.pipelines, keep_listed=True)
        return CanonicalFrame("stages", stages, source_path("hubspot", "pipelines", "stages"), primary=False,
                              replace_on="pipeline")
