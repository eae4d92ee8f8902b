"""A pipeline's stages when an export does not say which are closed, won or lost, or their order.

The rules, stated once (importers call `declare_stages`; `cadence check` calls `name_says`):

- **cadence.yml first.** A pipeline listed under `pipelines:` in cadence.yml keeps that list: its
  order, won/lost and probabilities. A stage the data has and the list lacks is inferred as below
  and added to it (open stages after the listed open ones, closed ones at the end).
- **What the export says next**: won/lost flags its deals carry (Salesforce `IsWon`/`IsClosed`,
  HubSpot "Is Closed Won"/"Is closed lost"), an explicit order (`StageSortOrder`), probabilities.
- **Else the name.** "Closed Won", "Won", "Ganada", "Cerrada ganada", "Fechado ganho", "Gewonnen"
  are won; "Closed Lost", "Lost", "Perdida", "Verloren", "Abandoned", "Closed: abandoned",
  "Disqualified", "Dead" are lost; any other name that says closed ("Closed …", "Cerrada …",
  "Fechado …") is closed and not won, so lost — unless its history shows deals leaving it, which
  makes it open.
- **Else the history.** A stage at least `TERMINAL_DEALS` deals entered, none left, and which
  deals reached from at least two different stages is a dead end: closed, taken as lost.
- **Order of open stages**: the explicit order, else probability, else the forecast category its
  deals carry (Pipeline → Best Case → Commit), else the median position at which deals first
  entered it in their history, else the median Create Date of its deals (newest first: deals
  further along are older), else the order the export first shows it. Won stages follow, then
  lost ones.

Whatever was inferred (closed-ness from a name or history, an order not given by the export) is
returned with the reason, for the import summary and for cadence.yml, where the user corrects it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from cadence.config import Stage

Outcome = Literal["won", "lost", "closed"]
TERMINAL_DEALS = 3
INFERRED = "_inferred"  # column of a stages frame: why a stage was inferred (None when the export said)

_WON = {"won", "win", "ganada", "ganado", "ganho", "ganha", "gewonnen", "gagne", "gagnee", "vinta", "vinto",
        "closedwon"}
_LOST = {"lost", "perdida", "perdido", "perdu", "perdue", "verloren", "perso", "persa", "abandoned", "abandonada",
         "abandonado", "dead", "disqualified", "descalificada", "descalificado", "descartada", "descartado",
         "rejected", "rechazada", "rechazado", "cancelled", "canceled", "cancelada", "cancelado", "churned",
         "closedlost"}
_CLOSED = {"closed", "cerrada", "cerrado", "fechado", "fechada", "geschlossen", "abgeschlossen", "ferme", "fermee",
           "chiuso", "chiusa"}
FORECAST_RANK = {"pipeline": 1, "best case": 2, "bestcase": 2, "commit": 3}


def _words(name: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return [w for w in re.split(r"[^a-z]+", plain) if w]


def name_says(name: object) -> Outcome | None:
    """'won', 'lost' or 'closed' (closed, neither won nor lost) when the stage's name says so, else None."""
    if not isinstance(name, str):
        return None
    words = set(_words(name)) | {"".join(_words(name))}
    won, lost = bool(words & _WON), bool(words & _LOST)
    if won != lost:
        return "won" if won else "lost"
    return "closed" if words & _CLOSED and not won else None


@dataclass(frozen=True)
class StageFacts:
    """What an export says of one stage of one pipeline (None: it does not say)."""

    pipeline: str
    stage: str
    appearance: int  # order in which the export first shows the stage
    won: bool | None = None
    lost: bool | None = None
    order: float | None = None  # explicit order (StageSortOrder)
    probability: float | None = None
    forecast: str | None = None  # the forecast category its deals carry most
    created: float | None = None  # median creation time (epoch seconds) of the deals in it now


@dataclass
class Declared:
    """One stage as declared, with why whatever was not said was decided so."""

    pipeline: str
    stage: str
    won: bool
    lost: bool
    probability: float | None
    position: int = 0
    why: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return "won" if self.won else "lost" if self.lost else "open"


