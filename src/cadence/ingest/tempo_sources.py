"""Shipments from where teams already record them, counted as deliverables by a tempo mapping.

`cadence ingest FILE --from FORMAT --mapping tempo.yml`, FORMAT one of:

- `jira` — a Jira issue CSV export ("Export > CSV"): Issue key, Summary, Issue Type, Status, Resolution,
  Resolved, Assignee, Labels (repeated once per label, as Jira writes them), Project name. Shipped when
  Resolved; an issue resolved as Won't Do, Won't Fix, Duplicate, Cannot Reproduce, Declined or
  Incomplete was not shipped. Jira writes dates as `11/May/24 03:26 PM`.
- `linear` — a Linear CSV export: ID, Team, Title, Status, Assignee, Labels ("bug, backend"), Completed.
  Shipped when Completed (ISO 8601, or the `Mon May 13 2024 10:00:00 GMT+0000 (…)` form older exports use).
- `github-releases` — the JSON the REST API returns for a repository's releases (`GET /repos/O/R/releases`):
  tag_name, name, published_at, author.login, html_url, prerelease, draft. Drafts are not shipped.
- `rss` — a podcast's RSS 2.0 feed: item title, pubDate (RFC 822), link, guid, itunes:episodeType,
  itunes:author.
- `shipments` — a plain CSV log: title and shipped_at (or date), optionally team, deliverable, owner,
  size, link, unplanned and id columns.

The mapping file says which items count as which deliverable of which team:

```yaml
team: Product                # the team the items belong to …
teams: {Mobile: Product}     # … or by the source's own team (Jira Project name, Linear Team)
deliverable: launch          # count every item as this, or let the first matching rule decide:
rules:
  - {deliverable: launch, size: big, labels: [big-launch]}
  - {deliverable: launch, type: [Epic], status: [Done, Released]}
  - {deliverable: hotfix, type: Bug, unplanned: true}
owners: {Amara Mendez: P049} # source user → people.person_id (otherwise kept as written)
date_format: "%m/%d/%Y %H:%M"  # when the export's dates are not in one of the forms above
link: "https://acme.atlassian.net/browse/{key}"  # a link for items whose source gives none
```

A rule matches when every condition it names holds, compared without regard to case: `type`, `status`,
`labels` (any of them), `episode_type`, `source_team` (lists, or one value), `title` (a regular
expression searched in the title) and `prerelease` (true/false). A rule may set `size`, `team` and
`unplanned`. Every item read is accounted for: an item that was not shipped, that no rule counts, or
whose date cannot be read is quarantined with that reason — `cadence quarantine` lists them — so the
reconciliation (read = loaded + quarantined) holds for these formats as for every other. For JSON and
RSS files, an item's `line` is its position plus one (the first item is 2), as if under a header.
Shipment ids are the source's own (`jira:PROJ-12`, `github:owner/repo@v1.2.0`, the feed's guid), so
importing a newer export updates what the earlier one loaded.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from cadence.errors import InputError, Location
from cadence.ingest.batch import LINE, PROBLEM, PROBLEM_COLUMN, CanonicalFrame, ImportBatch, ImportOptions, SourceFile
from cadence.ingest.decoding import decode
from cadence.ingest.readers import read_table, require_columns

ITEM_COLUMNS = ("key", "title", "type", "status", "resolution", "labels", "shipped", "owner", "link", "source_team",
                "episode_type", "prerelease", "draft", "team", "deliverable", "size", "unplanned")
NOT_SHIPPED_RESOLUTIONS = {"won't do", "won't fix", "duplicate", "cannot reproduce", "declined", "incomplete"}
JIRA_DATES = ("%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%d/%b/%y %H:%M", "%d/%b/%Y %H:%M", "%d/%b/%y")
JS_DATE = re.compile(r"^\w{3} (\w{3} \d{1,2} \d{4} \d{2}:\d{2}:\d{2}) GMT([+-]\d{4})")
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"


# -- the mapping file ----------------------------------------------------------------------------

class Rule(BaseModel):
    """Items that match every condition named count as `deliverable` (of `size`, for `team`)."""

    model_config = ConfigDict(extra="forbid")
    deliverable: str
    size: str | None = None
    team: str | None = None
    unplanned: bool | None = None
    type: list[str] | None = None
    status: list[str] | None = None
    labels: list[str] | None = None
    episode_type: list[str] | None = None
    source_team: list[str] | None = None
    title: str | None = None
    prerelease: bool | None = None

    @field_validator("type", "status", "labels", "episode_type", "source_team", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("title")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression ({exc})") from None
        return value

    def matches(self, item: dict[str, Any]) -> bool:
        for name in ("type", "status", "episode_type", "source_team"):
            wanted = getattr(self, name)
            if wanted is not None and _fold(item.get(name)) not in {_fold(w) for w in wanted}:
                return False
        if self.labels is not None and not {_fold(w) for w in self.labels} & {_fold(x) for x in item["labels"]}:
            return False
        if self.title is not None and not re.search(self.title, item.get("title") or "", re.IGNORECASE):
            return False
        return self.prerelease is None or bool(item.get("prerelease")) == self.prerelease


class TempoMapping(BaseModel):
    """Which items of a source count as which deliverable of which team (see the module's documentation)."""

    model_config = ConfigDict(extra="forbid")
    team: str | None = None
    teams: dict[str, str] = {}
    deliverable: str | None = None
    size: str | None = None
    unplanned: bool | None = None
    rules: list[Rule] = []
    owners: dict[str, str] = {}
    date_format: str | None = None
    link: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_way_to_count(self) -> TempoMapping:
        if self.deliverable and self.rules:
            raise ValueError("give either `deliverable` (every item) or `rules`, not both")
        return self

    def rule_for(self, item: dict[str, Any]) -> Rule | None:
        if self.deliverable:
            return Rule(deliverable=self.deliverable, size=self.size, unplanned=self.unplanned)
        return next((rule for rule in self.rules if rule.matches(item)), None)


def _fold(value: object) -> str:
    return str(value).strip().casefold() if value is not None else ""


def load_tempo_mapping(path: Path | None, format_name: str, *, optional: bool = False) -> TempoMapping:
    """Read a tempo mapping, reporting every problem in it at once."""
    if path is None:
        if optional:
            return TempoMapping()
        raise InputError(f"the {format_name} format needs a tempo mapping file",
                         hint="pass --mapping tempo.yml, e.g. `team: Podcast` and `deliverable: episode`")
    if not path.is_file():
        raise InputError("mapping file not found", location=Location(str(path)))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable YAML file ({type(exc).__name__})", location=Location(str(path))) from None
    if not isinstance(raw, dict):
        raise InputError("a tempo mapping is a set of keys: team, deliverable or rules, …",
                         location=Location(str(path)))
    try:
        return TempoMapping.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise InputError(problems, location=Location(str(path))) from None


# -- reading each source into items --------------------------------------------------------------

def _cells(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index, dtype="object")
    return frame[column].astype("object").fillna("").map(lambda v: str(v).strip())


def _items(frame: pd.DataFrame, **columns: pd.Series | list[Any]) -> pd.DataFrame:
    items = pd.DataFrame({name: columns.get(name, [None] * len(frame)) for name in ITEM_COLUMNS}, index=frame.index)
    items[LINE] = frame[LINE]
    items.attrs.update(frame.attrs)  # the encoding and broken lines read_table found
    return items


def read_jira(path: Path, options: ImportOptions) -> pd.DataFrame:
    frame = read_table(path, encoding=options.encoding, progress=options.progress,
                       required=["Issue key", "Summary", "Resolved"])
    labels = [c for c in frame.columns if re.fullmatch(r"Labels(\.\d+)?", str(c))]
    project = _cells(frame, "Project name").where(_cells(frame, "Project name") != "", _cells(frame, "Project key"))
    return _items(frame, key=_cells(frame, "Issue key"), title=_cells(frame, "Summary"),
                  type=_cells(frame, "Issue Type"), status=_cells(frame, "Status"),
                  resolution=_cells(frame, "Resolution"), shipped=_cells(frame, "Resolved"),
                  owner=_cells(frame, "Assignee"), source_team=project,
                  labels=[tuple(v for v in row if v) for row in zip(*(_cells(frame, c) for c in labels), strict=True)]
                  if labels else [()] * len(frame))


def read_linear(path: Path, options: ImportOptions) -> pd.DataFrame:
    frame = read_table(path, encoding=options.encoding, progress=options.progress,
                       required=["ID", "Title", "Completed"])
    labels = _cells(frame, "Labels").map(lambda v: tuple(x.strip() for x in v.split(",") if x.strip()))
    return _items(frame, key=_cells(frame, "ID"), title=_cells(frame, "Title"), status=_cells(frame, "Status"),
                  shipped=_cells(frame, "Completed"), owner=_cells(frame, "Assignee"),
                  source_team=_cells(frame, "Team"), labels=labels.tolist())


def read_github_releases(path: Path, options: ImportOptions) -> pd.DataFrame:
    try:
        releases = json.loads(_text_of(path, options))
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON ({exc.msg} at line {exc.lineno})", location=Location(str(path), exc.lineno),
                         hint="save the response of GET /repos/OWNER/REPO/releases as it came") from None
    if not isinstance(releases, list) or not all(isinstance(r, dict) for r in releases):
        raise InputError("expected a JSON list of releases, as GET /repos/OWNER/REPO/releases returns",
                         location=Location(str(path)))
    missing = [i + 2 for i, r in enumerate(releases) if "tag_name" not in r]
    if releases and len(missing) == len(releases):
        raise InputError("missing required field 'tag_name'", location=Location(str(path)),
                         hint="these objects do not look like GitHub releases")
    frame = pd.DataFrame({LINE: range(2, len(releases) + 2)})
    return _items(frame, key=[_release_key(r) for r in releases], title=[r.get("name") or r.get("tag_name")
                                                                        for r in releases],
                  shipped=[r.get("published_at") or "" for r in releases],
                  owner=[(r.get("author") or {}).get("login") for r in releases],
                  link=[r.get("html_url") for r in releases], prerelease=[bool(r.get("prerelease")) for r in releases],
                  draft=[bool(r.get("draft")) for r in releases], labels=[()] * len(releases))


