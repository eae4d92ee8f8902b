"""Loopback stand-ins for Salesforce's REST/Bulk 2.0 APIs and HubSpot's CRM v3 API, built from their documented
response shapes, over a fake org whose records a test changes between syncs.

Salesforce (REST API Developer Guide, "Execute a SOQL Query"): `GET /services/data/vXX.X/query?q=…` and
`queryAll` answer `{"totalSize", "done", "nextRecordsUrl", "records": [{"attributes": {"type", "url"}, …}]}`;
`nextRecordsUrl` is `/services/data/vXX.X/query/<locator>-<offset>`; errors are `[{"errorCode", "message"}]`
(401 INVALID_SESSION_ID, 403 REQUEST_LIMIT_EXCEEDED). Bulk API 2.0: `POST …/jobs/query` →
`{"id", "state": "UploadComplete"}`, `GET …/jobs/query/ID` → `state` (InProgress, JobComplete), `GET
…/results?maxRecords=N&locator=L` → CSV with header `Sforce-Locator` ('null' on the last page).

HubSpot (CRM v3): list `GET /crm/v3/objects/deals?limit&after&properties&propertiesWithHistory&archived` →
`{"results": [{"id", "properties", "propertiesWithHistory": {p: [{"value", "timestamp", "sourceType"}]},
"createdAt", "updatedAt", "archived"}], "paging": {"next": {"after", "link"}}}`; search `POST …/search` →
`{"total", "results", "paging"}` and an error past 10,000 results; `POST …/batch/read`; owners, pipelines,
properties; v4 association batch reads `{"results": [{"from": {"id"}, "to": [{"toObjectId", …}]}]}`; 429 with
`Retry-After`, 401 `{"status": "error", "category": "EXPIRED_AUTHENTICATION"}`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

VERSION = "60.0"
START = datetime(2026, 1, 5, 9, 0, 0)


def sf_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class Fault:
    """Answer the next request whose path contains `path` with `status`, `body` and `headers` (once)."""

    path: str
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None


class StandIn:
    """A loopback HTTP server whose every request goes to `handle` (a subclass's API)."""

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0)
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._dispatch)
        self.faults: list[Fault] = []
        self.tokens = {"good-token"}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()

    def _dispatch(self, request: Request) -> Response:
        with self.lock:
            self.requests.append((request.method, request.path))
            for fault in self.faults:
                if fault.path in request.path and (fault.method is None or fault.method == request.method):
                    self.faults.remove(fault)
                    return self.json(fault.body, fault.status, fault.headers)
            if not request.path.endswith("/oauth2/token"):
                token = request.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in self.tokens:
                    return self.unauthorised()
            return self.handle(request)

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def unauthorised(self) -> Response:
        raise NotImplementedError

    @staticmethod
    def json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


# -- Salesforce ---------------------------------------------------------------------------------------


SF_FIELDS: dict[str, list[str]] = {
    "User": ["Id", "Name", "FirstName", "LastName", "Email", "Username", "IsActive", "Department", "Title",
             "ManagerId", "Country", "UserRoleId", "CreatedDate", "SystemModstamp"],
    "Account": ["Id", "Name", "Website", "Industry", "BillingCountry", "NumberOfEmployees", "AnnualRevenue",
                "OwnerId", "ParentId", "CreatedDate", "SystemModstamp", "IsDeleted", "CurrencyIsoCode"],
    "Opportunity": ["Id", "Name", "AccountId", "OwnerId", "StageName", "Amount", "CurrencyIsoCode", "CloseDate",
                    "IsClosed", "IsWon", "Type", "LeadSource", "ForecastCategoryName", "Probability", "CreatedDate",
                    "LastModifiedDate", "SystemModstamp", "IsDeleted"],
    "OpportunityHistory": ["Id", "OpportunityId", "StageName", "Amount", "CloseDate", "ForecastCategory",
                           "Probability", "CreatedDate", "SystemModstamp", "IsDeleted"],
    "Task": ["Id", "OwnerId", "WhatId", "AccountId", "Subject", "Status", "Priority", "Type", "TaskSubtype",
             "ActivityDate", "CompletedDateTime", "CreatedDate", "SystemModstamp", "IsDeleted"],
    "Event": ["Id", "OwnerId", "WhatId", "AccountId", "Subject", "Type", "EventSubtype", "StartDateTime",
              "DurationInMinutes", "CreatedDate", "SystemModstamp", "IsDeleted"],
    "OpportunityStage": ["Id", "ApiName", "MasterLabel", "SortOrder", "IsActive", "IsClosed", "IsWon",
                         "DefaultProbability", "ForecastCategoryName", "SystemModstamp"],
    "CurrencyType": ["Id", "IsoCode", "ConversionRate", "IsCorporate", "IsActive", "DecimalPlaces",
                     "SystemModstamp"],
}
CUSTOM = {"Opportunity": ["Churn_Risk__c"]}  # a field the org added that the mapping does not read
RELATIONSHIPS = {"UserRoleId"}  # lookups whose parent's fields a query may read as `UserRole.Name`


