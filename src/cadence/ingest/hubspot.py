"""HubSpot CRM exports: deals, companies and contacts.

`cadence ingest DIR_OR_FILE --from hubspot` reads the CSV/Excel files HubSpot's "Export" button
writes (the property labels people see: "Record ID", "Deal Stage", "Create Date", …). Which
object a file holds is read from its header. In a folder, a file whose header is none of these
(the tickets export, say) is not imported and is listed in the batch's `skipped` with the reason;
the same file passed by name is an error.

The rules a user may need to know:

- Deals become opportunities in the pipeline named by their "Pipeline" value (e.g. "Sales
  Pipeline"; "Sales Pipeline" when the export has no such column). Stage names are trimmed
  ("Renewals " → "Renewals"). is_won and is_closed come from "Is Closed Won" and "Is Deal Closed?"
  when the export has them, else from the stage.
- Each pipeline's stages are declared from the export: every stage a deal is in, and every stage
  named in a `Date entered "<stage> (<pipeline>)"` or `Cumulative time in "<stage> (<pipeline>)"`
  column. A stage is won or lost when every deal in it says so ("Is Closed Won", "Is closed lost",
  "Is Deal Closed?"); its probability is the "Deal probability" its deals carry. What the export
  does not say is inferred (`stage_inference`: "Closed: abandoned" and "Perdida" are lost, "Won" and
  "Ganada" won, a stage deals never leave is a dead end; open stages ordered by probability, else
  forecast category, else when deals enter them), listed in the import summary's `inferred` and
  written into cadence.yml's `pipelines:` for the user to correct. A pipeline cadence.yml lists
  keeps that list, and its stages then decide which deals are closed and won.
- "Forecast category" and "Last Modified Date" are kept (`forecast_category`, `modified_at`); with
  `--full` the export is a snapshot of all deals (`snapshots`): deals it no longer holds are marked
  deleted and changes since the previous export become history.
- "Deal Type": New/newbusiness → new; Growth, Upsell, Expansion, "Existing Business" → expansion;
  Renewal → renewal; anything else (e.g. PS) stays empty.
- closed_at is the Close Date of a closed deal. A deal created after its close date (entered
  after the fact) keeps its close_date but gets no closed_at: how long it took is unknown.
- The deal's company: "Associated Company IDs" when the export has them, else the company's name,
  replaced by the Record ID of the company of that name in a companies export imported alongside.
- Stage history (`opportunity_history`, replaced whole per deal on re-import; amounts unknown):
  * from `Date entered "<stage> (<pipeline>)"` columns when present: one row per stage entered,
    at that date;
  * else from `Cumulative time in "<stage> (<pipeline>)" (HH:mm:ss)` columns, which say how long a
    deal spent in each stage it has left, not when. The rule: the deal went once through the
    stages it has time in, in pipeline order, and then into its current stage. It entered its
    current stage at its Close Date when closed (at its Last Modified Date when a closed deal has
    no Close Date), and, when open, at Create Date plus all the time it spent in other stages
    (HubSpot's own clock; Last Modified moves with any edit, so it is no anchor for open deals).
    Each earlier stage was entered its cumulative time before the next one, but never before the
    deal's Create Date (an entry that would be is moved to it: the export's clock shifts an hour
    across daylight-saving changes, and a deal entered after it closed has no time before its
    creation). A time that is not HH:mm:ss leaves the deal's history unreadable: its derived rows
    are quarantined with the reason.
  * two stages entered at the same moment keep the later one: the history says what stage held
    from that moment on.
- Companies become accounts: domain from "Company Domain Name" (else "Website URL"), lower case
  and without scheme or www.
- Contacts become leads: channel from "Original Source" (organic_search, paid_search, …),
  qualified_at is the first of the MQL and SQL dates, converted_at the first of "Became an
  Opportunity" and "Became a Customer"; status from "Lead Status" (Unqualified → disqualified),
  else "Lifecycle Stage" (MQL/SQL → qualified, opportunity/customer → converted, else open).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cadence.errors import InputError, Location
from cadence.ingest.batch import LINE, CanonicalFrame, ImportBatch, ImportOptions, SourceFile

# Column helpers are shared with the Salesforce importer (they know nothing of either format).
from cadence.ingest.readers import files_in, read_table
from cadence.ingest.salesforce import (
    Aliases,
    moments,
    normalise_domain,
    refuse_rows,
    require,
    resolve,
    split_currency,
    text,
    truthy,
    unique_lookup,
)
from cadence.ingest.stage_inference import StageFacts
from cadence.ingest.stage_inference import declare_stages as declare

DESCRIPTION = "HubSpot CRM exports of deals, companies and contacts"
DEFAULT_PIPELINE = "Sales Pipeline"

DEAL: dict[str, Aliases] = {
    "opportunity_id": ("Record ID", "Deal ID", "hs_object_id"),
    "name": ("Deal Name", "dealname"),
    "pipeline": ("Pipeline", "pipeline"),
    "stage": ("Deal Stage", "dealstage"),
    "amount": ("Amount", "amount"),
    "currency": ("Currency", "Deal currency code", "deal_currency_code"),
    "created_at": ("Create Date", "createdate"),
    "close_date": ("Close Date", "closedate"),
    "owner_id": ("Deal owner", "Deal Owner", "hubspot_owner_id"),
    "lead_source": ("Original Traffic Source", "Original Source Type", "Original Source"),
    "loss_reason": ("Closed Lost Reason", "closed_lost_reason"),
    "is_won": ("Is Closed Won", "hs_is_closed_won"),
    "is_closed": ("Is Deal Closed?", "Is Closed", "Is Closed (numeric)", "hs_is_closed"),
}
DEAL_KIND = ("Deal Type", "dealtype")
IS_LOST = ("Is closed lost", "Is Closed Lost", "hs_is_closed_lost")
PROBABILITY = ("Deal probability", "Deal Stage Probability", "hs_deal_stage_probability")
LAST_MODIFIED = ("Last Modified Date", "hs_lastmodifieddate")
FORECAST = ("Forecast category", "Forecast Category", "hs_forecast_category", "hs_manual_forecast_category")
COMPANY_IDS = ("Associated Company IDs (Primary)", "Associated Company IDs", "Associated Company ID",
               "associations.companies", "associatedcompanyid")
COMPANY_NAMES = ("Associated Company (Primary)", "Associated Company")

COMPANY: dict[str, Aliases] = {
    "account_id": ("Record ID", "Company ID", "hs_object_id"),
    "name": ("Company name", "Company Name", "Name", "name"),
    "industry": ("Industry", "industry"),
    "employees": ("Number of Employees", "numberofemployees"),
    "annual_revenue": ("Annual Revenue", "annualrevenue"),
    "region": ("Country/Region", "Country", "country"),
    "owner_id": ("Company owner", "Company Owner", "hubspot_owner_id"),
    "created_at": ("Create Date", "createdate"),
    "parent_account_id": ("Parent Company ID", "Parent Company", "hs_parent_company_id"),
}
DOMAIN = ("Company Domain Name", "Website URL", "Domain", "domain", "website")

CONTACT: dict[str, Aliases] = {
    "lead_id": ("Record ID", "Contact ID", "hs_object_id"),
    "email": ("Email", "email"),
    "created_at": ("Create Date", "createdate"),
    "owner_id": ("Contact owner", "Contact Owner", "hubspot_owner_id"),
    "campaign": ("Original Source Drill-Down 2", "Original Source Drill-Down 1", "hs_analytics_source_data_2",
                 "hs_analytics_source_data_1"),
}
CONTACT_COMPANY_NAMES = ("Associated Company (Primary)", "Associated Company", "Company Name")
DEAL_IDS = ("Associated Deal IDs", "Associated Deal ID", "associations.deals")
CHANNEL = ("Original Source", "Original Traffic Source", "Original Source Type", "hs_analytics_source")
QUALIFIED = ("Became a Marketing Qualified Lead Date", "Became a Sales Qualified Lead Date",
             "hs_lifecyclestage_marketingqualifiedlead_date", "hs_lifecyclestage_salesqualifiedlead_date")
CONVERTED = ("Became an Opportunity Date", "Became a Customer Date", "hs_lifecyclestage_opportunity_date",
             "hs_lifecyclestage_customer_date")
LIFECYCLE, LEAD_STATUS = ("Lifecycle Stage", "lifecyclestage"), ("Lead Status", "hs_lead_status")
CONTACT_MODIFIED = ("Last Modified Date", "lastmodifieddate")

# HubSpot owners (the API's /crm/v3/owners; a users export has the same facts under these labels): people
OWNER: dict[str, Aliases] = {
    "person_id": ("id", "Owner ID", "User ID"),
    "email": ("email", "Email"),
    "team": ("teams", "Primary team", "Teams"),
}
OWNER_FIRST, OWNER_LAST = ("firstName", "First Name"), ("lastName", "Last Name")

CHANNELS = {  # HubSpot's original source, by label and by internal value
    "organic search": "organic_search", "organic_search": "organic_search",
    "paid search": "paid_search", "paid_search": "paid_search",
    "email marketing": "email", "email_marketing": "email",
    "social media": "social", "organic social": "social", "social_media": "social",
    "paid social": "paid_social", "paid_social": "paid_social",
    "referrals": "referral", "referral": "referral",
    "direct traffic": "direct", "direct_traffic": "direct",
    "offline sources": "offline", "offline": "offline",
    "other campaigns": "other_campaigns", "other_campaigns": "other_campaigns",
    "ai referrals": "ai_referral", "ai_referrals": "ai_referral",
}
LIFECYCLE_STATUS = {
    "marketingqualifiedlead": "qualified", "salesqualifiedlead": "qualified",
    "opportunity": "converted", "customer": "converted", "evangelist": "converted",
}

# `Date entered "Appointment Scheduled (Sales Pipeline)"`, `Cumulative time in "… (…)" (HH:mm:ss)`
_STAGE_COLUMN = re.compile(r'^(Date entered|Date exited|Cumulative time in) "(.*) \(([^()]*)\)"(?: \(HH:mm:ss\))?$')
_DURATION = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")


@dataclass(frozen=True)
class StageColumn:
    column: str
    kind: str  # "Date entered", "Date exited" or "Cumulative time in"
    stage: str
    pipeline: str


def stage_columns(columns: list[str]) -> list[StageColumn]:
    """The per-stage columns of a deals export, in header order."""
    found = []
    for column in columns:
        match = _STAGE_COLUMN.match(column)
        if match:
            found.append(StageColumn(column, match.group(1), match.group(2).strip(), match.group(3).strip()))
    return found


def mapped(source: pd.DataFrame, mapping: dict[str, Aliases]) -> pd.DataFrame:
    out = pd.DataFrame({name: text(source, names) for name, names in mapping.items()}, index=source.index)
    out[LINE] = source[LINE]
    return out


def first_of_list(values: pd.Series) -> pd.Series:
    """'123;456' (HubSpot's multi-valued associations) -> '123'."""
    return values.map(lambda v: re.split(r"[;,]", v)[0].strip() or None if isinstance(v, str) else v).astype("object")


def earliest(source: pd.DataFrame, names: Aliases) -> pd.Series:
    """Per row, the earliest moment among the present columns of `names`, as the text read."""
    present = [n for n in names if n in source.columns]
    if not present:
        return pd.Series(None, index=source.index, dtype="object")
    out = pd.Series(None, index=source.index, dtype="object")
    best = pd.Series(pd.NaT, index=source.index, dtype="datetime64[ns, UTC]")
    for name in present:
        value = text(source, (name,))
        when = moments(value)
        better = when.notna() & (best.isna() | (when < best))
        out, best = out.where(~better, value), best.where(~better, when)
    return out


def stage_marker(name: str) -> str | None:
    squashed = re.sub(r"[^a-z]", "", name.lower())
    if "closedwon" in squashed:
        return "won"
    if "closedlost" in squashed:
        return "lost"
    return None


def deal_kind(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    kind = re.sub(r"[^a-z]", "", value.lower())
    if kind in {"new", "newbusiness"}:
        return "new"
    if "renewal" in kind:
        return "renewal"
    if kind in {"growth", "upsell", "expansion", "existingbusiness", "crosssell", "upgrade"}:
        return "expansion"
    return None


# -- deals -------------------------------------------------------------------------------------


@dataclass
class Context:
    options: ImportOptions
    company_by_name: dict[str, str] = field(default_factory=dict)


def declare_stages(deals: pd.DataFrame, source: pd.DataFrame, columns: list[StageColumn],
                   options: ImportOptions) -> pd.DataFrame:
    """Every stage of every pipeline the export shows, ordered (see the module's rules and `stage_inference`)."""
    probability = pd.to_numeric(text(source, PROBABILITY), errors="coerce")
    forecast = text(source, FORECAST)
    created = moments(deals["created_at"]).map(lambda t: t.timestamp() if not pd.isna(t) else None).astype("float64")
    flags = {"won": text(source, DEAL["is_won"]), "lost": text(source, IS_LOST), "closed": deals["is_closed"]}
    seen: dict[tuple[str, str], int] = {}
    for item in columns:
        seen.setdefault((item.pipeline, item.stage), len(seen))
    for pipeline, stage in zip(deals["pipeline"], deals["stage"], strict=True):
        if isinstance(stage, str):
            seen.setdefault((pipeline, stage), len(seen))
    facts = []
    for (pipeline, stage), appearance in seen.items():
        mine = (deals["pipeline"] == pipeline) & (deals["stage"] == stage)
        won, lost = _flags(flags, mine)
        chance, category, born = probability[mine].dropna(), forecast[mine].dropna(), created[mine].dropna()
        facts.append(StageFacts(pipeline, stage, appearance, won, lost,
                                probability=float(chance.mode().iloc[0]) if len(chance) else None,
                                forecast=str(category.mode().iloc[0]) if len(category) else None,
                                created=float(born.median()) if len(born) else None))
    entered = [c for c in columns if c.kind == "Date entered"]
    history = None
    if entered:  # dates are facts of their own: they may order the stages (cumulative times need the order)
        empty = pd.DataFrame(columns=["pipeline", "stage", "position"])
        history = history_from_dates(source, deals, entered, empty)
        history["pipeline"] = history["opportunity_id"].map(dict(zip(deals["opportunity_id"], deals["pipeline"],
                                                                         strict=True)))
    return declare(facts, history, options.pipelines, keep_listed=True)


def _flags(flags: dict[str, pd.Series], mine: pd.Series) -> tuple[bool | None, bool | None]:
    """Won and lost as the deals in a stage say, None where the export does not say."""
    if not mine.any():
        return None, None
    won = _all_true(flags["won"][mine]) if flags["won"].notna().any() else None
    if flags["lost"].notna().any():
        return won, _all_true(flags["lost"][mine])
    if flags["closed"].notna().any():
        closed = _all_true(flags["closed"][mine])
        if not closed:
            return False, False
        if won is not None:
            return won, not won
    return won, None


def _all_true(values: pd.Series) -> bool:
    return bool(len(values)) and bool(truthy(values.fillna("")).all())


def read_deals(source: pd.DataFrame, context: Context) -> list[tuple[str, pd.DataFrame, str | None]]:
    frame = mapped(source, DEAL)
    frame["pipeline"] = frame["pipeline"].fillna(DEFAULT_PIPELINE)
    frame["kind"] = text(source, DEAL_KIND).map(deal_kind).astype("object")
    frame["amount"], prefixed = split_currency(frame["amount"])
    frame["currency"] = frame["currency"].where(frame["currency"].notna(), prefixed).fillna(context.options.currency)
    by_id = first_of_list(text(source, COMPANY_IDS))
    by_name = resolve(first_of_list(text(source, COMPANY_NAMES)), context.company_by_name)
    frame["account_id"] = by_id.where(by_id.notna(), by_name)
    frame["forecast_category"] = text(source, FORECAST)
    frame["modified_at"] = text(source, LAST_MODIFIED)
    configured = frame["pipeline"].isin(set(context.options.pipelines))
    for flag in ("is_won", "is_closed"):  # cadence.yml's stages say which are closed: the stage decides
        frame[flag] = frame[flag].where(~configured, None)
    columns = stage_columns(list(source.columns))
    stages = declare_stages(frame, source, columns, context.options)
    closed_stages = stages.loc[stages["is_won"] | stages["is_lost"], ["pipeline", "stage"]]
    closed_keys = set(zip(closed_stages["pipeline"], closed_stages["stage"], strict=True))
    from_stage = pd.Series([(p, s) in closed_keys for p, s in zip(frame["pipeline"], frame["stage"], strict=True)],
                           index=frame.index)
    closed = truthy(frame["is_closed"]).where(frame["is_closed"].notna(), from_stage).astype(bool)
    before_creation = moments(frame["close_date"]) < moments(frame["created_at"])
    frame["closed_at"] = frame["close_date"].where(closed & ~before_creation, None)
    listed = bool(len(stages)) and stages["pipeline"].isin(set(context.options.pipelines)).all()
    out: list[tuple[str, pd.DataFrame, str | None]] = [  # cadence.yml's list replaces the pipeline's stages
        ("opportunities", frame, None), ("stages", stages, "pipeline" if listed else None)]
    entered = [c for c in columns if c.kind == "Date entered"]
    durations = [c for c in columns if c.kind == "Cumulative time in"]
    if entered:
        out.append(("opportunity_history", history_from_dates(source, frame, entered, stages), "opportunity_id"))
    elif durations:
        out.append(("opportunity_history", history_from_durations(source, frame, closed, durations, stages),
                    "opportunity_id"))
    return out


HISTORY_COLUMNS = ["opportunity_id", "changed_at", "stage", "amount", "close_date", LINE]


def _positions(stages: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {(p, s): int(n) for p, s, n in zip(stages["pipeline"], stages["stage"], stages["position"], strict=True)}


def _one_per_moment(history: pd.DataFrame) -> pd.DataFrame:
    """Two stages entered at the same moment: keep the later one in the deal's sequence."""
    when = moments(history["changed_at"].astype("object"))
    timed = when.notna()
    kept = ~timed | ~pd.DataFrame({"opp": history["opportunity_id"], "when": when}) \
        .duplicated(keep="last")
    return history[kept].reset_index(drop=True)


def history_from_dates(source: pd.DataFrame, deals: pd.DataFrame, columns: list[StageColumn],
                       stages: pd.DataFrame) -> pd.DataFrame:
    """One row per `Date entered` value: the stage from that moment on."""
    position = _positions(stages)
    parts = []
    for item in columns:
        value = text(source, (item.column,))
        has = value.notna() & deals["opportunity_id"].notna()
        parts.append(pd.DataFrame({
            "opportunity_id": deals.loc[has, "opportunity_id"], "changed_at": value[has], "stage": item.stage,
            "amount": None, "close_date": None, LINE: deals.loc[has, LINE],
            "_when": moments(value[has]), "_position": position.get((item.pipeline, item.stage), 0),
        }))
    if not parts:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    history = pd.concat(parts, ignore_index=True).sort_values(
        ["opportunity_id", "_when", "_position"], kind="stable", na_position="last")
    return _one_per_moment(history.drop(columns=["_when", "_position"]))


def duration_seconds(value: str) -> int | None:
    """'2705:47:48' -> seconds; None when the text is not HH:mm:ss."""
    match = _DURATION.match(value.strip())
    if not match:
        return None
    hours, minutes, seconds = (int(g) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def history_from_durations(source: pd.DataFrame, deals: pd.DataFrame, closed: pd.Series,
                           columns: list[StageColumn], stages: pd.DataFrame) -> pd.DataFrame:
    """Entry times rebuilt from cumulative time per stage (the rule is in the module's docstring)."""
    position = _positions(stages)
    ordered = sorted(columns, key=lambda c: (position.get((c.pipeline, c.stage), 10**6), columns.index(c)))
    values = {c.column: text(source, (c.column,)).tolist() for c in ordered}
    created, close = moments(deals["created_at"]).tolist(), moments(deals["close_date"]).tolist()
    modified = moments(text(source, LAST_MODIFIED)).tolist()
    rows: list[dict[str, object]] = []
    for i, (opportunity, current, line, is_closed) in enumerate(zip(
            deals["opportunity_id"], deals["stage"], deals[LINE], closed, strict=True)):
        if not isinstance(opportunity, str):
            continue
        visited = [(c, raw, duration_seconds(raw)) for c in ordered
                   if isinstance(raw := values[c.column][i], str) and c.stage != current]
        bad = [(c, raw) for c, raw, seconds in visited if seconds is None]
        total = sum(seconds or 0 for _, _, seconds in visited)
        if is_closed:
            anchor = _stamp(close[i]) or _stamp(modified[i])
        else:
            start = _stamp(created[i])
            anchor = start + pd.Timedelta(seconds=total) if start is not None else None
        reason = None
        if bad:
            reason = f"{bad[0][0].column}: {bad[0][1]!r} is not a time in HH:mm:ss, so this deal's stage history " \
                     "cannot be rebuilt"
        elif anchor is None:
            reason = "no Close Date or Last Modified Date (closed deal) or Create Date (open deal) to place this " \
                     "deal's stage history in time"
        for row in _walk_back(opportunity, current, anchor, visited, _stamp(created[i])):
            rows.append({**row, LINE: line, "_problem": reason})
    history = _one_per_moment(pd.DataFrame(rows, columns=[*HISTORY_COLUMNS, "_problem"]))
    refusals = history.pop("_problem").dropna()
    refuse_rows(history, refusals.astype("object"), "changed_at")
    return history


def _stamp(value: object) -> pd.Timestamp | None:
    return value if isinstance(value, pd.Timestamp) and not pd.isna(value) else None


def _walk_back(opportunity: str, current: object, anchor: pd.Timestamp | None,
               visited: list[tuple[StageColumn, str, int | None]],
               created: pd.Timestamp | None) -> list[dict[str, object]]:
    """The current stage entered at `anchor`, each earlier stage its time before the next, oldest first;
    no entry before `created`."""
    at = anchor
    entered: list[tuple[object, pd.Timestamp | None]] = [(current, at)]
    for c, _, seconds in reversed(visited):
        at = at - pd.Timedelta(seconds=seconds) if at is not None and seconds is not None else None
        entered.append((c.stage, at))
    rows = []
    for stage, when in reversed(entered):
        if when is not None and created is not None:
            when = max(when, created)
        rows.append({"opportunity_id": opportunity, "stage": stage, "amount": None, "close_date": None,
                     "changed_at": when.tz_convert(None).isoformat(sep=" ") if when is not None else None})
    return rows


# -- companies and contacts --------------------------------------------------------------------


def read_companies(source: pd.DataFrame, context: Context) -> list[tuple[str, pd.DataFrame, str | None]]:
    frame = mapped(source, COMPANY)
    frame["domain"] = normalise_domain(text(source, DOMAIN))
    frame["annual_revenue"], _ = split_currency(frame["annual_revenue"])
    context.company_by_name.update(unique_lookup(frame["name"], frame["account_id"]))
    return [("accounts", frame, None)]


def lead_status(lifecycle: object, status: object, qualified: object, converted: object) -> str:
    if isinstance(status, str) and re.sub(r"[^a-z]", "", status.lower()) in {"unqualified", "disqualified"}:
        return "disqualified"
    if isinstance(lifecycle, str) and lifecycle.strip():
        return LIFECYCLE_STATUS.get(re.sub(r"[^a-z]", "", lifecycle.lower()), "open")
    if isinstance(converted, str):
        return "converted"
    return "qualified" if isinstance(qualified, str) else "open"


def channel(value: object) -> object:
    if not isinstance(value, str):
        return None
    key = value.strip().lower()
    return CHANNELS.get(key, re.sub(r"[^a-z0-9]+", "_", key).strip("_") or None)


def read_contacts(source: pd.DataFrame, context: Context) -> list[tuple[str, pd.DataFrame, str | None]]:
    frame = mapped(source, CONTACT)
    by_id = first_of_list(text(source, COMPANY_IDS))
    by_name = resolve(first_of_list(text(source, CONTACT_COMPANY_NAMES)), context.company_by_name)
    frame["account_id"] = by_id.where(by_id.notna(), by_name)
    frame["opportunity_id"] = first_of_list(text(source, DEAL_IDS))
    frame["channel"] = text(source, CHANNEL).map(channel).astype("object")
    frame["qualified_at"] = earliest(source, QUALIFIED)
    frame["converted_at"] = earliest(source, CONVERTED)
    frame["status"] = [lead_status(*values) for values in zip(
        text(source, LIFECYCLE), text(source, LEAD_STATUS), frame["qualified_at"], frame["converted_at"],
        strict=True)]
    return [("leads", frame, None)]


def read_owners(source: pd.DataFrame, context: Context) -> list[tuple[str, pd.DataFrame, str | None]]:
    """HubSpot owners become people: the name from first and last name, the team from the first team listed."""
    frame = mapped(source, OWNER)
    joined = (text(source, OWNER_FIRST).fillna("") + " " + text(source, OWNER_LAST).fillna("")).str.strip()
    frame["name"] = joined.where(joined != "", frame["email"]).astype("object")
    frame["team"] = first_of_list(frame["team"])
    return [("people", frame, None)]


HISTORY_PROPERTIES = {"dealstage": "stage", "amount": "amount", "closedate": "close_date"}


def local_day(value: object, zone: str) -> object:
    """The API's close date, a UTC moment ('2026-05-30T22:00:00Z' for midnight in Berlin), as the day it is in
    the company's time zone ('2026-05-31'), as an export writes it; other text as it is."""
    if not isinstance(value, str) or "T" not in value:
        return value
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        return value
    return (stamp.tz_convert(zone) if stamp.tzinfo else stamp).strftime("%Y-%m-%d")


def history_from_versions(deal: str, line: int, versions: dict[str, list[dict[str, str]]],
                          stage_label: Callable[[str], str], zone: str = "UTC") -> list[dict[str, object]]:
    """A deal's `propertiesWithHistory` (each property's values with their timestamps) as one history row per
    moment something changed, holding the stage, amount and close date (its day in `zone`) in force from then
    on."""
    changes = sorted(((pd.Timestamp(v["timestamp"]), -i, prop, v.get("value"))  # HubSpot lists newest first
                      for prop, values in versions.items() if prop in HISTORY_PROPERTIES
                      for i, v in enumerate(values) if v.get("timestamp")), key=lambda c: (c[0], c[1]))
    state: dict[str, object] = {}
    rows: dict[pd.Timestamp, dict[str, object]] = {}
    for when, _, prop, raw in changes:
        value: object = raw
        if prop == "dealstage":
            value = stage_label(raw) if raw else None
        elif prop == "closedate":
            value = local_day(raw, zone) if raw else None
        state[HISTORY_PROPERTIES[prop]] = value or None
        moment = when.tz_convert("UTC").tz_localize(None) if when.tzinfo else when
        rows[moment] = {"opportunity_id": deal, "changed_at": moment.isoformat(sep=" "), **state, LINE: line}
    return [row for row in rows.values() if row.get("stage")]


# -- objects -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubSpotObject:
    name: str
    matches: Callable[[set[str]], bool]
    required: list[Aliases]
    read: Callable[[pd.DataFrame, Context], list[tuple[str, pd.DataFrame, str | None]]]


def _is_deals(c: set[str]) -> bool:
    return bool(c & {"Deal Stage", "Deal Name", "dealstage", "dealname"})


def _is_contacts(c: set[str]) -> bool:
    return not _is_deals(c) and (bool(c & {"First Name", "Last Name", "Contact ID"})
                                 or ("Email" in c and "Lifecycle Stage" in c))


def _is_companies(c: set[str]) -> bool:
    return not _is_deals(c) and not _is_contacts(c) and bool(c & {"Company name", "Company Domain Name", "Company ID"})


# In the order they are read: companies first, so deals and contacts can find their company's id.
OBJECTS: tuple[HubSpotObject, ...] = (
    HubSpotObject("companies", _is_companies, [COMPANY["account_id"], COMPANY["name"]], read_companies),
    HubSpotObject("deals", _is_deals, [DEAL["opportunity_id"], DEAL["stage"], DEAL["created_at"]], read_deals),
    HubSpotObject("contacts", _is_contacts, [CONTACT["lead_id"], CONTACT["created_at"]], read_contacts),
)
UNSUPPORTED = {  # HubSpot objects Cadence recognises but does not map (yet)
    "tickets": {"Ticket ID", "Ticket name", "Ticket status"},
    "products": {"Product ID", "SKU", "Unit price"},
    "line items": {"Line Item ID"},
}


def detect_object(columns: list[str]) -> HubSpotObject | None:
    present = set(columns)
    return next((obj for obj in OBJECTS if obj.matches(present)), None)


def _not_recognised(columns: list[str]) -> tuple[str, str]:
    """Why a header is not imported, and what to do about it."""
    present = set(columns)
    for name, marks in UNSUPPORTED.items():
        if len(present & marks) >= 2 or (name == "line items" and present & marks):
            return (f"a HubSpot {name} export: Cadence does not map {name} yet",
                    "import the deals, companies or contacts export alone, or their folder (which lists this "
                    "file as skipped)")
    if "StageName" in present or "Opportunity ID" in present:
        return "a Salesforce export, not HubSpot", "import it with --from salesforce"
    return ("the header is not a HubSpot export of deals, companies or contacts",
            "export the object from HubSpot's CRM index page (Export view)")


class HubSpotImporter:
    """`--from hubspot`: deals, companies and contacts exports."""

    def __init__(self, name: str = "hubspot") -> None:
        self.name = name
        self.description = DESCRIPTION

    def read(self, path: Path, options: ImportOptions) -> ImportBatch:
        if options.mapping is not None:
            raise InputError("--mapping is not used with --from hubspot: HubSpot's export labels are mapped already",
                             hint="leave out --mapping")
        batch = ImportBatch(self.name)
        found: list[tuple[Path, HubSpotObject, pd.DataFrame]] = []
        for file in files_in(path):
            source = read_table(file, encoding=options.encoding, progress=options.progress)
            columns = [c for c in source.columns if c != LINE]
            obj = detect_object(columns)
            if obj is None:
                reason, hint = _not_recognised(columns)
                if not path.is_dir():
                    raise InputError(reason, location=Location(str(file), 1), hint=hint)
                batch.skipped.append((str(file), reason))
                continue
            require(source, obj.required, file, f"HubSpot {obj.name}")
            found.append((file, obj, source))
        context = Context(options)
        for file, obj, source in sorted(found, key=lambda item: OBJECTS.index(item[1])):
            batch.files.append(SourceFile.of(str(file), source))
            for i, (table, frame, replace_on) in enumerate(obj.read(source, context)):
                batch.add(CanonicalFrame(table, frame, str(file), primary=i == 0, replace_on=replace_on))
        return batch


__all__ = ["HubSpotImporter", "duration_seconds", "stage_columns"]