def _release_key(release: dict[str, Any]) -> str | None:
    tag = release.get("tag_name")
    match = re.search(r"github\.com/([^/]+/[^/]+)/releases", str(release.get("html_url") or ""))
    if tag and match:
        return f"{match.group(1)}@{tag}"
    return str(tag) if tag else None


def read_rss(path: Path, options: ImportOptions) -> pd.DataFrame:
    text = _text_of(path, options)
    if "<!ENTITY" in text:
        raise InputError("the feed declares XML entities, which Cadence does not expand", location=Location(str(path)))
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise InputError(f"not well-formed XML ({exc})", location=Location(str(path), line)) from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise InputError("not an RSS 2.0 feed (no <rss><channel>)", location=Location(str(path)))
    items = channel.findall("item")

    def field(item: ElementTree.Element, name: str) -> str:
        return (item.findtext(name) or "").strip()

    frame = pd.DataFrame({LINE: range(2, len(items) + 2)})
    return _items(frame, key=[field(i, "guid") or field(i, "link") or None for i in items],
                  title=[field(i, "title") for i in items], shipped=[field(i, "pubDate") for i in items],
                  link=[field(i, "link") or None for i in items],
                  episode_type=[field(i, f"{ITUNES}episodeType") or None for i in items],
                  owner=[field(i, f"{ITUNES}author") or field(i, "author") or None for i in items],
                  labels=[tuple(c.text.strip() for c in i.findall("category") if c.text) for i in items])