def declare_stages(facts: list[StageFacts], history: pd.DataFrame | None = None,
                   configured: dict[str, list[Stage]] | None = None, *, keep_listed: bool = False) -> pd.DataFrame:
    """The `stages` rows of every pipeline in `facts`, with an `INFERRED` column (reason, or None).

    `history` has pipeline, opportunity_id, stage, changed_at (any order); it may be empty. With
    `keep_listed`, the stages cadence.yml lists for a pipeline are declared even when the data has none.
    """
    configured = configured or {}
    moves = _moves(history)
    rows: list[Declared] = []
    for pipeline in dict.fromkeys(f.pipeline for f in facts):
        mine = [f for f in facts if f.pipeline == pipeline]
        if keep_listed:
            seen = {f.stage for f in mine}
            mine += [StageFacts(pipeline, s.name, len(facts) + i) for i, s in enumerate(configured.get(pipeline, []))
                     if s.name not in seen]
        path = moves[moves["pipeline"] == pipeline] if len(moves) else moves
        rows += _pipeline(mine, path, configured.get(pipeline))
    frame = pd.DataFrame([{
        "pipeline": d.pipeline, "stage": d.stage, "position": d.position, "probability": d.probability,
        "is_won": d.won, "is_lost": d.lost, INFERRED: "; ".join(d.why) or None} for d in rows],
        columns=["pipeline", "stage", "position", "probability", "is_won", "is_lost", INFERRED])
    frame["_line"] = range(2, len(frame) + 2)
    return frame


def _pipeline(facts: list[StageFacts], moves: pd.DataFrame, configured: list[Stage] | None) -> list[Declared]:
    """The stages of one pipeline the data uses; cadence.yml's list, when given, decides for those it names
    and orders them (the others are inferred and placed among them)."""
    listed = {s.name: (i, s) for i, s in enumerate(configured or [])}
    declared, fact_of = [], {}
    for fact in facts:
        if fact.stage in listed:
            index, stage = listed[fact.stage]
            said = stage.probability if "probability" in stage.model_fields_set else fact.probability
            declared.append(Declared(fact.pipeline, fact.stage, stage.won, stage.lost, said))
            fact_of[fact.stage] = replace(fact, order=float(index))
            continue
        declared.append(_closedness(fact, moves))
        if configured:
            declared[-1].why.insert(0, "not in cadence.yml's list")
        fact_of[fact.stage] = replace(fact, order=None) if configured else fact
    rank = _entry_rank(moves)
    ordered = _order_open([d for d in declared if not (d.won or d.lost)], fact_of, rank)
    closed = sorted([d for d in declared if d.won or d.lost],
                    key=lambda d: (not d.won, _or_inf(fact_of[d.stage].order), fact_of[d.stage].appearance))
    result = ordered + closed
    for position, d in enumerate(result, start=1):
        d.position = position
    return result


def _closedness(fact: StageFacts, moves: pd.DataFrame) -> Declared:
    """Won/lost as the export says, else as the name says, else as the history shows."""
    declared = Declared(fact.pipeline, fact.stage, bool(fact.won), bool(fact.lost) and not fact.won,
                        fact.probability)
    if fact.won or fact.lost is not None:
        return declared
    said, left, sources, entered = name_says(fact.stage), *_exits(moves, fact.stage)
    if said == "won" and fact.won is False:
        declared.why.append("open: the name says won, but its deals are not won")
    elif said == "closed" and left:
        declared.why.append(f"the name says closed, but {left} deal(s) left it: open")
    elif said in ("won", "lost"):
        declared.won, declared.lost = said == "won", said == "lost"
        declared.why.append(f"{said}: the name says so")
    elif said == "closed":
        declared.lost = True
        declared.why.append("lost: the name says closed and not won")
    elif entered >= TERMINAL_DEALS and not left and sources >= 2:
        declared.lost = True
        declared.why.append(f"lost: {entered} deals entered it from {sources} different stages and none left")
    else:
        declared.why.append("open: its name and history do not say closed")
    return declared


def _order_open(stages: list[Declared], fact_of: dict[str, StageFacts], rank: dict[str, float]) -> list[Declared]:
    """Open stages in order: by the export's order where it gives one; a stage without one (no deal sits in it
    to carry `StageSortOrder`) goes after the last ordered stage its signals place it after."""
    if any(fact_of[d.stage].created is None for d in stages):  # deal age only ranks stages that all have deals
        fact_of = {name: replace(fact, created=None) for name, fact in fact_of.items()}
    anchors = sorted([d for d in stages if fact_of[d.stage].order is not None],
                     key=lambda d: _open_key(fact_of[d.stage], rank))
    others = sorted([d for d in stages if fact_of[d.stage].order is None],
                    key=lambda d: _open_key(fact_of[d.stage], rank))
    slots: list[list[Declared]] = [[] for _ in range(len(anchors) + 1)]
    for d in others:
        slot, why = _slot(fact_of[d.stage], [fact_of[a.stage] for a in anchors], rank)
        slots[slot].append(d)
        if why and anchors:
            after = f"after {anchors[slot - 1].stage}" if slot else f"before {anchors[0].stage}"
            d.why.append(f"placed {after} by {why} (the export gives it no order)")
        else:
            _say_order(d, fact_of[d.stage], rank)
    return [d for i, slot_stages in enumerate(slots)
            for d in [*slot_stages, *([anchors[i]] if i < len(anchors) else [])]]


