"""Salesforce exports: Data Loader files (API field names) and report exports (the labels people see).

`cadence ingest DIR_OR_FILE --from salesforce` reads exports of Account, Opportunity,
OpportunityHistory, OpportunityFieldHistory, User, Task and Event. Which object a file holds is
read from its header, not its name, so Data Loader's `extract.csv` works as well as
`Opportunity.csv`. In a folder, a file whose header is none of these objects is not imported and
is listed in the batch's `skipped` with the reason; the same file passed by name is an error.

The rules a user may need to know:

- Ids keep Salesforce's 18-character form. A 15-character id (report exports show those) is
  extended with its case checksum, so Data Loader and report exports of one org join.
- A record with `IsDeleted` true is quarantined with the reason "deleted in Salesforce".
- Opportunities belong to the pipeline "salesforce", whose stages are the ones the org uses: every
  stage of its Opportunity and OpportunityHistory exports, nothing else. Their order is the file's
  `StageSortOrder`, else the order deals move through them in the history; won/lost from
  `IsWon`/`IsClosed`, probability from `Probability`; a stage only the history shows is inferred
  from its name (`stage_inference`). An import with an Opportunity export replaces the pipeline's
  list, so a stage the org stopped using disappears. cadence.yml's `pipelines: {salesforce: …}`,
  when given, is used instead.
- `Type` becomes kind: "New Customer"/"New Business" → new; an upgrade, upsell or "Existing
  Business" → expansion; anything naming a renewal → renewal; anything else stays empty.
- `CloseDate` is a date: written `2023-03-31` or `2023-03-31 00:00:00`, it is that day, never shifted
  by a time zone. Closed deals are dated by it unless cadence.yml says `deal_dating: closed_at`.
- closed_at is `LastStageChangeDate` (a UTC moment) for a closed deal, else the first moment of its
  `CloseDate` in the company's `timezone`. A deal whose record was created after it closed
  (back-filled or migrated: closed 2018-07-06, created 2018-10-13) keeps its close_date but gets
  no closed_at: how long it took is unknown, so cycle times leave it out while bookings still count
  it by close_date (`cadence check` lists such deals).
- FiscalYearSettings and Period become the company's fiscal calendar (see salesforce_calendar.py).
- When a report export names an account or owner instead of giving its id, the name is replaced
  by the id of the Account or User of that name imported alongside, when exactly one has it.
- OpportunityHistory holds one snapshot per record. When Salesforce logged two snapshots of one
  deal in the same second, the later one (higher Id) is kept and the other is quarantined with the
  reason: the history holds one state per deal and moment.
- OpportunityFieldHistory logs one record per field changed. The changes of StageName, Amount and
  CloseDate are folded into the deal's state from that moment on (values before the first change
  come from its OldValue, or from the Opportunity export imported alongside). Every record becomes
  a history row holding that state; records of the same deal and second are folded into the last
  of them, and the others are quarantined naming the line that holds their change.
- Task and Event become activities: kind from `Type`, then `TaskSubtype`/`EventSubtype` (Call →
  call, Email → email, Event/Meeting → meeting, Demo → demo, Proposal → proposal, else task);
  occurred_at from `CompletedDateTime`/`ActivityDate` (Task) or `StartDateTime` (Event), else
  `CreatedDate`; `WhatId` gives the opportunity when it is one (prefix 006).
- User becomes people: hired_at and left_at stay empty (Salesforce's CreatedDate is when the
  login was made, not a first day; an inactive user has no last day).
- A report export's footer ("Confidential Information…", "Copyright…") is not a record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cadence.errors import InputError, Location
from cadence.ingest import salesforce_calendar as fiscal
from cadence.ingest import salesforce_rates as rates
from cadence.ingest.batch import (
    LINE,
    PROBLEM,
    PROBLEM_COLUMN,
    CanonicalFrame,
    ImportBatch,
    ImportOptions,
    SourceFile,
    problem,
)
from cadence.ingest.readers import files_in, read_table
from cadence.ingest.stage_inference import StageFacts
from cadence.ingest.stage_inference import declare_stages as declare

PIPELINE = "salesforce"
DESCRIPTION = "Salesforce Data Loader or report exports: Account, Opportunity, OpportunityHistory, User, Task, Event"

# Canonical column -> source columns that may hold it: API field names first, then report labels.
Aliases = tuple[str, ...]
OPPORTUNITY: dict[str, Aliases] = {
    "opportunity_id": ("Id", "Opportunity ID", "Opportunity Id"),
    "account_id": ("AccountId", "Account ID", "Account Id", "Account Name", "Account.Name"),
    "owner_id": ("OwnerId", "Owner ID", "Opportunity Owner ID", "Opportunity Owner", "Owner.Name", "Owner Name"),
    "name": ("Name", "Opportunity Name"),
    "stage": ("StageName", "Stage"),
    "amount": ("Amount",),
    "currency": ("CurrencyIsoCode", "Opportunity Currency", "Currency"),
    "created_at": ("CreatedDate", "Created Date"),
    "close_date": ("CloseDate", "Close Date"),
    "is_closed": ("IsClosed", "Closed"),
    "is_won": ("IsWon", "Won"),
    "lead_source": ("LeadSource", "Lead Source"),
    "loss_reason": ("Loss_Reason__c", "Loss Reason", "Closed Lost Reason"),
    "forecast_category": ("ForecastCategoryName", "Forecast Category", "ForecastCategory"),
    "modified_at": ("LastModifiedDate", "SystemModstamp", "Last Modified Date"),
}
KIND = ("Type", "Opportunity Type")
LAST_STAGE_CHANGE = ("LastStageChangeDate", "Last Stage Change Date")
STAGE_ORDER = ("StageSortOrder",)
PROBABILITY = ("Probability", "Probability (%)")
DELETED = ("IsDeleted", "Deleted")
RECORD_ID = ("Id",)

HISTORY: dict[str, Aliases] = {
    "opportunity_id": ("OpportunityId", "Opportunity ID", "Opportunity Id"),
    "changed_at": ("CreatedDate", "Edit Date", "Created Date", "Last Modified Date"),
    "stage": ("StageName", "To Stage", "Stage"),
    "amount": ("Amount",),
    "close_date": ("CloseDate", "Close Date"),
    "forecast_category": ("ForecastCategory", "ForecastCategoryName", "Forecast Category"),
}
FIELD_HISTORY: dict[str, Aliases] = {
    "opportunity_id": HISTORY["opportunity_id"],
    "changed_at": ("CreatedDate", "Edit Date", "Created Date"),
}
FIELD, OLD_VALUE, NEW_VALUE = ("Field", "Field / Event"), ("OldValue", "Old Value"), ("NewValue", "New Value")
TRACKED_FIELDS = {"stagename": "stage", "stage": "stage", "amount": "amount", "closedate": "close_date"}

ACCOUNT: dict[str, Aliases] = {
    "account_id": ("Id", "Account ID", "Account Id"),
    "name": ("Name", "Account Name"),
    "domain": ("Website",),
    "industry": ("Industry",),
    "region": ("BillingCountry", "Billing Country"),
    "employees": ("NumberOfEmployees", "Employees"),
    "annual_revenue": ("AnnualRevenue", "Annual Revenue"),
    "parent_account_id": ("ParentId", "Parent Account ID", "Parent Account"),
    "owner_id": ("OwnerId", "Account Owner ID", "Account Owner"),
    "created_at": ("CreatedDate", "Created Date"),
}
USER: dict[str, Aliases] = {
    "person_id": ("Id", "User ID", "User Id"),
    "email": ("Email",),
    "team": ("Department",),
    "role": ("UserRole.Name", "Role", "Title"),
    "manager_id": ("ManagerId", "Manager ID", "Manager"),
    "region": ("Country",),
}
FULL_NAME, FIRST_NAME, LAST_NAME = ("Name", "Full Name"), ("FirstName", "First Name"), ("LastName", "Last Name")

ACTIVITY: dict[str, Aliases] = {
    "activity_id": ("Id", "Activity ID", "Activity Id"),
    "person_id": ("OwnerId", "Assigned ID", "Assigned", "Assigned To"),
    "account_id": ("AccountId", "Account ID", "Account Id"),
}
RELATED_TO = ("WhatId", "Related To ID", "Opportunity ID")
ACTIVITY_KIND = ("Type", "TaskSubtype", "EventSubtype", "Task Subtype", "Event Subtype", "Activity Type", "Task/Event")
TASK_TIME = ("CompletedDateTime", "ActivityDate", "Completed Date/Time", "Due Date", "Date", "CreatedDate",
             "Created Date")
EVENT_TIME = ("StartDateTime", "ActivityDateTime", "ActivityDate", "Start", "Start Date Time", "Date", "CreatedDate",
              "Created Date")

_ID15 = re.compile(r"^[A-Za-z0-9]{15}$")
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_CURRENCY_PREFIX = re.compile(r"^\s*([A-Z]{3})\s+(.+)$")
_FOOTER = re.compile(r"confidential information|copyright|salesforce\.com|generated by", re.IGNORECASE)
_TRUE_TEXT = {"1", "true", "t", "yes", "y", "1.0"}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def salesforce_id18(value: str) -> str:
    """The 18-character form of a 15-character Salesforce id (its case-insensitive spelling)."""
    suffix = ""
    for start in (0, 5, 10):
        chunk = value[start:start + 5]
        suffix += _CHECKSUM[sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")]
    return value + suffix


# -- reading helpers ---------------------------------------------------------------------------


def first_column(frame: pd.DataFrame, names: Aliases) -> str | None:
    """The first of `names` that is a column of `frame`."""
    return next((n for n in names if n in frame.columns), None)


def text(frame: pd.DataFrame, names: Aliases) -> pd.Series:
    """The first present column of `names` as stripped text, None where empty or absent."""
    column = first_column(frame, names)
    if column is None:
        return pd.Series(None, index=frame.index, dtype="object")
    values = frame[column].astype("object").map(lambda v: v.strip() if isinstance(v, str) else v)
    return values.where(values.notna() & (values != ""), None).astype("object")


def coalesce(frame: pd.DataFrame, names: Aliases) -> pd.Series:
    """Per row, the first non-empty value among the present columns of `names`."""
    out = pd.Series(None, index=frame.index, dtype="object")
    for name in names:
        if name in frame.columns:
            out = out.where(out.notna(), text(frame, (name,)))
    return out


def truthy(values: pd.Series) -> pd.Series:
    return values.map(lambda v: isinstance(v, str) and v.strip().lower() in _TRUE_TEXT).astype(bool)


def moments(values: pd.Series) -> pd.Series:
    """Text to UTC timestamps (NaT where empty or unreadable), the way validation reads them."""
    parsed = pd.to_datetime(values.astype("object"), errors="coerce", utc=True, format="mixed")
    return pd.Series(parsed, index=values.index)


def close_days(values: pd.Series) -> pd.Series:
    """CloseDate as the day written ('2023-03-31 00:00:00' → '2023-03-31'): a date, never shifted by a time zone."""
    return values.map(lambda v: v[:10] if isinstance(v, str) and _ISO_DAY.match(v) else v).astype("object")


def closing_moments(frame: pd.DataFrame, source: pd.DataFrame, zone: str) -> pd.Series:
    """When each deal closed, in UTC: LastStageChangeDate, else the first moment of its close date in the
    company's time zone (not before its creation). NaT when that is before the deal was created."""
    created = moments(frame["created_at"])
    stamped = moments(text(source, LAST_STAGE_CHANGE))
    day = pd.Series(pd.to_datetime(frame["close_date"], errors="coerce", format="mixed"), index=frame.index)
    created_day = created.dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
    first = day.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
    from_day = first.where(~(first < created), created).where(~(day < created_day))
    return stamped.where(~(stamped < created)).where(stamped.notna(), from_day)