class FakeSalesforce(StandIn):
    """An org: records per object, a clock for SystemModstamp, REST query/queryAll paging and Bulk 2.0 jobs."""

    def __init__(self, page_size: int = 3) -> None:
        super().__init__()
        self.page_size = page_size
        self.clock = START
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in SF_FIELDS}
        self.cursors: dict[str, list[dict[str, Any]]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.extra_fields: dict[str, list[str]] = dict(CUSTOM)
        self.refresh_tokens = {"refresh-me"}
        self.jwt_key: Any = None  # the connected app's certificate (public key) for the JWT bearer flow
        self.jwt_users = {"integration@acme.test"}
        self.issued = 0
        self._ids = 0

    # the org ------------------------------------------------------------------------------------
    def tick(self, minutes: int = 1) -> datetime:
        self.clock += timedelta(minutes=minutes)
        return self.clock

    def new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:012d}AAA"  # 18 characters, like the API's

    def put(self, obj: str, **values: Any) -> str:
        """Create or change a record (`Id` given: change it); SystemModstamp is the org's clock."""
        prefix = {"User": "005", "Account": "001", "Opportunity": "006", "OpportunityHistory": "008",
                  "Task": "00T", "Event": "00U", "OpportunityStage": "01J", "CurrencyType": "01L"}[obj]
        record_id = values.pop("Id", None) or self.new_id(prefix)
        record = self.records[obj].setdefault(record_id, {"Id": record_id, "CreatedDate": sf_time(self.clock)})
        if "IsDeleted" in SF_FIELDS[obj]:
            record.setdefault("IsDeleted", False)
        record.update(values)
        record["SystemModstamp"] = sf_time(self.clock)
        if "LastModifiedDate" in SF_FIELDS[obj]:
            record["LastModifiedDate"] = sf_time(self.clock)
        return record_id

    def delete(self, obj: str, record_id: str) -> None:
        """Into the recycle bin: `queryAll` still returns it, with IsDeleted true."""
        self.put(obj, Id=record_id, IsDeleted=True)

    # the API ------------------------------------------------------------------------------------
    def unauthorised(self) -> Response:
        return self.json([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], 401)

    def handle(self, request: Request) -> Response:
        path = request.path
        base = f"/services/data/v{VERSION}"
        if path.endswith("/services/oauth2/token"):
            return self._token(request)
        if match := re.fullmatch(rf"{base}/sobjects/(\w+)/describe", path):
            return self._describe(match.group(1))
        if path in (f"{base}/query", f"{base}/queryAll"):
            rows = self._run_soql(request.args["q"], include_deleted=path.endswith("queryAll"))
            return self.json(self._page(rows, 0, str(len(self.cursors))))
        if match := re.fullmatch(rf"{base}/query/(\w+)-(\d+)", path):
            return self.json(self._page(self.cursors[match.group(1)], int(match.group(2)), match.group(1)))
        if path == f"{base}/jobs/query" and request.method == "POST":
            return self._create_job(request.get_json())
        if match := re.fullmatch(rf"{base}/jobs/query/(\w+)", path):
            job = self.jobs[match.group(1)]
            job["polls"] += 1
            return self.json({"id": job["id"], "state": "InProgress" if job["polls"] < 2 else "JobComplete"})
        if match := re.fullmatch(rf"{base}/jobs/query/(\w+)/results", path):
            return self._results(self.jobs[match.group(1)], request)
        return self.json([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], 404)

    def _token(self, request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        if form.get("grant_type") == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            from joserfc import jwt

            claims = jwt.decode(form["assertion"][0], self.jwt_key).claims
            if claims.get("sub") not in self.jwt_users or claims.get("aud") != self.url:
                return self.json({"error": "invalid_grant", "error_description": "user hasn't approved"}, 400)
        elif form.get("refresh_token", [""])[0] not in self.refresh_tokens:
            return self.json({"error": "invalid_grant", "error_description": "expired access/refresh token"}, 400)
        self.issued += 1
        token = f"fresh-token-{self.issued}"
        self.tokens.add(token)
        return self.json({"access_token": token, "instance_url": self.url, "token_type": "Bearer"})

    def _describe(self, name: str) -> Response:
        if name not in SF_FIELDS:
            return self.json([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], 404)
        fields = [{"name": f, "custom": False, "relationshipName": f[:-2] if f in RELATIONSHIPS else None}
                  for f in SF_FIELDS[name]]
        fields += [{"name": f, "custom": True, "relationshipName": None} for f in self.extra_fields.get(name, [])]
        return self.json({"name": name, "fields": fields})

    def _run_soql(self, soql: str, *, include_deleted: bool) -> list[dict[str, Any]]:
        match = re.fullmatch(r"SELECT (.+) FROM (\w+)(?: WHERE SystemModstamp >= (\S+))?"
                             r"(?: ORDER BY SystemModstamp)?", soql)
        assert match, soql
        fields = [f.strip() for f in match.group(1).split(",")]
        name, since = match.group(2), match.group(3)
        known = set(SF_FIELDS[name]) | set(self.extra_fields.get(name, []))
        known |= {f"{f[:-2]}.Name" for f in SF_FIELDS[name] if f in RELATIONSHIPS}
        bad = [f for f in fields if f not in known]
        assert not bad, f"INVALID_FIELD {bad} on {name}"
        rows = []
        for record in self.records[name].values():
            if record.get("IsDeleted") and not include_deleted:
                continue
            stamp = datetime.strptime(record["SystemModstamp"][:19], "%Y-%m-%dT%H:%M:%S")
            if since and stamp < datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ"):
                continue
            row = {"attributes": {"type": name, "url": f"/services/data/v{VERSION}/sobjects/{name}/{record['Id']}"}}
            for f in fields:
                if "." in f:  # a parent's field: the parent as a nested record, or null when there is none
                    parent, child = f.split(".", 1)
                    value = record.get(f)
                    row[parent] = None if value is None else {"attributes": {"type": parent}, child: value}
                else:
                    row[f] = record.get(f)
            rows.append(row)
        return sorted(rows, key=lambda r: (r.get("SystemModstamp") or "", r["Id"]))

    def _page(self, rows: list[dict[str, Any]], offset: int, locator: str) -> dict[str, Any]:
        self.cursors[locator] = rows
        end = offset + self.page_size
        body: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows), "records": rows[offset:end]}
        if end < len(rows):
            body["nextRecordsUrl"] = f"/services/data/v{VERSION}/query/{locator}-{end}"
        return body

    def _create_job(self, body: dict[str, Any]) -> Response:
        job_id = f"750{len(self.jobs):015d}"
        rows = self._run_soql(body["query"], include_deleted=body["operation"] == "queryAll")
        fields = [f.strip() for f in body["query"].split(" FROM ")[0].removeprefix("SELECT ").split(",")]
        self.jobs[job_id] = {"id": job_id, "rows": rows, "fields": fields, "polls": 0}
        return self.json({"id": job_id, "operation": body["operation"], "state": "UploadComplete"})

    def _results(self, job: dict[str, Any], request: Request) -> Response:
        size = int(request.args.get("maxRecords", self.page_size))
        size = min(size, self.page_size)
        offset = int(request.args.get("locator") or 0)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(job["fields"])
        for row in job["rows"][offset:offset + size]:
            writer.writerow(["true" if v is True else "false" if v is False else "" if v is None else v
                             for v in (_cell(row, f) for f in job["fields"])])
        following = offset + size
        locator = str(following) if following < len(job["rows"]) else "null"
        return Response(out.getvalue(), headers={"Sforce-Locator": locator, "Sforce-NumberOfRecords":
                                                  str(min(size, len(job["rows"]) - offset))},
                        content_type="text/csv")