def read_shipments_csv(path: Path, options: ImportOptions) -> pd.DataFrame:
    frame = read_table(path, encoding=options.encoding, progress=options.progress)
    frame.columns = [str(c).strip().lower() if c != LINE else c for c in frame.columns]
    when = "shipped_at" if "shipped_at" in frame else "date"
    require_columns(frame, ["title", when], path)
    return _items(frame, key=_cells(frame, "id").replace("", None), title=_cells(frame, "title"),
                  shipped=_cells(frame, when), owner=_cells(frame, "owner").replace("", None),
                  link=_cells(frame, "link").replace("", None), team=_cells(frame, "team").replace("", None),
                  deliverable=_cells(frame, "deliverable").replace("", None),
                  size=_cells(frame, "size").replace("", None), unplanned=_cells(frame, "unplanned").replace("", None),
                  labels=[()] * len(frame))


def _text_of(path: Path, options: ImportOptions) -> str:
    if not path.is_file():
        raise InputError("file not found", location=Location(str(path)))
    return decode(path.read_bytes(), path, options.encoding).text  # detected unless --encoding says


# -- items → shipments ---------------------------------------------------------------------------

def parse_shipped(text: str, date_format: str | None) -> datetime | None:
    """A shipment time in UTC from the forms the sources write, or None when it cannot be read."""
    text = text.strip()
    if not text:
        return None
    if date_format:
        return _utc(_try(lambda: datetime.strptime(text, date_format)))
    for form in JIRA_DATES:
        found = _try(lambda form=form: datetime.strptime(text, form))  # type: ignore[misc]
        if found:
            return found
    js = JS_DATE.match(text)
    if js:
        return _utc(_try(lambda: datetime.strptime(f"{js.group(1)} {js.group(2)}", "%b %d %Y %H:%M:%S %z")))
    iso = _try(lambda: datetime.fromisoformat(text))
    if iso:
        return _utc(iso)
    return _utc(_try(lambda: parsedate_to_datetime(text)))


