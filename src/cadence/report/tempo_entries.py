"""What people enter by hand for tempo — a shipment, a target, a gap review — written like any import.

Each entry becomes a one-row `ImportBatch` and goes through `prepare` and `Workspace.load`: validated
against the schema, logged in `imports` (format `tempo-ship`, `tempo-target`, `tempo-review`), idempotent
where the entry has a natural key. A row validation refuses is an error naming the column, never a
quarantined entry nobody sees: the person typing it is right there.
"""

from __future__ import annotations

import difflib
import hashlib
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from cadence.analysis.tempo import TempoData, Track, load_tempo, track_status, tracks
from cadence.analysis.tempo.board import under_review
from cadence.errors import InputError, UnknownNameError
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.report.sections.tempo import board_as_of
from cadence.schema.validate import LINE

if TYPE_CHECKING:
    from cadence.workspace import Workspace

CAUSES = ("resources", "blocker", "scope", "skill", "priority", "other")


def _key(*parts: object) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:10]


def _write(ws: Workspace, table: str, row: dict[str, Any], format_name: str, key: str) -> None:
    """Validate and load one row as an import of its own; refuse it with the reason validation gave."""
    path = str(ws.root / "entries" / format_name / key)
    frame = pd.DataFrame([{**row, LINE: 2}])
    batch = ImportBatch(format_name, files=[SourceFile(path, 1)], frames=[CanonicalFrame(table, frame, path)])
    prepared = prepare(batch, ws.stages())
    if prepared.quarantined:
        problem = prepared.quarantine.iloc[0]
        column = f"{problem['column_name']} " if problem["column_name"] else ""
        value = f"{problem['value']!r}: " if problem["value"] is not None else ""
        raise InputError(f"{table} entry refused — {column}{value}{problem['reason']}")
    ws.load(prepared)


def known_teams(ws: Workspace, data: TempoData) -> list[str]:
    teams = {t.name for t in ws.config.teams} | set(data.people["team"].dropna()) | set(data.targets["team"]) \
        | set(data.shipments["team"])
    return sorted(teams)


def resolve_team(ws: Workspace, data: TempoData, team: str, *, new: bool = False) -> str:
    """The team as the workspace spells it. An unknown team is an error with the closest name — unless `new`
    (setting a first target declares a team), where only a near miss of a known team is refused as a typo."""
    known = known_teams(ws, data)
    if team in known:
        return team
    folded = {k.casefold(): k for k in known}
    if team.casefold() in folded:
        return folded[team.casefold()]
    if not new:
        raise UnknownNameError("team", team, known or ["(none yet)"])
    close = difflib.get_close_matches(team, known, n=1, cutoff=0.8)
    if close:
        raise InputError(f"unknown team {team!r}", hint=f"did you mean {close[0]!r}? (a new team that close to an "
                         "existing one: add it to cadence.yml `teams` first)")
    return team


def resolve_person(data: TempoData, who: str | None) -> str | None:
    """A person_id from an id, a name or an e-mail; free text only while `people` is empty."""
    if not who:
        return None
    people = data.people
    if people.empty or who in set(people["person_id"]):
        return who
    match = people[people["name"].fillna("").str.casefold() == who.strip().casefold()]
    if len(match) == 1:
        return str(match["person_id"].iat[0])
    raise UnknownNameError("person", who, sorted(people["name"].dropna()))


def resolve_kind(data: TempoData, team: str, kind: str) -> str:
    """A deliverable the team has a target for or has shipped; anything else is likely a typo."""
    mine = data.targets[data.targets["team"] == team]
    known = sorted(set(mine["deliverable"]) | set(data.shipments.loc[data.shipments["team"] == team, "deliverable"]))
    if kind in known:
        return kind
    if known and difflib.get_close_matches(kind, known, n=1):
        raise UnknownNameError(f"deliverable of {team}", kind, known)
    raise InputError(f"{team} has no tempo target for {kind!r}",
                     hint=f"say what good looks like first: cadence tempo target set {team!r} {kind} COUNT --per month")


