"""Feature requests from the tools product teams keep them in: Productboard and Canny exports, and one by hand.

Both exports are read by their column headers, compared without case, spaces, dots, dashes or
underscores ("Created at" = "created_at" = "createdAt"), so the CSV export of the web app and a
flattened API export are read alike. Every file of a folder is read; each row is one request.

**Productboard** (`--from productboard`): the notes export (one row per note) or the insights export
(one row per note linked to a feature, with its importance). Columns read:

- id: `Note ID` / `id` (`Note ID` + `Feature ID` for an insight, so each link is one request) → `pb-…`
- title: `Note title` / `title`, else the first 120 characters of `Note text` / `content`
- account: `Salesforce account ID` / `Account ID` when the export carries the CRM's id, else
  `Company domain` / `company.domain` (analyses match a domain to `accounts.domain`)
- deal: `Salesforce opportunity ID` / `Opportunity ID` / `Deal ID` when present
- requested_by: `Owner email` / `owner.email`, else `User email` / `Customer email`
- requested_at: `Created at` / `createdAt` (required)
- certainty: `Importance` on Productboard's scale — Critical 0.9, Important 0.6, Nice-to-have 0.3,
  Not important 0.1, Unknown (empty); a number 0–1 is taken as it is (see `CERTAINTY_LABELS`)
- feature_id: `Feature ID` / `feature.id`; status: `Feature status` (Released → shipped, Planned / In
  progress → planned), else the note's `State` (Archived → declined), else open.

**Canny** (`--from canny`): the posts export. Columns read:

- id: `Post ID` / `id`, else `URL` / `Post URL`; without either, a stable digest of board, title and
  date → `canny-…`
- title: `Title` (required); requested_at: `Created At` / `created` / `Date` (required)
- account: `Company ID` / `Salesforce account ID` when present, else `Company domain`, else the domain
  of `Author Email`; deal: `Opportunity ID` when present
- requested_by: `Author Email`, else `Author` / `Author Name`
- status: Canny's open / under review → open, planned / in progress → planned, complete → shipped,
  closed → declined. Canny records no certainty: it stays empty (analyses use the median).

Not read: Canny's votes (one post, many voting companies) are a separate export; a post is one
request. Post details, tags and categories are not requests' titles or themes and are left out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cadence.errors import InputError, Location
from cadence.ingest.batch import LINE, CanonicalFrame, ImportBatch, ImportOptions, SourceFile, problem
from cadence.ingest.readers import files_in, read_table

# How sure a labelled scale says we are that the feature moves the deal. Productboard's importance
# levels, and the plain words people type in `cadence requests add --certainty`.
CERTAINTY_LABELS: dict[str, float | None] = {
    "critical": 0.9, "dealbreaker": 0.9, "blocker": 0.9, "must have": 0.9,
    "high": 0.75,
    "important": 0.6,
    "medium": 0.5,
    "nice to have": 0.3, "low": 0.25,
    "not important": 0.1,
    "unknown": None, "": None,
}
CANNY_STATUSES = {"open": "open", "under review": "open", "planned": "planned", "in progress": "planned",
                  "complete": "shipped", "completed": "shipped", "closed": "declined"}
FEATURE_STATUSES = {"released": "shipped", "done": "shipped", "shipped": "shipped", "planned": "planned",
                    "in progress": "planned", "in development": "planned"}
TITLE_CHARS = 120


def certainty_value(text: object) -> float | str | None:
    """A 0–1 number or a label of `CERTAINTY_LABELS` → a number; anything else is returned for validation to refuse."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    raw = str(text).strip()
    label = " ".join(re.sub(r"[-_]+", " ", raw.lower()).split())
    if label in CERTAINTY_LABELS:
        return CERTAINTY_LABELS[label]
    label = re.sub(r"\s*\(.*\)$", "", label)  # "Critical (+3)"
    if label in CERTAINTY_LABELS:
        return CERTAINTY_LABELS[label]
    try:
        return float(raw)
    except ValueError:
        return raw


def _key(name: str) -> str:
    return re.sub(r"[\s_.\-]+", "", name.lower())