CHANCE = {"Prospección": 10, "Negociación": 60, "Cerrada ganada": 100}


def _cell(row: dict[str, Any], name: str) -> Any:
    """A CSV cell of a query row: a parent's field (`UserRole.Name`) read from the nested parent."""
    if "." not in name:
        return row.get(name)
    parent, child = name.split(".", 1)
    return (row.get(parent) or {}).get(child)


def latam_org(org: FakeSalesforce) -> dict[str, str]:
    """A small org shaped like a real one: Spanish stage names, USD/EUR/MXN deals, an inactive user, history,
    activities. Returns the ids a test refers to."""
    stages = [("Prospección", 1, False, False, 10, "Pipeline"), ("Negociación", 2, False, False, 60, "Best Case"),
              ("Cerrada ganada", 3, True, True, 100, "Closed"), ("Cerrada perdida", 4, True, False, 0, "Omitted")]
    for label, order, closed, won, chance, category in stages:
        org.put("OpportunityStage", ApiName=label, MasterLabel=label, SortOrder=order, IsActive=True,
                IsClosed=closed, IsWon=won, DefaultProbability=chance, ForecastCategoryName=category)
    for code, rate, corporate in (("USD", 1.0, True), ("EUR", 0.92, False), ("MXN", 17.1, False)):
        org.put("CurrencyType", IsoCode=code, ConversionRate=rate, IsCorporate=corporate, IsActive=True,
                DecimalPlaces=2)
    ids: dict[str, str] = {}
    ids["ana"] = org.put("User", FirstName="Ana", LastName="Pérez", Name="Ana Pérez", Email="ana@acme.test",
                         Username="ana@acme.test", IsActive=True, Department="Ventas", Country="MX",
                         UserRoleId="00E000000000001AAA", **{"UserRole.Name": "VP Ventas"})
    ids["jo"] = org.put("User", FirstName="Jo", LastName="Klein", Name="Jo Klein", Email="jo@acme.test",
                        Username="jo@acme.test", IsActive=False, Department="Vertrieb", Country="DE",
                        ManagerId=ids["ana"])
    ids["acme"] = org.put("Account", Name="Acme México", Website="https://www.acme.mx/", Industry="Retail",
                          BillingCountry="Mexico", NumberOfEmployees=420, AnnualRevenue=12_000_000,
                          OwnerId=ids["ana"], CurrencyIsoCode="MXN")
    ids["berg"] = org.put("Account", Name="Berg GmbH", Website="berg.de", Industry="Manufacturing",
                          BillingCountry="Germany", NumberOfEmployees=80, OwnerId=ids["jo"], CurrencyIsoCode="EUR")
    org.tick()
    deals = [("Acme renovación", ids["acme"], ids["ana"], "Negociación", 250_000.0, "MXN", "2026-04-30",
              False, False, "Renewal"),
             ("Berg Erweiterung", ids["berg"], ids["jo"], "Cerrada ganada", 18_000.0, "EUR", "2026-02-27",
              True, True, "Existing Business"),
             ("Acme piloto", ids["acme"], ids["ana"], "Cerrada perdida", 9_500.0, "USD", "2026-01-15",
              True, False, "New Business"),
             ("Berg Neugeschäft", ids["berg"], ids["jo"], "Prospección", None, "EUR", "2026-06-30",
              False, False, None),
             # owned by a login the User query does not return (a frozen former employee's): a missing owner
             ("Acme soporte", ids["acme"], "005000000000999AAA", "Prospección", 1_200.0, "MXN", "2026-07-31",
              False, False, "Existing Business - Upgrade")]
    for i, (name, account, owner, stage, amount, currency, close, closed, won, kind) in enumerate(deals):
        ids[f"deal{i}"] = org.put("Opportunity", Name=name, AccountId=account, OwnerId=owner, StageName=stage,
                                  Amount=amount, CurrencyIsoCode=currency, CloseDate=close, IsClosed=closed,
                                  IsWon=won, Type=kind, ForecastCategoryName="Pipeline",
                                  Probability=CHANCE.get(stage, 0),
                                  Churn_Risk__c="alto")
        org.put("OpportunityHistory", OpportunityId=ids[f"deal{i}"], StageName="Prospección", Amount=amount,
                CloseDate=close, ForecastCategory="Pipeline", Probability=10,
                CreatedDate=sf_time(org.clock))
        org.tick()
        if stage != "Prospección":
            org.put("OpportunityHistory", OpportunityId=ids[f"deal{i}"], StageName=stage, Amount=amount,
                    CloseDate=close, ForecastCategory="Pipeline", CreatedDate=sf_time(org.clock))
    ids["call"] = org.put("Task", OwnerId=ids["ana"], WhatId=ids["deal0"], AccountId=ids["acme"],
                          Subject="Llamada de seguimiento", Status="Completed", Priority="Normal", TaskSubtype="Call",
                          CompletedDateTime=sf_time(org.clock))
    ids["visit"] = org.put("Event", OwnerId=ids["jo"], WhatId=ids["deal1"], Subject="Vor-Ort-Termin",
                           EventSubtype="Event", StartDateTime=sf_time(org.clock), DurationInMinutes=60)
    org.tick()
    return ids