def record_shipment(ws: Workspace, team: str, deliverable: str, title: str, *, shipped_at: datetime,
                    owner: str | None = None, size: str | None = None, link: str | None = None,
                    unplanned: bool | None = None) -> str:
    """Log one shipment; the same team, deliverable, title and time again updates it. Returns its id."""
    data = load_tempo(ws)
    team = resolve_team(ws, data, team)
    deliverable = resolve_kind(data, team, deliverable)
    shipment_id = f"manual-{_key(team, deliverable, title.strip(), shipped_at.isoformat())}"
    _write(ws, "shipments", {
        "shipment_id": shipment_id, "team": team, "deliverable": deliverable, "title": title,
        "owner_id": resolve_person(data, owner), "shipped_at": shipped_at.isoformat(),
        "size": (size or "").strip().lower() or None, "link": link, "unplanned": unplanned,
    }, "tempo-ship", shipment_id)
    return shipment_id


def set_target(ws: Workspace, team: str, deliverable: str, count: int, period: str, *, valid_from: date,
               size: str | None = None) -> None:
    """A new version of a team's target, from `valid_from` on; earlier periods keep the target they had."""
    data = load_tempo(ws)
    team = resolve_team(ws, data, team, new=True)
    size_text, deliverable = (size or "").strip().lower(), deliverable.strip()
    with ws.warehouse.transaction():
        if not size_text:  # an unsized version stored with an empty size (NULL) is the same version
            ws.warehouse.execute('DELETE FROM tempo_targets WHERE team = ? AND deliverable = ? AND valid_from = ? '
                                 'AND size IS NULL', (team, deliverable, valid_from))
        _write(ws, "tempo_targets", {"team": team, "deliverable": deliverable, "count": count, "period": period,
                                     "size": size_text, "valid_from": valid_from.isoformat()},
               "tempo-target", _key(team, deliverable, size_text, valid_from))


def record_review(ws: Workspace, team: str, deliverable: str, *, cause: str, action: str, owner: str | None,
                  due: date, period: str | None = None, size: str | None = None,
                  today: date | None = None) -> str:
    """Record the gap conversation for a track's period (default: the latest one missed or at risk).

    The gap's target and actual are read from the tempo status, not typed in; `today` is the day of the
    review (default: today). Returns the review id.
    """
    data = load_tempo(ws)
    team = resolve_team(ws, data, team)
    track = Track(team, deliverable, (size or "").strip().lower())
    if track not in set(tracks(data)):
        raise UnknownNameError(f"tempo target of {team}", track.label,
                               [t.label for t in tracks(data) if t.team == team] or ["(none)"])
    as_of = board_as_of(ws, data, today or date.today())  # a review is held now: the real clock, unless given
    status = track_status(data, track, ws.calendar, as_of)
    chosen = _period_for(status.periods, under_review(status, as_of), period)
    now = datetime.now(UTC).replace(tzinfo=None)
    if today is not None:  # a review held (or back-filled) on another day is recorded on that day
        now = datetime.combine(today, now.time())
    review_id = f"GR-{_key(team, track.label, chosen.label, now.isoformat())}"
    _write(ws, "gap_reviews", {
        "review_id": review_id, "team": team, "period": chosen.label, "metric": track.label,
        "target": chosen.target, "actual": chosen.actual, "cause": cause, "action": action,
        "owner_id": resolve_person(data, owner), "due": due.isoformat(), "status": "open",
        "created_at": now.isoformat(),
    }, "tempo-review", review_id)
    return review_id


def _period_for(periods: list[Any], reviewed: list[Any], label: str | None) -> Any:
    if label is None:
        missing = [p for p in reviewed if p.status in ("missed", "at_risk")]
        if not reviewed:
            raise InputError("this track has no period yet", hint="its target starts later; pass --period")
        return (missing or reviewed)[-1]
    for candidate in periods:
        if candidate.label.upper() == label.strip().upper():
            return candidate
    raise UnknownNameError("period of this track", label, [p.label for p in periods[-12:]])


def close_review(ws: Workspace, review_id: str) -> None:
    """Mark a review's action done (next week's review then shows whether the gap closed)."""
    reviews = ws.table("gap_reviews")
    found = reviews.filter(reviews.review_id == review_id).to_pandas()
    if found.empty:
        known = ws.table("gap_reviews").review_id.to_pandas().tolist()
        raise UnknownNameError("gap review", review_id, known)
    row = found.iloc[0].to_dict()
    row.update(status="done", due=_iso(row["due"]), created_at=_iso(row["created_at"]), source=None)
    _write(ws, "gap_reviews", {k: v for k, v in row.items() if k != "source"}, "tempo-review", review_id)


def _iso(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()