def ids(frame: pd.DataFrame, names: Aliases) -> pd.Series:
    """An id column, 15-character Salesforce ids extended to 18; names (report exports) left as they are."""
    values = text(frame, names)
    column = first_column(frame, names)
    if column is None or not (column.endswith("Id") or column.endswith("ID")):
        return values
    return values.map(lambda v: salesforce_id18(v) if isinstance(v, str) and _ID15.match(v) else v)


def split_currency(amounts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Report exports write 'USD 15,000.00': the number, and the ISO code when one leads."""
    matches = amounts.map(lambda v: _CURRENCY_PREFIX.match(v) if isinstance(v, str) else None)
    number = pd.Series([m.group(2) if m else v for m, v in zip(matches, amounts, strict=True)],
                       index=amounts.index, dtype="object")
    code = pd.Series([m.group(1) if m else None for m in matches], index=amounts.index, dtype="object")
    return number, code


def normalise_domain(values: pd.Series) -> pd.Series:
    """'https://www.Acme.com/about' -> 'acme.com'."""
    def one(value: object) -> object:
        if not isinstance(value, str):
            return value
        host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value.strip().lower())
        host = re.split(r"[/?#:]", host, maxsplit=1)[0]
        return host.removeprefix("www.") or None
    return values.map(one).astype("object")


def unique_lookup(keys: pd.Series, values: pd.Series) -> dict[str, str]:
    """key -> value for keys that map to exactly one value."""
    pairs = pd.DataFrame({"k": keys, "v": values}).dropna().drop_duplicates()
    once = pairs[~pairs["k"].duplicated(keep=False)]
    return dict(zip(once["k"], once["v"], strict=True))


def resolve(values: pd.Series, lookup: dict[str, str]) -> pd.Series:
    return values.map(lambda v: lookup.get(v, v) if isinstance(v, str) else v).astype("object")


def mapped(frame: pd.DataFrame, mapping: dict[str, Aliases]) -> pd.DataFrame:
    """Canonical columns from `mapping` (ids extended to 18 characters) plus `_line`."""
    out = pd.DataFrame({name: (ids(frame, names) if name.endswith("_id") else text(frame, names))
                        for name, names in mapping.items()}, index=frame.index)
    out[LINE] = frame[LINE]
    return out


def require(frame: pd.DataFrame, groups: list[Aliases], path: Path, what: str) -> None:
    """One-line error naming the file and the first required column it lacks."""
    for names in groups:
        if first_column(frame, names) is None:
            other = f" (or {', '.join(map(repr, names[1:]))})" if len(names) > 1 else ""
            present = ", ".join(c for c in frame.columns if c != LINE)[:200]
            raise InputError(f"missing required column {names[0]!r}{other} for a {what} export",
                             location=Location(str(path), 1), hint=f"the header has: {present}")


def drop_report_footer(frame: pd.DataFrame) -> pd.DataFrame:
    """Remove a report export's trailing footer (blank lines, confidentiality and copyright notes)."""
    if frame.empty:
        return frame
    cells = frame.drop(columns=[LINE]).astype("object").map(lambda v: str(v).strip() if v is not None else "")
    filled = (cells != "").sum(axis=1)
    first_only = (filled == 0) | ((filled == 1) & (cells.iloc[:, 0] != ""))
    end = len(frame)
    while end > 0 and bool(first_only.iloc[end - 1]):
        end -= 1
    if end == len(frame) or not cells.iloc[end:, 0].map(lambda v: bool(_FOOTER.search(v))).any():
        return frame
    return frame.iloc[:end]


def refuse_rows(frame: pd.DataFrame, reasons: pd.Series, column: str) -> None:
    """Like `problem`, with one reason per row (`reasons` is indexed like `frame`); first reason wins."""
    if reasons.empty:
        return
    problem(frame, pd.Series(False, index=frame.index), column, "")
    free = reasons.index[frame.loc[reasons.index, PROBLEM].isna()]
    frame.loc[free, PROBLEM] = reasons.loc[free]
    frame.loc[free, PROBLEM_COLUMN] = column


def mark_deleted(frame: pd.DataFrame, source: pd.DataFrame) -> None:
    column = first_column(source, DELETED)
    if column is not None:
        frame[column] = source[column]
        problem(frame, truthy(source[column]), column, "deleted in Salesforce")


def keep_latest_per_moment(frame: pd.DataFrame, order: pd.Series) -> pd.DataFrame:
    """Of rows with the same opportunity and changed_at, keep the one latest in `order`; refuse the others.

    The kept row is moved first in its group so the table-key check reports the others, not it.
    """
    when = moments(frame["changed_at"])
    keyed = pd.DataFrame({"opp": frame["opportunity_id"], "when": when, "order": order, "line": frame[LINE]},
                         index=frame.index)
    keyed = keyed[keyed["opp"].notna() & keyed["when"].notna()]
    if keyed.empty:
        return frame
    keyed = keyed.sort_values(["opp", "when", "order"], kind="stable")
    winner_line = keyed.groupby(["opp", "when"])["line"].transform("last")
    losers = keyed.index[keyed["line"] != winner_line]
    refuse_rows(frame, winner_line.loc[losers].map(
        lambda n: f"superseded by line {n}: same opportunity and moment; the history keeps the later change"),
        "changed_at")
    first = pd.Series(0, index=frame.index)
    first.loc[losers] = 1
    return frame.loc[first.sort_values(kind="stable").index]


# -- objects -----------------------------------------------------------------------------------


@dataclass
class Context:
    """What one import learns from some files and uses in others."""

    options: ImportOptions
    account_by_name: dict[str, str] = field(default_factory=dict)
    user_by_name: dict[str, str] = field(default_factory=dict)
    opportunities: dict[str, dict[str, object]] = field(default_factory=dict)
    fiscal_years: list[fiscal.FiscalYear] = field(default_factory=list)  # FiscalYearSettings, for Period


def read_accounts(source: pd.DataFrame, context: Context) -> list[tuple[str, pd.DataFrame]]:
    frame = mapped(source, ACCOUNT)
    frame["domain"] = normalise_domain(frame["domain"])
    amounts, _ = split_currency(frame["annual_revenue"])
    frame["annual_revenue"] = amounts
    frame["owner_id"] = resolve(frame["owner_id"], context.user_by_name)
    mark_deleted(frame, source)
    context.account_by_name.update(unique_lookup(frame["name"], frame["account_id"]))
    return [("accounts", frame)]


def read_users(source: pd.DataFrame, context: Context) -> list[tuple[str, pd.DataFrame]]:
    frame = mapped(source, USER)
    first, last = text(source, FIRST_NAME), text(source, LAST_NAME)
    joined = (first.fillna("") + " " + last.fillna("")).str.strip()
    frame["name"] = text(source, FULL_NAME).where(lambda s: s.notna(), joined.where(joined != "", None))
    mark_deleted(frame, source)
    context.user_by_name.update(unique_lookup(frame["name"], frame["person_id"]))
    frame["manager_id"] = resolve(frame["manager_id"], context.user_by_name)
    return [("people", frame)]


def opportunity_kind(value: object) -> str | None:
    """Salesforce's opportunity Type as new, expansion or renewal (None when it says none of them)."""
    if not isinstance(value, str):
        return None
    kind = value.strip().lower()
    if "renewal" in kind:
        return "renewal"
    if kind.startswith("new") or kind in {"new customer", "new business"}:
        return "new"
    if any(word in kind for word in ("upgrade", "upsell", "up-sell", "cross-sell", "expansion", "add-on")) \
            or kind == "existing business":
        return "expansion"
    return None


def declared_stages(opportunities: list[pd.DataFrame], history: list[pd.DataFrame],
                    options: ImportOptions) -> pd.DataFrame:
    """The stages the org uses (in its Opportunity and history exports) as rows of `stages`.

    Order from `StageSortOrder`, else the order deals move through them; won/lost from `IsWon`/`IsClosed`,
    probability from `Probability`; what the export does not say is inferred (`stage_inference`).
    """
    deals = pd.concat(opportunities, ignore_index=True) if opportunities else pd.DataFrame(columns=["stage"])
    moves = pd.concat(history, ignore_index=True) if history \
        else pd.DataFrame(columns=["opportunity_id", "stage", "changed_at"])
    flagged = {"is_won": deals.get("is_won"), "is_closed": deals.get("is_closed")}
    facts = []
    for appearance, stage in enumerate(dict.fromkeys([*deals["stage"].dropna(), *moves["stage"].dropna()])):
        mine = deals["stage"] == stage
        won, closed = (_all_said(flagged[c], mine) for c in ("is_won", "is_closed"))
        passed = moves["stage"] == stage  # what the history says where no deal sits in the stage now
        order = _mode(pd.to_numeric(_values(deals, "_stage_order", mine), errors="coerce"))
        percent = _mode(pd.to_numeric(_values(deals, "_probability", mine), errors="coerce"))
        category = _mode(_values(deals, "forecast_category", mine))
        if percent is None:
            percent = _mode(pd.to_numeric(_values(moves, "_probability", passed), errors="coerce"))
        if category is None:
            category = _mode(_values(moves, "forecast_category", passed))
        born = moments(_values(deals, "created_at", mine)).dropna()
        facts.append(StageFacts(
            PIPELINE, str(stage), appearance, won, None if closed is None or (closed and won is None) else
            bool(closed and not won),
            order=None if order is None else float(order), forecast=None if category is None else str(category),
            probability=None if percent is None else float(percent) / 100,
            created=float(born.map(pd.Timestamp.timestamp).median()) if len(born) else None))
    return declare(facts, moves.assign(pipeline=PIPELINE), options.pipelines)


def _values(frame: pd.DataFrame, column: str, mine: pd.Series) -> pd.Series:
    return frame.loc[mine, column] if column in frame else pd.Series(dtype="object")


def _mode(values: pd.Series) -> Any:
    present = values.dropna()
    return present.mode().iloc[0] if len(present) else None


def _all_said(flags: pd.Series | None, mine: pd.Series) -> bool | None:
    """True when every deal in the stage has the flag, False when not; None when the export does not say."""
    if flags is None or not mine.any() or flags[mine].isna().all():
        return None
    return bool(truthy(flags[mine].fillna("")).all())


def stages_of(batch: ImportBatch, options: ImportOptions) -> CanonicalFrame | None:
    """The org's stages from every Opportunity and history file read: they replace the pipeline's list
    when an Opportunity export is among them (stages the org no longer uses disappear)."""
    deals = [f for f in batch.frames if f.table == "opportunities"]
    moves = [f for f in batch.frames if f.table == "opportunity_history"]
    if not deals and not moves:
        return None
    stages = declared_stages([f.frame for f in deals], [f.frame for f in moves], options)
    return CanonicalFrame("stages", stages, (deals or moves)[0].file, primary=False,
                          replace_on="pipeline" if deals else None)


def read_opportunities(source: pd.DataFrame, context: Context) -> list[tuple[str, pd.DataFrame]]:
    frame = mapped(source, OPPORTUNITY)
    frame["pipeline"] = PIPELINE
    frame["kind"] = text(source, KIND).map(opportunity_kind).astype("object")
    frame["amount"], prefixed = split_currency(frame["amount"])
    frame["currency"] = frame["currency"].where(frame["currency"].notna(), prefixed).fillna(context.options.currency)
    frame["account_id"] = resolve(frame["account_id"], context.account_by_name)
    frame["owner_id"] = resolve(frame["owner_id"], context.user_by_name)
    frame["_stage_order"], frame["_probability"] = text(source, STAGE_ORDER), text(source, PROBABILITY)
    stages = declared_stages([frame], [], context.options)
    closed_stages = set(stages.loc[stages["is_won"] | stages["is_lost"], "stage"])
    closed = truthy(frame["is_closed"]) if frame["is_closed"].notna().any() else frame["stage"].isin(closed_stages)
    frame["close_date"] = close_days(frame["close_date"])
    frame["closed_at"] = closing_moments(frame, source, context.options.timezone).where(closed)
    mark_deleted(frame, source)
    for opp, stage, amount, close in zip(frame["opportunity_id"], frame["stage"], frame["amount"],
                                         frame["close_date"], strict=True):
        if isinstance(opp, str):
            context.opportunities[opp] = {"stage": stage, "amount": amount, "close_date": close}
    return [("opportunities", frame)]


def record_order(source: pd.DataFrame) -> pd.Series:
    """The order Salesforce created records in: the Id without its checksum, else the line."""
    if "Id" in source.columns:
        return source["Id"].astype(str).str.slice(0, 15)
    return source[LINE].astype(int).map(lambda n: f"{n:012d}")


def read_history(source: pd.DataFrame, context: Context) -> list[tuple[str, pd.DataFrame]]:
    frame = mapped(source, HISTORY)
    frame["_probability"] = text(source, PROBABILITY)  # for the stages no deal sits in now
    frame["amount"], _ = split_currency(frame["amount"])
    frame["close_date"] = close_days(frame["close_date"])
    mark_deleted(frame, source)
    return [("opportunity_history", keep_latest_per_moment(frame, record_order(source)))]


def read_field_history(source: pd.DataFrame, context: Context) -> list[tuple[str, pd.DataFrame]]:
    """Fold one-record-per-field changes into one state per deal and moment (see the module's rules)."""
    frame = mapped(source, FIELD_HISTORY)
    fields = text(source, FIELD).map(lambda v: TRACKED_FIELDS.get(re.sub(r"[^a-z]", "", v.lower()))
                                     if isinstance(v, str) else None)
    work = pd.DataFrame({"opp": frame["opportunity_id"], "when": moments(frame["changed_at"]),
                         "order": record_order(source), "field": fields, "old": text(source, OLD_VALUE),
                         "new": text(source, NEW_VALUE), "usable": ~truthy(text(source, DELETED)),
                         "line": frame[LINE].astype(int)}, index=frame.index)
    work = work[work["opp"].notna() & work["when"].notna()].sort_values(["opp", "when", "order"], kind="stable")
    states: dict[str, dict[object, object]] = {"stage": {}, "amount": {}, "close_date": {}}
    folded: dict[object, int] = {}
    for opp, rows in work.groupby("opp", sort=False):
        state = _initial_state(rows, context.opportunities.get(str(opp), {}))
        for _, moment_rows in rows.groupby("when", sort=True):
            for change in moment_rows[moment_rows["usable"] & moment_rows["field"].notna()].itertuples():
                state[str(change.field)] = change.new
            last_line = int(moment_rows["line"].iloc[-1])
            for index in moment_rows.index:
                for column, values in states.items():
                    values[index] = state.get(column)
            folded.update({index: last_line for index in moment_rows.index[:-1]})
    for column, values in states.items():
        frame[column] = pd.Series(values, index=frame.index, dtype="object")
    frame["amount"], _ = split_currency(frame["amount"])
    mark_deleted(frame, source)
    refuse_rows(frame, pd.Series(folded, dtype="object").map(
        lambda n: f"folded into line {n}: Salesforce logs each field changed; the history keeps one state "
        "per opportunity and moment"), "changed_at")
    timed = frame["opportunity_id"].notna() & moments(frame["changed_at"]).notna()
    problem(frame, frame["stage"].isna() & timed, "stage",
            "stage unknown at this moment: no StageName change is logged for this opportunity; import its "
            "Opportunity export in the same folder")
    later = pd.Series(frame.index.isin(list(folded)), index=frame.index)
    return [("opportunity_history", frame.loc[later.sort_values(kind="stable").index])]


def _initial_state(rows: pd.DataFrame, current: dict[str, object]) -> dict[str, object]:
    """Each tracked field before its first logged change: that change's OldValue, else the value now."""
    state = dict(current)
    changes = rows[rows["usable"] & rows["field"].notna()]
    for change in changes.drop_duplicates("field", keep="first").itertuples():
        state[str(change.field)] = change.old
    return state


def activity_kind(values: list[object], default: str) -> str:
    """call, email, meeting, demo, proposal or `default`, from the first value that says which."""
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        kind = value.strip().lower()
        if "demo" in kind:
            return "demo"
        if "call" in kind:
            return "call"
        if "email" in kind or "e-mail" in kind:
            return "email"
        if kind in {"event", "meeting"} or "meeting" in kind:
            return "meeting"
        if "proposal" in kind:
            return "proposal"
    return default


def read_activities(source: pd.DataFrame, context: Context, *, event: bool) -> list[tuple[str, pd.DataFrame]]:
    frame = mapped(source, ACTIVITY)
    frame["person_id"] = resolve(frame["person_id"], context.user_by_name)
    related = ids(source, RELATED_TO)
    frame["opportunity_id"] = related.where(related.map(lambda v: isinstance(v, str) and v.startswith("006")), None)
    account_too = related.where(related.map(lambda v: isinstance(v, str) and v.startswith("001")), None)
    frame["account_id"] = frame["account_id"].where(frame["account_id"].notna(), account_too)
    hints = [text(source, (column,)) for column in ACTIVITY_KIND]
    default = "meeting" if event else "task"
    frame["kind"] = [activity_kind(list(values), default) for values in zip(*hints, strict=True)] if hints \
        else default
    frame["occurred_at"] = coalesce(source, EVENT_TIME if event else TASK_TIME)
    mark_deleted(frame, source)
    return [("activities", frame)]


@dataclass(frozen=True)
class SalesforceObject:
    name: str
    matches: Callable[[set[str]], bool]
    required: list[Aliases]
    read: Callable[[pd.DataFrame, Context], list[tuple[str, pd.DataFrame]]]


def _is_field_history(c: set[str]) -> bool:
    return {"OpportunityId", "Field", "NewValue"} <= c or {"Field / Event", "New Value"} <= c


def _is_history(c: set[str]) -> bool:
    ui = bool(c & {"Opportunity ID", "Opportunity Name"}) and bool(c & {"Edit Date", "To Stage", "From Stage"})
    return not _is_field_history(c) and ({"OpportunityId", "StageName"} <= c or ui)


def _is_opportunity(c: set[str]) -> bool:
    ui = "Stage" in c and bool(c & {"Opportunity ID", "Opportunity Name"})
    return not _is_history(c) and not _is_field_history(c) and ("StageName" in c or ui)


def _is_event(c: set[str]) -> bool:
    return bool(c & {"StartDateTime", "EventSubtype", "IsAllDayEvent", "DurationInMinutes"})


def _is_task(c: set[str]) -> bool:
    api = "TaskSubtype" in c or {"Subject", "Status", "Priority", "ActivityDate"} <= c
    ui = "Activity ID" in c or ("Subject" in c and bool(c & {"Assigned", "Assigned To"}))
    return not _is_event(c) and (api or ui)


def _is_user(c: set[str]) -> bool:
    return "Username" in c or ("Email" in c and bool(c & {"IsActive", "Active", "UserRoleId", "ProfileId"})
                               and bool(c & {"FirstName", "LastName", "Name", "First Name", "Last Name",
                                              "Full Name"}))


def _is_account(c: set[str]) -> bool:
    api = "Name" in c and bool(c & {"Website", "Industry", "BillingCountry", "NumberOfEmployees", "AnnualRevenue",
                                    "AccountNumber", "ParentId", "BillingCity", "AccountSource"}) \
        and not c & {"Email", "IsConverted", "Company"}  # a Lead or Contact export has those
    ui = "Account Name" in c and bool(c & {"Account ID", "Billing Country", "Industry", "Website", "Employees",
                                           "Annual Revenue", "Account Owner"}) \
        and not c & {"Email", "First Name", "Last Name", "Contact ID"}
    return not (_is_opportunity(c) or _is_history(c) or _is_user(c)) and (api or ui)


def _read_task(source: pd.DataFrame, context: Context) -> list[tuple[str, pd.DataFrame]]:
    return read_activities(source, context, event=False)


def _read_event(source: pd.DataFrame, context: Context) -> list[tuple[str, pd.DataFrame]]:
    return read_activities(source, context, event=True)


# In the order they are read: users and accounts first, so deals and activities can resolve names.
OBJECTS: tuple[SalesforceObject, ...] = (
    SalesforceObject("User", _is_user, [USER["person_id"], FULL_NAME + LAST_NAME], read_users),
    SalesforceObject("Account", _is_account, [ACCOUNT["account_id"], ACCOUNT["name"]], read_accounts),
    SalesforceObject("Opportunity", _is_opportunity,
                     [OPPORTUNITY["opportunity_id"], OPPORTUNITY["stage"], OPPORTUNITY["created_at"]],
                     read_opportunities),
    SalesforceObject("OpportunityHistory", _is_history,
                     [HISTORY["opportunity_id"], HISTORY["changed_at"], HISTORY["stage"]], read_history),
    SalesforceObject("OpportunityFieldHistory", _is_field_history,
                     [FIELD_HISTORY["opportunity_id"], FIELD_HISTORY["changed_at"], FIELD, NEW_VALUE],
                     read_field_history),
    SalesforceObject("Task", _is_task, [ACTIVITY["activity_id"], ACTIVITY["person_id"]], _read_task),
    SalesforceObject("Event", _is_event, [ACTIVITY["activity_id"], ACTIVITY["person_id"]], _read_event),
    SalesforceObject("CurrencyType", rates.is_currency_type, [rates.ISO_CODE, rates.CONVERSION_RATE],
                     rates.read_currency_types),
    SalesforceObject("DatedConversionRate", rates.is_dated_rate,
                     [rates.ISO_CODE, rates.CONVERSION_RATE, rates.START_DATE], rates.read_dated_rates),
    SalesforceObject("FiscalYearSettings", fiscal.is_fiscal_year_settings, [("Name",), ("StartDate",), ("EndDate",)],
                     fiscal.read_fiscal_year_settings),
    SalesforceObject("Period", fiscal.is_period, [("Type",), ("StartDate",), ("EndDate",)], fiscal.read_periods),
)


def detect_object(columns: list[str]) -> SalesforceObject | None:
    """The Salesforce object whose export has this header, if any."""
    present = set(columns)
    return next((obj for obj in OBJECTS if obj.matches(present)), None)


def _not_recognised(columns: list[str]) -> tuple[str, str | None]:
    """Why a header is not imported, and what to do about it."""
    if {"Deal Stage", "Record ID"} <= set(columns) or "Deal Name" in columns:
        return "a HubSpot deals export, not Salesforce", "import it with --from hubspot"
    names = ", ".join(obj.name for obj in OBJECTS)
    return (f"the header is not a Salesforce export of {names}",
            "export the object with Data Loader, or a report that includes its ID column")


class SalesforceImporter:
    """`--from salesforce`: Account, Opportunity, (Field)History, User, Task and Event exports."""

    def __init__(self, name: str = "salesforce") -> None:
        self.name = name
        self.description = DESCRIPTION

    def read(self, path: Path, options: ImportOptions) -> ImportBatch:
        if options.mapping is not None:
            raise InputError("--mapping is not used with --from salesforce: Salesforce's own field names and "
                             "report labels are mapped already", hint="leave out --mapping")
        batch = ImportBatch(self.name)
        found: list[tuple[Path, SalesforceObject, pd.DataFrame]] = []
        for file in files_in(path):
            source = read_table(file, encoding=options.encoding, progress=options.progress)
            obj = detect_object([c for c in source.columns if c != LINE])
            if obj is None:
                reason, hint = _not_recognised(list(source.columns))
                if not path.is_dir():
                    raise InputError(reason, location=Location(str(file), 1), hint=hint)
                batch.skipped.append((str(file), reason))
                continue
            require(source, obj.required, file, f"Salesforce {obj.name}")
            found.append((file, obj, drop_report_footer(source)))
        context = Context(options)
        for file, obj, source in sorted(found, key=lambda item: OBJECTS.index(item[1])):
            batch.files.append(SourceFile.of(str(file), source))
            for i, (table, frame) in enumerate(obj.read(source, context)):
                batch.add(CanonicalFrame(table, frame, str(file), primary=i == 0))
        stages = stages_of(batch, options)
        if stages is not None:
            batch.add(stages)
        return batch