@dataclass(frozen=True)
class Columns:
    """Find a source column among its usual spellings."""

    frame: pd.DataFrame

    def get(self, *aliases: str) -> pd.Series | None:
        by_key = {_key(c): c for c in self.frame.columns if c != LINE}
        for alias in aliases:
            if _key(alias) in by_key:
                return self.frame[by_key[_key(alias)]].astype("object").fillna("").map(lambda v: str(v).strip())
        return None

    def text(self, *aliases: str) -> pd.Series:
        found = self.get(*aliases)
        return found if found is not None else pd.Series("", index=self.frame.index, dtype="object")

    def need(self, path: Path, *aliases: str) -> pd.Series:
        found = self.get(*aliases)
        if found is None:
            present = ", ".join(c for c in self.frame.columns if c != LINE)[:300]
            raise InputError(f"missing required column {aliases[0]!r}", location=Location(str(path), 1),
                             hint=f"the header has: {present}")
        return found


def _first(*options: pd.Series) -> pd.Series:
    out = options[0].copy()
    for option in options[1:]:
        out = out.where(out != "", option)
    return out


def _domain(text: str) -> str:
    """'https://www.Acme.com/x' or 'ann@acme.com' → 'acme.com'."""
    value = text.strip().lower()
    if "@" in value:
        value = value.rsplit("@", 1)[1]
    value = re.sub(r"^[a-z]+://", "", value).split("/")[0]
    return value[4:] if value.startswith("www.") else value


def _digest(*parts: pd.Series) -> pd.Series:
    joined = ["\x1f".join(values) for values in zip(*parts, strict=True)]
    return pd.Series([hashlib.sha1(v.encode()).hexdigest()[:12] for v in joined], index=parts[0].index,
                     dtype="object")


def _frame(source: pd.DataFrame, columns: Mapping[str, pd.Series]) -> pd.DataFrame:
    frame = pd.DataFrame({name: values.replace("", None) for name, values in columns.items()}, index=source.index)
    frame[LINE] = source[LINE]
    return frame


# -- Productboard -----------------------------------------------------------------------------------------
def read_productboard(source: pd.DataFrame, path: Path) -> pd.DataFrame:
    cols = Columns(source)
    note_id = cols.need(path, "Note ID", "id", "note_id")
    feature_id = cols.text("Feature ID", "feature.id", "feature_id")
    text = cols.text("Note text", "content", "text")
    title = _first(cols.text("Note title", "title", "name"), text.map(lambda t: t[:TITLE_CHARS]))
    account = _first(cols.text("Salesforce account ID", "Account ID", "CRM account ID"),
                     cols.text("Company domain", "company.domain", "domain").map(_domain))
    importance = cols.text("Importance", "insight importance")
    status = _first(cols.text("Feature status", "feature.status").map(lambda s: FEATURE_STATUSES.get(s.lower(), "")),
                    cols.text("State", "note state").map(lambda s: "declined" if s.lower() == "archived" else ""))
    frame = _frame(source, {
        "request_id": "pb-" + note_id + feature_id.map(lambda f: f"-{f}" if f else ""),
        "title": title,
        "account_id": account,
        "opportunity_id": cols.text("Salesforce opportunity ID", "Opportunity ID", "Deal ID"),
        "requested_by": _first(cols.text("Owner email", "owner.email", "owner"),
                               cols.text("User email", "Customer email", "user.email")),
        "requested_at": cols.need(path, "Created at", "createdAt", "created"),
        "feature_id": feature_id,
        "status": status.where(status != "", "open"),
    })
    frame["certainty"] = importance.map(certainty_value).astype("object").where(importance != "", None)
    problem(frame, (note_id == ""), "request_id", "a Productboard row needs its Note ID")
    refuse_unknown_certainty(frame)
    return frame


def refuse_unknown_certainty(frame: pd.DataFrame) -> None:
    """A certainty that is neither a number nor a known label is refused with the labels it may use."""
    unknown = frame["certainty"].map(lambda v: isinstance(v, str))
    problem(frame, unknown, "certainty", f"not a certainty: give a number from 0 to 1 or one of "
                                         f"{', '.join(certainty_labels())}")


