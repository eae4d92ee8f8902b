"""Turn an importer's batch into rows ready to load and rows to quarantine, and reconcile.

The reconciliation is an invariant, not a report: for every file, records read must equal
records loaded plus records quarantined, or the import stops before touching the warehouse.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cadence.errors import CadenceError
from cadence.ingest.batch import BINARY, LINE, CanonicalFrame, ImportBatch, SourceFile, problem
from cadence.ingest.snapshots import Snapshot, SnapshotOutcome, make_snapshot
from cadence.ingest.stage_inference import INFERRED, inferred_rows, pipelines_to_configure
from cadence.schema.key_ledger import KeyLedger
from cadence.schema.tables import table_named
from cadence.schema.validate import validate_rows

DEFAULT_PIPELINE = "default"
QUARANTINE_COLUMNS = table_named("quarantine").column_names


@dataclass
class TableCounts:
    loaded: int = 0
    quarantined: int = 0


@dataclass
class FileOutcome:
    path: str
    import_key: str
    read: int
    loaded: int
    quarantined: int
    encoding: str | None = None  # a text file's encoding, BINARY for Excel/Parquet, None when not a file


@dataclass
class PreparedImport:
    """Everything one import will write, decided before the warehouse is touched."""

    format: str
    files: list[FileOutcome]
    upserts: list[tuple[str, pd.DataFrame, str | None]]  # table, typed rows, replace_on
    quarantine: pd.DataFrame
    tables: dict[str, TableCounts] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # files of a folder not imported, and why
    full: bool = False  # the export is the whole table (see snapshots.py)
    snapshots: list[Snapshot] = field(default_factory=list)  # full exports of deals
    snapshot_outcome: SnapshotOutcome | None = None  # filled when loaded
    inferred: list[dict[str, object]] = field(default_factory=list)  # stages inferred (stage_inference.py)
    configure: dict[str, list[dict[str, object]]] = field(default_factory=dict)  # for cadence.yml `pipelines:`
    changed: bool | None = None  # once loaded: whether the warehouse's rows changed (False: all already there as is)

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def encoding(self) -> str | None:
        """The text files' encoding: one name, or the distinct ones in file order joined by ', '."""
        text = list(dict.fromkeys(f.encoding for f in self.files if f.encoding and f.encoding != BINARY))
        if text:
            return ", ".join(text)
        return BINARY if any(f.encoding == BINARY for f in self.files) else None

    def imports_frame(self, now: datetime) -> pd.DataFrame:
        return pd.DataFrame([
            {"import_key": f.import_key, "format": self.format, "path": f.path, "read": f.read,
             "loaded": f.loaded, "quarantined": f.quarantined, "imported_at": now}
            for f in self.files
        ])

    def summary(self) -> dict[str, Any]:
        """The reconciliation, as `cadence ingest --format json` prints it."""
        return {
            "format": self.format,
            "read": self.read,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "encoding": self.encoding,
            "tables": {name: {"loaded": c.loaded, "quarantined": c.quarantined}
                       for name, c in sorted(self.tables.items())},
            "files": [{"path": f.path, "read": f.read, "loaded": f.loaded, "quarantined": f.quarantined,
                       "encoding": f.encoding} for f in self.files],
            "skipped": [{"path": path, "reason": reason} for path, reason in self.skipped],
            "inferred": self.inferred,
            **({"changed": self.changed} if self.changed is not None else {}),
            **({"full": self._full_summary()} if self.full else {}),
        }

    def _full_summary(self) -> dict[str, Any]:
        outcome = self.snapshot_outcome or SnapshotOutcome()
        return {"exports": [s.as_dict() for s in self.snapshots], **outcome.as_dict(),
                "deleted_ids": outcome.deleted[:20]}


def import_key(format_name: str, path: str) -> str:
    """The format and the file's absolute path; an API source (`salesforce://Opportunity#run`) as it is."""
    return f"{format_name}:{path if '://' in path else Path(path).resolve()}"


