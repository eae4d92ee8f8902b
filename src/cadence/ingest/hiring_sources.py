"""Interview scores: Greenhouse scorecard exports and a plain CSV (a score typed by hand is a hand entry:
`cadence.hiring_ops.enter_score`).

Every source becomes `interview_scores` rows (candidate, interviewer, criterion, 1–10 score); the shared
validation refuses a 0, an 11 or a word where a score should be, and quarantines the row with the reason.

**Greenhouse** (`--from greenhouse`). Greenhouse keeps one scorecard per interviewer and interview, with a
rating per attribute (Harvest API `scorecards[].attributes[]`: name, type, rating; the BI Connector's
`scorecards_attributes`: attribute_name, rating). Its scorecard report exports that flat, one row per
rating. The columns read (any letter case; the first of each list that is present):

| canonical | Greenhouse column |
|---|---|
| candidate_id | Candidate ID |
| interviewer_id | Interviewer ID, else Interviewer (the name: keep names unique, or export the ID) |
| criterion | Attribute (Attribute Name): "Work Ethic" → `work_ethic` |
| score | Rating |
| interviewed_at | Interview Date, else Scorecard Submitted (Submitted At) |
| candidates.name, role | Candidate Name, Job |
| candidates.status, person_id | Application Status, Employee ID — optional |

Greenhouse rates on five points — Definitely Not, No, Mixed, Yes, Strong Yes — which are read as 2, 4, 6, 8
and 10 on Cadence's 1–10 scale; a number (a custom 1–10 rating) is kept as it is. "No Decision" is not a
score: such a row is quarantined with that reason, so what was read still equals loaded + quarantined.
The exact header of Greenhouse's CSV was not available to check against; the names above follow its API
and BI Connector, and a file missing a required column is refused with the header it has.

**Plain CSV** (`--from interview-scores`): columns candidate_id (or candidate), interviewer_id (or
interviewer), criterion, score; optionally interviewed_at (or date), candidate_name, role, status,
person_id.

Candidate rows are written only when the file says something a candidate row must keep — a status or
a person_id — because a candidate row is replaced whole on import and would otherwise lose the status
and person_id another import gave it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from cadence.errors import InputError, Location
from cadence.ingest.batch import LINE, CanonicalFrame, ImportBatch, ImportOptions, SourceFile, problem
from cadence.ingest.readers import TABULAR_SUFFIXES, read_table, require_columns

GREENHOUSE_RATINGS = {"definitely_not": "2", "no": "4", "mixed": "6", "yes": "8", "strong_yes": "10"}
NOT_A_SCORE = {"no_decision"}
GREENHOUSE_STATUSES = {"active": "interviewing", "hired": "hired", "rejected": "rejected",
                       "converted": "interviewing"}

Aliases = tuple[str, ...]
GREENHOUSE: dict[str, Aliases] = {
    "candidate_id": ("Candidate ID",),
    "interviewer_id": ("Interviewer ID", "Submitted By ID", "Interviewer"),
    "criterion": ("Attribute", "Attribute Name"),
    "score": ("Rating", "Attribute Rating"),
    "interviewed_at": ("Interview Date", "Interviewed At", "Scorecard Submitted", "Submitted At"),
    "name": ("Candidate Name", "Candidate"),
    "role": ("Job", "Job Name"),
    "status": ("Application Status", "Candidate Status"),
    "person_id": ("Employee ID",),
}
PLAIN: dict[str, Aliases] = {
    "candidate_id": ("candidate_id", "candidate"),
    "interviewer_id": ("interviewer_id", "interviewer"),
    "criterion": ("criterion",),
    "score": ("score",),
    "interviewed_at": ("interviewed_at", "date"),
    "name": ("candidate_name", "name"),
    "role": ("role",),
    "status": ("status",),
    "person_id": ("person_id",),
}
REQUIRED = ("candidate_id", "interviewer_id", "criterion", "score")


def criterion_name(text: str) -> str:
    """'Work Ethic' → 'work_ethic': the snake_case name cadence.yml's criteria use."""
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def greenhouse_rating(value: str) -> str:
    """A Greenhouse rating as a 1–10 score (text the scale does not know is left for validation to refuse)."""
    key = criterion_name(value)
    return GREENHOUSE_RATINGS.get(key, value.strip())