# -- Canny ----------------------------------------------------------------------------------------------------
def read_canny(source: pd.DataFrame, path: Path) -> pd.DataFrame:
    cols = Columns(source)
    title = cols.need(path, "Title", "Post title")
    created = cols.need(path, "Created At", "created", "Date", "Created")
    post = _first(cols.text("Post ID", "id"), cols.text("URL", "Post URL").map(lambda u: u.rstrip("/")
                                                                                .rsplit("/", 1)[-1]))
    post = post.where(post != "", _digest(cols.text("Board"), title, created))
    author_email = cols.text("Author Email", "author.email", "Email")
    status = cols.text("Status", "post status").map(lambda s: CANNY_STATUSES.get(s.lower(), s or "open"))
    frame = _frame(source, {
        "request_id": "canny-" + post,
        "title": title,
        "account_id": _first(cols.text("Company ID", "Salesforce account ID", "Account ID"),
                             cols.text("Company domain", "company.domain").map(_domain), author_email.map(_domain)),
        "opportunity_id": cols.text("Opportunity ID", "Salesforce opportunity ID"),
        "requested_by": _first(author_email, cols.text("Author", "Author Name", "author.name")),
        "requested_at": created,
        "status": status.where(status != "", "open"),
    })
    problem(frame, ~frame["status"].isin(["open", "planned", "shipped", "declined"]) & frame["status"].notna(),
            "status", "not a Canny status (open, under review, planned, in progress, complete, closed)")
    return frame


class RequestImporter:
    """Productboard or Canny exports: a file, or every CSV/Excel file of a folder."""

    READERS = {"productboard": read_productboard, "canny": read_canny}

    def __init__(self, name: str):
        self.name = name
        self.description = {"productboard": "Productboard notes or insights export",
                            "canny": "Canny posts export"}.get(name, name)

    def read(self, path: Path, options: ImportOptions) -> ImportBatch:
        reader = self.READERS[self.name]
        batch = ImportBatch(self.name)
        for file in files_in(Path(path)):
            source = read_table(file, encoding=options.encoding, progress=options.progress)
            batch.files.append(SourceFile.of(str(file), source))
            batch.add(CanonicalFrame("feature_requests", reader(source, file), str(file)))
        return batch


# -- one request, by hand ---------------------------------------------------------------------------------------
MANUAL_FORMAT = "requests-add"


@dataclass(frozen=True)
class NewRequest:
    title: str
    account_id: str | None = None
    opportunity_id: str | None = None
    requested_by: str | None = None
    requested_at: datetime | None = None
    certainty: str | float | None = None
    feature_id: str | None = None
    theme: str | None = None
    status: str = "open"
    request_id: str | None = None


def manual_request_batch(request: NewRequest, *, now: datetime | None = None) -> ImportBatch:
    """One request typed in, as an import batch: validated, quarantined and logged like any file's rows."""
    when = request.requested_at or (now or datetime.now(UTC)).replace(tzinfo=None)
    request_id = request.request_id or "req-" + hashlib.sha1(
        f"{request.title}\x1f{request.account_id}\x1f{request.opportunity_id}\x1f{when.isoformat()}".encode()
    ).hexdigest()[:10]
    row = {"request_id": request_id, "title": request.title, "account_id": request.account_id,
           "opportunity_id": request.opportunity_id, "requested_by": request.requested_by,
           "requested_at": when.isoformat(), "certainty": certainty_value(request.certainty),
           "theme": request.theme, "feature_id": request.feature_id, "status": request.status, LINE: 2}
    name = f"cadence requests add {request_id}"
    frame = pd.DataFrame([row])
    refuse_unknown_certainty(frame)
    batch = ImportBatch(MANUAL_FORMAT, files=[SourceFile(name, 1)])
    batch.add(CanonicalFrame("feature_requests", frame, name))
    return batch


def certainty_labels() -> Sequence[str]:
    return [label for label, value in CERTAINTY_LABELS.items() if value is not None]