# -- HubSpot ------------------------------------------------------------------------------------------


HS_PROPERTIES = {
    "deals": ["dealname", "pipeline", "dealstage", "amount", "deal_currency_code", "closedate", "createdate",
              "hubspot_owner_id", "dealtype", "hs_is_closed_won", "hs_is_closed", "hs_lastmodifieddate",
              "hs_object_id", "hs_deal_stage_probability", "closed_lost_reason"],
    "companies": ["name", "domain", "industry", "numberofemployees", "annualrevenue", "country", "createdate",
                  "hubspot_owner_id", "hs_lastmodifieddate", "hs_object_id"],
    "contacts": ["email", "firstname", "lastname", "createdate", "lifecyclestage", "hs_lead_status",
                 "hs_analytics_source", "hubspot_owner_id", "lastmodifieddate", "hs_object_id",
                 "hs_lifecyclestage_marketingqualifiedlead_date"],
}
MODIFIED = {"deals": "hs_lastmodifieddate", "companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate"}


def hs_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class FakeHubSpot(StandIn):
    """A portal: owners, a pipeline with stage ids, objects with property histories, archived records."""

    def __init__(self, page_size: int = 3, search_cap: int = 10_000) -> None:
        super().__init__()
        self.page_size, self.search_cap = page_size, search_cap
        self.clock = START
        self.owners: list[dict[str, Any]] = []
        self.pipelines: list[dict[str, Any]] = []
        self.objects: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in HS_PROPERTIES}
        self.associations: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.custom: dict[str, list[str]] = {"deals": ["churn_risk_score"]}
        self._ids = 1000

    def tick(self, minutes: int = 1) -> datetime:
        self.clock += timedelta(minutes=minutes)
        return self.clock

    def put(self, obj: str, record_id: str | None = None, **props: Any) -> str:
        """Create or change a record at the portal's clock; every property's change joins its history."""
        if record_id is None:
            self._ids += 1
            record_id = str(self._ids)
        stamp = hs_time(self.clock)
        record = self.objects[obj].setdefault(record_id, {
            "id": record_id, "properties": {"createdate": stamp, "hs_object_id": record_id}, "history": {},
            "createdAt": stamp, "archived": False})
        for name, value in props.items():
            text = None if value is None else str(value)
            record["properties"][name] = text
            record["history"].setdefault(name, []).insert(0, {"value": text or "", "timestamp": stamp,
                                                              "sourceType": "CRM_UI"})
        record["properties"][MODIFIED[obj]] = stamp
        record["updatedAt"] = stamp
        record["archived"] = False
        return record_id

    def archive(self, obj: str, record_id: str) -> None:
        record = self.objects[obj][record_id]
        record["archived"] = True
        record["archivedAt"] = hs_time(self.clock)

    def associate(self, obj: str, record_id: str, other: str, ids: list[str]) -> None:
        self.associations.setdefault((obj, other), {})[record_id] = ids

    # the API ------------------------------------------------------------------------------------
    def unauthorised(self) -> Response:
        return self.json({"status": "error", "message": "The OAuth token used to make this call expired 2 day(s) "
                          "ago.", "category": "EXPIRED_AUTHENTICATION"}, 401)

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/crm/v3/owners":
            return self.json(self._paged(self.owners, request.args))
        if path == "/crm/v3/pipelines/deals":
            return self.json({"results": self.pipelines})
        if match := re.fullmatch(r"/crm/v3/properties/(\w+)", path):
            name = match.group(1)
            listed = [{"name": p, "hubspotDefined": True} for p in HS_PROPERTIES[name]]
            listed += [{"name": p, "hubspotDefined": False} for p in self.custom.get(name, [])]
            return self.json({"results": listed})
        if match := re.fullmatch(r"/crm/v3/objects/(\w+)", path):
            return self._list(match.group(1), request.args)
        if match := re.fullmatch(r"/crm/v3/objects/(\w+)/search", path):
            return self._search(match.group(1), request.get_json())
        if match := re.fullmatch(r"/crm/v3/objects/(\w+)/batch/read", path):
            body = request.get_json()
            found = [self._shape(self.objects[match.group(1)][i["id"]], body["properties"],
                                 body.get("propertiesWithHistory") or [])
                     for i in body["inputs"] if i["id"] in self.objects[match.group(1)]]
            return self.json({"status": "COMPLETE", "results": found})
        if match := re.fullmatch(r"/crm/v4/associations/(\w+)/(\w+)/batch/read", path):
            links = self.associations.get((match.group(1), match.group(2)), {})
            results = [{"from": {"id": i["id"]}, "to": [{"toObjectId": int(t), "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": None}]} for t in links[i["id"]]]}
                for i in request.get_json()["inputs"] if i["id"] in links]
            return self.json({"status": "COMPLETE", "results": results})
        return self.json({"status": "error", "message": "not found", "category": "OBJECT_NOT_FOUND"}, 404)

    def _paged(self, items: list[dict[str, Any]], args: Any, size: int | None = None) -> dict[str, Any]:
        offset = int(args.get("after") or 0)
        size = min(int(args.get("limit", 100)), size or self.page_size)
        body: dict[str, Any] = {"results": items[offset:offset + size]}
        if offset + size < len(items):
            body["paging"] = {"next": {"after": str(offset + size), "link": "…"}}
        return body

    def _shape(self, record: dict[str, Any], properties: list[str], history: list[str]) -> dict[str, Any]:
        shaped = {"id": record["id"], "properties": {p: record["properties"].get(p) for p in properties
                                                    if p in record["properties"]},
                  "createdAt": record["createdAt"], "updatedAt": record["updatedAt"], "archived": record["archived"]}
        shaped["properties"]["hs_object_id"] = record["id"]
        shaped["properties"].setdefault(MODIFIED[self._kind(record)], record["properties"].get(
            MODIFIED[self._kind(record)]))
        if record.get("archivedAt"):
            shaped["archivedAt"] = record["archivedAt"]
        if history:
            shaped["propertiesWithHistory"] = {p: record["history"].get(p, []) for p in history}
        return shaped

    def _kind(self, record: dict[str, Any]) -> str:
        return next(name for name, items in self.objects.items() if record["id"] in items)

    def _list(self, name: str, args: Any) -> Response:
        archived = args.get("archived") == "true"
        items = [r for r in self.objects[name].values() if r["archived"] == archived]
        history = [p for p in (args.get("propertiesWithHistory") or "").split(",") if p]
        properties = [p for p in (args.get("properties") or "").split(",") if p]
        page = self._paged(sorted(items, key=lambda r: int(r["id"])), args, 50 if history else None)
        page["results"] = [self._shape(r, properties, history) for r in page["results"]]
        return self.json(page)

    def _search(self, name: str, body: dict[str, Any]) -> Response:
        filters = body["filterGroups"][0]["filters"]
        low = next(int(f["value"]) for f in filters if f["operator"] == "GTE")
        high = next(int(f["value"]) for f in filters if f["operator"] == "LT")

        def ms(text: str) -> int:
            return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp() * 1000)

        hits = sorted((r for r in self.objects[name].values() if not r["archived"]
                       and low <= ms(r["properties"][MODIFIED[name]]) < high),
                      key=lambda r: (r["properties"][MODIFIED[name]], int(r["id"])))
        offset = int(body.get("after") or 0)
        if offset >= self.search_cap:
            return self.json({"status": "error", "category": "VALIDATION_ERROR",
                              "message": f"Paging beyond {self.search_cap} results is not supported"}, 400)
        size = min(int(body.get("limit", 10)), self.page_size)
        page = [self._shape(r, body.get("properties", []), []) for r in hits[offset:offset + size]]
        out: dict[str, Any] = {"total": len(hits), "results": page}
        if offset + size < len(hits):
            out["paging"] = {"next": {"after": str(offset + size)}}
        return self.json(out)