def _signals(fact: StageFacts, rank: dict[str, float]) -> dict[str, float | None]:
    forecast = FORECAST_RANK.get((fact.forecast or "").strip().lower())
    return {"probability": fact.probability, "when deals first enter it": rank.get(fact.stage),
            "forecast category": None if forecast is None else float(forecast),
            "the age of its deals": None if fact.created is None else -fact.created}


def _slot(fact: StageFacts, anchors: list[StageFacts], rank: dict[str, float]) -> tuple[int, str | None]:
    """How many of the ordered `anchors` come before `fact`, by the first signal both have; and which."""
    mine = _signals(fact, rank)
    for name, value in mine.items():
        theirs = [_signals(a, rank)[name] for a in anchors]
        if value is None or all(t is None for t in theirs):
            continue
        before = [i + 1 for i, t in enumerate(theirs) if t is not None and t <= value]
        return (max(before) if before else 0), name
    return len(anchors), None


def _open_key(fact: StageFacts, rank: dict[str, float]) -> tuple[float, ...]:
    forecast = FORECAST_RANK.get((fact.forecast or "").strip().lower(), np.inf)
    newest_first = -fact.created if fact.created is not None else np.inf  # deals further along are older
    return (_or_inf(fact.order), _or_inf(fact.probability), float(forecast), rank.get(fact.stage, np.inf),
            newest_first, float(fact.appearance))


def _say_order(declared: Declared, fact: StageFacts, rank: dict[str, float]) -> None:
    """Say how an open stage was placed when the export gives neither an order nor a probability."""
    if fact.order is not None or fact.probability is not None:
        return
    signs = []
    if FORECAST_RANK.get((fact.forecast or "").strip().lower()):
        signs.append(f"forecast category ({fact.forecast})")
    if fact.stage in rank:
        signs.append(f"when deals first enter it (median step {rank[fact.stage] + 1:g})")
    if fact.created is not None:
        signs.append("the age of its deals (older further along)")
    declared.why.append("placed by " + ", then ".join(signs) if signs else "placed where the export first shows it")


def _or_inf(value: float | None) -> float:
    return float(value) if value is not None and not pd.isna(value) else float(np.inf)


# -- history ------------------------------------------------------------------------------------------
def _moves(history: pd.DataFrame | None) -> pd.DataFrame:
    """History ordered per deal, with the stage each row came from (`previous`) and whether the deal left it."""
    columns = ["pipeline", "opportunity_id", "stage", "changed_at", "previous", "left"]
    if history is None or history.empty:
        return pd.DataFrame(columns=columns)
    frame = history[["pipeline", "opportunity_id", "stage", "changed_at"]].dropna().copy()
    frame["_when"] = pd.to_datetime(frame["changed_at"], errors="coerce", utc=True, format="mixed")
    frame = frame.dropna(subset=["_when"]).sort_values(["opportunity_id", "_when"], kind="stable")
    frame = frame[frame["stage"] != frame.groupby("opportunity_id")["stage"].shift()]  # repeated states
    frame["previous"] = frame.groupby("opportunity_id")["stage"].shift()
    frame["left"] = frame.groupby("opportunity_id")["stage"].shift(-1).notna()
    return frame.drop(columns=["_when"]).reset_index(drop=True)


def _exits(moves: pd.DataFrame, stage: str) -> tuple[int, int, int]:
    """Deals that left `stage`, distinct stages deals came into it from, and deals that entered it."""
    rows = moves[moves["stage"] == stage]
    if rows.empty:
        return 0, 0, 0
    left = int(rows.loc[rows["left"].astype(bool), "opportunity_id"].nunique())
    return left, int(rows["previous"].dropna().nunique()), int(rows["opportunity_id"].nunique())