def _try(make: Callable[[], datetime]) -> datetime | None:
    try:
        return make()
    except (ValueError, TypeError, IndexError):
        return None


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def to_shipments(items: pd.DataFrame, mapping: TempoMapping, prefix: str, *, shipped_column: str,
                 mapping_name: str) -> pd.DataFrame:
    """One shipments row per item, with the reason when an item cannot be one."""
    rows, reasons = [], []
    for item in items.to_dict("records"):
        row, reason = _shipment({str(k): v for k, v in item.items()}, mapping, prefix, shipped_column, mapping_name)
        rows.append(row)
        reasons.append(reason)
    frame = pd.DataFrame(rows, index=items.index)
    frame[LINE] = items[LINE]
    frame[PROBLEM] = pd.Series([r[1] if r else None for r in reasons], index=items.index, dtype="object")
    frame[PROBLEM_COLUMN] = pd.Series([r[0] if r else None for r in reasons], index=items.index, dtype="object")
    return frame


def _shipment(item: dict[str, Any], mapping: TempoMapping, prefix: str, shipped_column: str,
              mapping_name: str) -> tuple[dict[str, Any], tuple[str, str] | None]:
    key = item["key"] or _hash(item)
    link = item["link"] or (mapping.link.format(key=item["key"]) if mapping.link and item["key"] else None)
    owner = item["owner"] or None
    row: dict[str, Any] = {"shipment_id": f"{prefix}:{key}", "title": item["title"] or None,
                           "owner_id": mapping.owners.get(owner, owner) if owner else None, "link": link,
                           "shipped_at": item["shipped"] or None}
    rule = mapping.rule_for(item)
    row["team"] = (rule.team if rule else None) or mapping.teams.get(item["source_team"] or "") or mapping.team \
        or item["team"]
    row["deliverable"] = rule.deliverable if rule else item["deliverable"]
    row["size"] = (rule.size if rule else None) or item["size"]
    row["unplanned"] = rule.unplanned if rule and rule.unplanned is not None else item["unplanned"]
    return row, _refusal(item, row, mapping, shipped_column, mapping_name)