def hubspot_portal(portal: FakeHubSpot) -> dict[str, str]:
    """A portal shaped like a real one: Spanish stage labels on stage ids, EUR/USD deals, a deal with no owner,
    companies and contacts with associations. Returns the ids a test refers to."""
    portal.owners = [
        {"id": "501", "email": "lucia@acme.test", "firstName": "Lucía", "lastName": "Gómez", "userId": 9001,
         "teams": [{"id": "7", "name": "Ventas LATAM", "primary": True}], "archived": False},
        {"id": "502", "email": "max@acme.test", "firstName": "Max", "lastName": "Weber", "userId": 9002,
         "teams": [], "archived": False}]
    stages = [("appointmentscheduled", "Cita agendada", 0, "false", "0.2"),
              ("qualifiedtobuy", "Calificado", 1, "false", "0.4"),
              ("closedwon", "Cerrado ganado", 2, "true", "1.0"),
              ("closedlost", "Cerrado perdido", 3, "true", "0.0")]
    portal.pipelines = [{"id": "default", "label": "Ventas", "displayOrder": 0, "archived": False, "stages": [
        {"id": sid, "label": label, "displayOrder": order, "archived": False,
         "metadata": {"isClosed": closed, "probability": chance}} for sid, label, order, closed, chance in stages]}]
    ids: dict[str, str] = {}
    ids["acme"] = portal.put("companies", name="Acme SA de CV", domain="acme.mx", industry="RETAIL",
                             numberofemployees="420", country="Mexico", hubspot_owner_id="501")
    ids["berg"] = portal.put("companies", name="Berg GmbH", domain="berg.de", country="Germany")
    portal.tick()
    ids["d1"] = portal.put("deals", dealname="Acme anual", pipeline="default", dealstage="appointmentscheduled",
                           amount="120000", deal_currency_code="USD", closedate="2026-05-31T00:00:00.000Z",
                           hubspot_owner_id="501", dealtype="newbusiness", hs_is_closed_won="false",
                           hs_is_closed="false")
    portal.tick(3)
    portal.put("deals", ids["d1"], dealstage="qualifiedtobuy", amount="135000")
    ids["d2"] = portal.put("deals", dealname="Berg Lizenz", pipeline="default", dealstage="closedwon",
                           amount="18000", deal_currency_code="EUR", closedate="2026-02-27T00:00:00.000Z",
                           hubspot_owner_id=None, dealtype="existingbusiness", hs_is_closed_won="true",
                           hs_is_closed="true")
    portal.associate("deals", ids["d1"], "companies", [ids["acme"]])
    portal.associate("deals", ids["d2"], "companies", [ids["berg"]])
    ids["c1"] = portal.put("contacts", email="rosa@acme.mx", firstname="Rosa", lastname="Díaz",
                           lifecyclestage="salesqualifiedlead", hs_analytics_source="ORGANIC_SEARCH",
                           hubspot_owner_id="501",
                           hs_lifecyclestage_marketingqualifiedlead_date="2026-01-05T09:05:00.000Z")
    portal.associate("contacts", ids["c1"], "companies", [ids["acme"]])
    portal.associate("contacts", ids["c1"], "deals", [ids["d1"]])
    portal.tick()
    return ids


@contextmanager
def serving(stand_in: StandIn) -> Iterator[StandIn]:
    stand_in.start()
    try:
        yield stand_in
    finally:
        stand_in.stop()


def no_sleep() -> tuple[list[float], Callable[[float], None]]:
    """A `sleep` that records the waits instead of waiting."""
    waits: list[float] = []
    return waits, waits.append