def _pick(source: pd.DataFrame, aliases: Mapping[str, Aliases]) -> dict[str, str]:
    """canonical name → the source column used for it (case-insensitive), for those present."""
    by_lower = {str(c).strip().lower(): str(c) for c in source.columns}
    picked = {}
    for canonical, names in aliases.items():
        found = next((by_lower[n.lower()] for n in names if n.lower() in by_lower), None)
        if found is not None:
            picked[canonical] = found
    return picked


def _text(values: pd.Series) -> pd.Series:
    return values.astype("object").fillna("").map(lambda v: str(v).strip())


def scores_batch(source: pd.DataFrame, file: str, batch: ImportBatch, aliases: Mapping[str, Aliases], *,
                 greenhouse: bool) -> None:
    """Add one file's interview_scores (primary) and, when the file carries them, its candidates (derived)."""
    picked = _pick(source, aliases)
    missing = [aliases[c][0] for c in REQUIRED if c not in picked]
    if missing:
        require_columns(source, missing, Path(file))
    column = {c: _text(source[picked[c]]) for c in picked}
    raw_score = column["score"]
    frame = pd.DataFrame({
        "candidate_id": column["candidate_id"],
        "interviewer_id": column["interviewer_id"],
        "criterion": column["criterion"].map(criterion_name),
        "score": raw_score.map(greenhouse_rating) if greenhouse else raw_score,
        "interviewed_at": column.get("interviewed_at", pd.Series("", index=source.index)),
        LINE: source[LINE],
    })
    undecided = raw_score.map(criterion_name).isin(NOT_A_SCORE)
    problem(frame, undecided, "score", "no decision is not a score: the interviewer did not rate this attribute")
    batch.add(CanonicalFrame("interview_scores", frame, file))
    if "status" in picked or "person_id" in picked:
        batch.add(CanonicalFrame("candidates", _candidates(source, column, greenhouse), file, primary=False))


def _candidates(source: pd.DataFrame, column: dict[str, pd.Series], greenhouse: bool) -> pd.DataFrame:
    blank = pd.Series("", index=source.index)
    status = column.get("status", blank).str.lower()
    if greenhouse:
        status = status.map(lambda s: GREENHOUSE_STATUSES.get(s, s))
    name = column.get("name", blank)
    frame = pd.DataFrame({
        "candidate_id": column["candidate_id"],
        "name": name.where(name != "", column["candidate_id"]),
        "role": column.get("role", blank),
        "status": status,
        "person_id": column.get("person_id", blank),
        LINE: source[LINE],
    })
    return frame[frame["candidate_id"] != ""].drop_duplicates("candidate_id", keep="last")


class _ScoresImporter:
    aliases: Mapping[str, Aliases] = PLAIN
    greenhouse = False
    description = ""

    def __init__(self, name: str) -> None:
        self.name = name

    def read(self, path: Path, options: ImportOptions) -> ImportBatch:
        batch = ImportBatch(self.name)
        for file in _files(path):
            source = read_table(file, encoding=options.encoding, progress=options.progress)
            batch.files.append(SourceFile.of(str(file), source))
            scores_batch(source, str(file), batch, self.aliases, greenhouse=self.greenhouse)
        return batch


class InterviewScoresImporter(_ScoresImporter):
    """A CSV (or Excel/Parquet) of candidate, interviewer, criterion and 1–10 score."""

    description = "Interview scores: candidate_id, interviewer_id, criterion, score (1–10)"


class GreenhouseImporter(_ScoresImporter):
    """Greenhouse's scorecard export: one row per interviewer's rating of one attribute."""

    aliases = GREENHOUSE
    greenhouse = True
    description = "Greenhouse scorecard exports (Candidate ID, Interviewer, Attribute, Rating)"


def _files(path: Path) -> list[Path]:
    if not path.exists():
        raise InputError("no such file or folder", location=Location(str(path)))
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in TABULAR_SUFFIXES
                   and not p.name.startswith("."))
    if not files:
        raise InputError("no CSV, Excel or Parquet files here", location=Location(str(path)))
    return files