def _refusal(item: dict[str, Any], row: dict[str, Any], mapping: TempoMapping, shipped_column: str,
             mapping_name: str) -> tuple[str, str] | None:
    """Why an item is not a shipment, as (canonical column, reason); None when it is one.

    All the reasons go in one line, on the column validation would otherwise call missing: an item that
    no rule counts is refused on `deliverable`, saying also when it was never shipped.
    """
    found: list[tuple[str, str]] = []
    if item["draft"]:
        found.append(("shipped_at", "a draft release: not published"))
    elif _fold(item["resolution"]) in NOT_SHIPPED_RESOLUTIONS:
        found.append(("", f"resolved as {item['resolution']}: not shipped"))
    elif not item["shipped"]:
        found.append(("shipped_at", f"not shipped yet: no {shipped_column}"))
    else:
        when = parse_shipped(item["shipped"], mapping.date_format)
        if when is None:
            form = f"in the format {mapping.date_format!r} the mapping gives" if mapping.date_format \
                else "a date Cadence reads (set date_format in the mapping)"
            found.append(("shipped_at", f"{shipped_column} {item['shipped']!r} is not {form}"))
        else:
            row["shipped_at"] = when.isoformat()
    if not row["deliverable"]:
        facts = ", ".join(f"{k} {item[k]}" for k in ("type", "status", "episode_type") if item.get(k))
        labels = "labels " + "/".join(item["labels"]) if item["labels"] else ""
        shown = ", ".join(x for x in (facts, labels) if x)
        reasons = [reason for _, reason in found] + [f"no rule of {mapping_name} counts it ({shown or 'no fields'})"]
        return "deliverable", "; ".join(reasons)
    if found:
        return found[0]
    if not row["team"]:
        return "team", f"no team: set `team` in {mapping_name} or map this source's team under `teams`"
    return None


def _hash(item: dict[str, Any]) -> str:
    text = "|".join(str(item.get(k) or "") for k in ("team", "deliverable", "title", "shipped"))
    return hashlib.sha1(text.encode()).hexdigest()[:12]


# -- the importers -------------------------------------------------------------------------------

Reader = Callable[[Path, ImportOptions], pd.DataFrame]


class _TempoImporter:
    """One source format read into shipments through a tempo mapping."""

    reader: Reader
    prefix: str
    shipped_column: str
    description: str
    mapping_optional = False

    def __init__(self, name: str):
        self.name = name

    def read(self, path: Path, options: ImportOptions) -> ImportBatch:
        mapping = load_tempo_mapping(options.mapping, self.name, optional=self.mapping_optional)
        if path.is_dir():
            raise InputError(f"the {self.name} format reads one file, not a folder", location=Location(str(path)))
        items = type(self).reader(path, options)
        mapping_name = options.mapping.name if options.mapping else "the mapping"
        frame = to_shipments(items, mapping, self.prefix, shipped_column=self.shipped_column,
                             mapping_name=mapping_name)
        batch = ImportBatch(self.name, files=[SourceFile.of(str(path), items)])
        batch.add(CanonicalFrame("shipments", frame, str(path)))
        return batch


class JiraImporter(_TempoImporter):
    reader = staticmethod(read_jira)
    prefix, shipped_column = "jira", "Resolved"
    description = "Jira issue CSV export, counted as shipments by a tempo mapping (--mapping)"


class LinearImporter(_TempoImporter):
    reader = staticmethod(read_linear)
    prefix, shipped_column = "linear", "Completed"
    description = "Linear issue CSV export, counted as shipments by a tempo mapping (--mapping)"


class GitHubReleasesImporter(_TempoImporter):
    reader = staticmethod(read_github_releases)
    prefix, shipped_column = "github", "published_at"
    description = "GitHub releases JSON (the REST API's list of releases) as shipments, with a tempo mapping"


class RssImporter(_TempoImporter):
    reader = staticmethod(read_rss)
    prefix, shipped_column = "rss", "pubDate"
    description = "A podcast's RSS 2.0 feed: each episode a shipment, with a tempo mapping (--mapping)"


class ShipmentsCsvImporter(_TempoImporter):
    reader = staticmethod(read_shipments_csv)
    prefix, shipped_column = "csv", "shipped_at"
    description = "A CSV log of shipments (title, shipped_at or date, team, deliverable, …); mapping optional"
    mapping_optional = True