def _entry_rank(moves: pd.DataFrame) -> dict[str, float]:
    """Per stage, the median position (from 0) at which deals first entered it."""
    if moves.empty:
        return {}
    first = moves.drop_duplicates(["opportunity_id", "stage"], keep="first").copy()
    first["rank"] = first.groupby("opportunity_id").cumcount()
    return {str(k): float(v) for k, v in first.groupby("stage")["rank"].median().items()}


# -- reading a declaration back ------------------------------------------------------------------------
def inferred_rows(stages: pd.DataFrame) -> list[dict[str, object]]:
    """What was inferred, one entry per stage: pipeline, stage, outcome (won/lost/open), position, why."""
    if INFERRED not in stages:
        return []
    rows = stages[stages[INFERRED].notna()].to_dict("records")
    return [{"pipeline": str(r["pipeline"]), "stage": str(r["stage"]),
             "outcome": "won" if r["is_won"] else "lost" if r["is_lost"] else "open",
             "position": int(r["position"]), "why": str(r[INFERRED])} for r in rows]


def pipelines_to_configure(stages: pd.DataFrame) -> dict[str, list[dict[str, object]]]:
    """Each pipeline with something inferred, as cadence.yml's `pipelines:` lists it (plus a `why` note)."""
    if INFERRED not in stages:
        return {}
    out: dict[str, list[dict[str, object]]] = {}
    for pipeline, rows in stages.groupby("pipeline", sort=False):
        if rows[INFERRED].isna().all():
            continue
        out[str(pipeline)] = [_config_entry(r) for r in rows.sort_values("position").to_dict("records")]
    return out


def _config_entry(row: dict[Any, Any]) -> dict[str, object]:
    entry: dict[str, object] = {"name": str(row["stage"])}
    probability = row["probability"]
    if isinstance(probability, int | float) and not pd.isna(probability):
        entry["probability"] = round(float(probability), 4)
    if bool(row["is_won"]):
        entry["won"] = True
    if bool(row["is_lost"]):
        entry["lost"] = True
    if isinstance(row[INFERRED], str):
        entry["why"] = row[INFERRED]
    return entry


# -- cadence.yml ---------------------------------------------------------------------------------------
PIPELINES_HEADER = (
    "# Stages of imported pipelines, in order: `won: true` / `lost: true` mark closed stages. Cadence inferred\n"
    "# the ones with a note from their names and history; correct them here — later imports use this list.\n")


def with_pipelines(text: str, configured: dict[str, list[Stage]], updates: dict[str, list[dict[str, object]]]) -> str:
    """cadence.yml's text with its `pipelines:` block replaced (or appended) by `configured` plus `updates`.

    Only that block changes: every other line, comment and blank line of the file stays as it was.
    """
    merged: dict[str, list[dict[str, object]]] = {
        name: [{"name": s.name, **s.model_dump(exclude_defaults=True, exclude={"name"})} for s in stages]
        for name, stages in configured.items()}
    for name, stages in updates.items():
        merged[name] = _keep_listed(stages, merged.get(name, []))
    block = "pipelines:\n" + "".join(_pipeline_lines(name, stages) for name, stages in merged.items())
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"pipelines\s*:", line)), None)
    if start is None:
        spacer = "" if not text or text.endswith("\n\n") else "\n" if text.endswith("\n") else "\n\n"
        return text + spacer + PIPELINES_HEADER + block
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t"):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # keep the blank lines before the next key
        end -= 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


def _keep_listed(stages: list[dict[str, object]], listed: list[dict[str, object]]) -> list[dict[str, object]]:
    """`stages`, plus the stages of `listed` (cadence.yml's) it lacks, each after the one it followed there."""
    out = list(stages)
    names = [s["name"] for s in out]
    for i, stage in enumerate(listed):
        if stage["name"] in names:
            continue
        before = [s["name"] for s in listed[:i] if s["name"] in names]
        at = names.index(before[-1]) + 1 if before else 0
        out.insert(at, stage)
        names.insert(at, stage["name"])
    return out


def _pipeline_lines(name: str, stages: list[dict[str, object]]) -> str:
    out = [f"  {_flow(name)}:\n"]
    for stage in stages:
        entry = {"name": stage["name"], **{k: v for k, v in stage.items() if k not in ("name", "why")}}
        note = f"  # inferred: {stage['why']}" if stage.get("why") else ""
        out.append(f"    - {_flow(entry)}{note}\n")
    return "".join(out)


def _flow(value: object) -> str:
    import yaml

    return str(yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True,
                              width=10_000)).strip().removesuffix("...").strip()