def _apply_stage_rules(frame: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Fill is_won/is_closed from the stage's markers and refuse stages no pipeline declares."""
    frame = frame.copy()
    pipeline = frame["pipeline"] if "pipeline" in frame else pd.Series(None, index=frame.index, dtype="object")
    frame["pipeline"] = pipeline.astype("object").where(pipeline.notna() & (pipeline.astype("object") != ""),
                                                        DEFAULT_PIPELINE)
    markers = {(p, s): (bool(w), bool(lo))
               for p, s, w, lo in stages[["pipeline", "stage", "is_won", "is_lost"]].itertuples(index=False)}
    # each distinct (pipeline, stage) pair is looked up once: a CRM has a few dozen, a file millions of rows
    pair, keys = _distinct_pairs(frame["pipeline"], frame["stage"].astype("object"),
                                 lambda v: v.strip() if isinstance(v, str) else v)
    known = pd.Series(np.array([k in markers for k in keys], dtype=bool)[pair], index=frame.index)
    # rows with an unknown stage are refused for that reason alone, not also for missing flags
    won = pd.Series(_objects([markers.get(k, (False, False))[0] for k in keys])[pair], index=frame.index,
                    dtype="object")
    lost = pd.Series(_objects([markers.get(k, (False, False))[1] for k in keys])[pair], index=frame.index,
                     dtype="object")
    closed = won.astype(bool) | lost.astype(bool)
    for column, derived in (("is_won", won), ("is_closed", closed)):
        given = frame[column] if column in frame else pd.Series(None, index=frame.index, dtype="object")
        empty = given.isna() | (given.astype("object") == "")
        frame[column] = given.astype("object").where(~empty, derived)
    has_stage = frame["stage"].notna() & (frame["stage"].astype("object") != "")
    pipelines = sorted({p for p, _ in keys})
    problem(frame, has_stage & ~known, "stage",
            f"not a stage of pipeline {'/'.join(pipelines)}: declare it in cadence.yml `stages` "
            "or map it in the import's mapping file")
    return frame


def _distinct_pairs(first: pd.Series, second: pd.Series, clean: Callable[[Any], Any]
                    ) -> tuple[np.ndarray, list[tuple[Any, Any]]]:
    """Each row's pair (first value, `clean` of the second) as a number, and the distinct pairs it numbers."""
    first_codes, first_values = pd.factorize(first, use_na_sentinel=False)
    second_codes, second_values = pd.factorize(second, use_na_sentinel=False)
    combined = first_codes.astype(np.int64) * max(len(second_values), 1) + second_codes
    pair, distinct = pd.factorize(combined)
    width = max(len(second_values), 1)
    keys = [(first_values[int(code) // width], clean(second_values[int(code) % width])) for code in distinct]
    return pair, keys


def _objects(values: list[Any]) -> np.ndarray:
    """`values` as an array of Python objects (booleans stay Python's True and False)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def prepare(batch: ImportBatch, known_stages: pd.DataFrame, *, now: datetime | None = None,
            full: bool = False) -> PreparedImport:
    """Validate every frame of `batch`; `known_stages` has pipeline, stage, is_won, is_lost.

    `full`: the batch's deals exports are whole tables (snapshots, see snapshots.py).
    """
    return Preparer(known_stages, now=now, full=full).add(batch)


class Preparer:
    """Prepares an import one batch at a time: a whole import, or each chunk of a file read in chunks.

    Between batches it remembers the stages declared so far (opportunities use them) and, per file and table,
    the keys already seen (`KeyLedger`), so a key repeated in a later chunk is quarantined as a duplicate just as
    in one frame. Each batch is reconciled on its own: a chunk's records are loaded or quarantined, none both.
    """

    def __init__(self, known_stages: pd.DataFrame, *, now: datetime | None = None, full: bool = False,
                 chunked: bool = False, folder: Path | None = None):
        """`chunked`: batches are chunks of files (keys remembered between them, past a few million keys in
        files written to `folder`)."""
        self.now = now or datetime.now(UTC).replace(tzinfo=None)
        self.full = full
        self.stages = known_stages[["pipeline", "stage", "is_won", "is_lost"]]
        self._ledgers: dict[tuple[str, str], KeyLedger] | None = {} if chunked else None
        self._folder = folder

    def _ledger(self, item: CanonicalFrame, files: set[str]) -> KeyLedger | None:
        if self._ledgers is None:
            return None
        for stale in [k for k in self._ledgers if k[0] not in files]:  # a file's chunks come one after another
            self._ledgers.pop(stale).close()
        if (item.file, item.table) not in self._ledgers:
            self._ledgers[item.file, item.table] = KeyLedger(self._folder)
        return self._ledgers[item.file, item.table]

    def close(self) -> None:
        """Let go of the keys remembered (and their files)."""
        for ledger in (self._ledgers or {}).values():
            ledger.close()
        if self._ledgers is not None:
            self._ledgers = {}

    def add(self, batch: ImportBatch) -> PreparedImport:
        """Validate every frame of `batch` (see `prepare`)."""
        now, full = self.now, self.full
        upserts: list[tuple[str, pd.DataFrame, str | None]] = []
        quarantined: list[pd.DataFrame] = []
        tables: dict[str, TableCounts] = {}
        bad_primary: dict[str, set[int]] = {}
        good_primary: dict[str, list[np.ndarray]] = {}  # per file, the lines of its records loaded
        inferred: list[dict[str, object]] = []
        configure: dict[str, list[dict[str, object]]] = {}
        snapshots: list[Snapshot] = []

        # stages first (opportunities use them), then primary records, then the parts derived from them
        ordered = sorted(batch.frames, key=lambda f: (f.table != "stages", not f.primary))
        in_batch = {f.file for f in batch.frames}
        for item in ordered:
            frame = _with_source(item, batch.format)
            if not item.primary and item.replace_on and bad_primary.get(item.file):
                # a part of a refused record (e.g. the history of a refused deal) is refused with it
                refused = frame[LINE].astype(int).isin(bad_primary[item.file])
                frame = frame.copy()
                problem(frame, refused, item.replace_on, "its source record on the same line was refused")
            if item.table == "opportunities":
                frame = _apply_stage_rules(frame, self.stages)
            if item.table == "stages" and INFERRED in frame:
                inferred += inferred_rows(frame)
                configure.update(pipelines_to_configure(frame))
            checked = validate_rows(table_named(item.table), frame, seen=self._ledger(item, in_batch))
            if full and item.table == "opportunities" and item.primary:
                snapshots.append(make_snapshot(item.file, frame["opportunity_id"], checked.clean))
            if item.table == "stages" and len(checked.clean):
                self.stages = pd.concat([self.stages, checked.clean[["pipeline", "stage", "is_won", "is_lost"]]]) \
                    .drop_duplicates(["pipeline", "stage"], keep="last")
            counts = tables.setdefault(item.table, TableCounts())
            counts.loaded += len(checked.clean)
            counts.quarantined += len(checked.bad_lines)
            if len(checked.clean):
                upserts.append((item.table, checked.clean, item.replace_on))
            if len(checked.problems):
                quarantined.append(_quarantine_rows(checked.problems, item, batch.format, now))
            if item.primary:
                bad_lines = checked.bad_lines
                bad_primary.setdefault(item.file, set()).update(bad_lines)
                lines = frame[LINE].astype(int).to_numpy(dtype=np.int64)
                if bad_lines:
                    lines = lines[~np.isin(lines, np.fromiter(bad_lines, dtype=np.int64, count=len(bad_lines)))]
                good_primary.setdefault(item.file, []).append(lines)

        for source in (f for f in batch.files if f.broken):
            broken = _broken_lines(source, batch, now)
            quarantined.append(broken)
            bad_primary.setdefault(source.path, set()).update(broken["line"])
            if broken["target_table"].iloc[0]:
                tables.setdefault(broken["target_table"].iloc[0], TableCounts()).quarantined += len(broken)
        files = [_reconcile(f, batch.format, good_primary, bad_primary) for f in batch.files]
        quarantine = pd.concat(quarantined, ignore_index=True) if quarantined \
            else pd.DataFrame(columns=QUARANTINE_COLUMNS)
        quarantine = quarantine.drop_duplicates(["import_key", "line", "target_table", "column_name"])
        return PreparedImport(batch.format, files, upserts, quarantine, tables, list(batch.skipped), full=full,
                              snapshots=snapshots, inferred=inferred, configure=configure)


def _with_source(item: CanonicalFrame, format_name: str) -> pd.DataFrame:
    frame = item.frame
    if "source" not in frame or frame["source"].isna().all():
        frame = frame.assign(source=format_name)
    if LINE not in frame:
        frame = frame.assign(**{LINE: range(2, len(frame) + 2)})
    return frame


def _quarantine_rows(problems: pd.DataFrame, item: CanonicalFrame, format_name: str, now: datetime) -> pd.DataFrame:
    return pd.DataFrame({
        "import_key": import_key(format_name, item.file),
        "file": item.file,
        "line": problems["line"].astype(int),
        "target_table": item.table,
        "column_name": problems["column_name"].fillna(""),
        "value": problems["value"],
        "reason": problems["reason"],
        "row_json": problems["row_json"],
        "quarantined_at": now,
    })


def _broken_lines(source: SourceFile, batch: ImportBatch, now: datetime) -> pd.DataFrame:
    """A file's broken lines as quarantine rows of its main table (its primary frame's, else its first frame's)."""
    frames = [f for f in batch.frames if f.file == source.path]
    main = next((f for f in frames if f.primary), frames[0] if frames else None)
    broken = source.broken
    return pd.DataFrame({
        "import_key": import_key(batch.format, source.path), "file": source.path,
        "line": pd.Series([b.line for b in broken], dtype="int64"),
        "target_table": main.table if main else "", "column_name": "",
        "value": [b.raw if len(b.raw) <= 200 else b.raw[:199] + "…" for b in broken],
        "reason": [b.reason for b in broken],
        "row_json": [json.dumps({"raw": b.raw}, ensure_ascii=False) for b in broken],
        "quarantined_at": now,
    }, columns=QUARANTINE_COLUMNS)


def _reconcile(source: SourceFile, format_name: str, good: dict[str, list[np.ndarray]],
               bad: dict[str, set[int]]) -> FileOutcome:
    """Every record and broken line of `source` loaded or quarantined, and none both."""
    path = source.path
    loaded = _distinct(np.concatenate(good[path])) if good.get(path) else np.empty(0, dtype=np.int64)
    refused = _distinct(_array(bad.get(path, set())))
    records = _array(source.lines) if source.lines is not None else np.arange(2, source.rows + 2, dtype=np.int64)
    expected = _distinct(np.concatenate([records, _array({b.line for b in source.broken})]))
    # loaded and refused hold no line twice each: together they are `expected` exactly when they hold every
    # line of it once, which is every line loaded or quarantined and none both
    together = np.sort(np.concatenate([loaded, refused]))
    if len(together) != len(expected) or not np.array_equal(together, expected):
        missing = sorted(set(expected.tolist()) - set(loaded.tolist()) - set(refused.tolist()))[:5]
        raise CadenceError(
            f"import of {path} does not reconcile: {source.read} records read, {len(loaded)} loaded, "
            f"{len(refused)} quarantined (unaccounted lines: {missing})",
            hint="this is a bug in the importer; nothing was written",
        )
    return FileOutcome(path, import_key(format_name, path), source.read, len(loaded), len(refused), source.encoding)


def _array(lines: set[int] | frozenset[int]) -> np.ndarray:
    return np.fromiter(lines, dtype=np.int64, count=len(lines))


def _distinct(lines: np.ndarray) -> np.ndarray:
    """`lines` sorted, each once (lines come in order, or in a few ordered runs: a merge sort takes them fast)."""
    lines = np.sort(lines, kind="stable")
    return lines[np.r_[True, lines[1:] != lines[:-1]]] if len(lines) else lines
