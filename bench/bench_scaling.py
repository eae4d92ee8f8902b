"""The scaling curve: 1×, 10× and 30× the demo company (CADENCE_BENCH_FACTORS="1,10" for a shorter run), each
step in a child process of its own so its peak memory is its own (`peak_mb`).

For each size: the import (CSV files read, every row validated, loaded in one transaction; then, timed on its own,
the revenue grid and deals relation kept for the figures), the scorecard's
figures (every value the mission, KPI and pipeline sections ask for, replayed) and the full scorecard. Each is
compared with the same step at 1× (the ratio is how much longer it takes at that size). The import is also
compared with DuckDB's own `read_csv` of the same files into tables (no validation): the price of validation.

Then the same company with only its activities copied (10× and 30× the demo's 651,000, everything else as it
is): the import's and the full scorecard's seconds and peak memory as the largest table grows alone, against
the demo's own.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ENTITY_IDS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id", "parent_account_id"),
    "leads": ("lead_id", "account_id", "opportunity_id"),
    "opportunities": ("opportunity_id", "account_id"),
    "opportunity_history": ("opportunity_id",),
    "activities": ("activity_id", "account_id", "opportunity_id"),
    "subscriptions": ("subscription_id", "account_id", "opportunity_id"),
    "usage": ("account_id",),
    "nps": ("response_id", "account_id"),
}


def factors() -> list[int]:
    chosen = os.environ.get("CADENCE_BENCH_FACTORS", "1,10,30")
    return sorted({1, *(int(part) for part in chosen.split(",") if part.strip())})  # 1× is every ratio's base


def write_company(folder: Path, factor: int, *, only: str | None = None) -> None:
    """The demo company's tables as CSV files, its business copied `factor` times under new ids (`only`: just
    that table's rows, each copy under new ids of its own rows, linked to the same accounts and deals)."""
    import pandas as pd

    from cadence.demo.build import config_text, generate_company

    company = generate_company(7)
    folder.mkdir(parents=True)
    for name, frame in company.tables.items():
        ids = ENTITY_IDS.get(name)
        if only is not None:
            ids = ENTITY_IDS[name][:1] if name == only else None
        copies = [frame] if ids is None else [
            frame.assign(**{c: frame[c].where(frame[c].isna(), frame[c].astype(str) + f"-{k}") for c in ids
                            if c in frame}) if k else frame for k in range(factor)]
        pd.concat(copies, ignore_index=True).to_csv(folder / f"{name}.csv", index=False)
    (folder / "cadence.yml.in").write_text(config_text(company.tables), encoding="utf-8")


def step_import(folder: Path, root: Path) -> dict[str, Any]:
    """`cadence ingest FOLDER --from csv --mapping FILE`: every CSV read a chunk at a time, each row validated,
    all loaded in one transaction (the mapping names each file's table and maps every column to itself)."""
    import pandas as pd
    import yaml

    import cadence
    from cadence.workspace import init_workspace

    started = time.perf_counter()
    init_workspace(root, company="Scaling Co")
    (root / "cadence.yml").write_text((folder / "cadence.yml.in").read_text(encoding="utf-8"), encoding="utf-8")
    mapping = root / "mapping.yml"
    mapping.write_text(yaml.safe_dump({"files": [
        {"file": path.name, "table": path.stem, "columns": {c: c for c in pd.read_csv(path, nrows=0).columns}}
        for path in sorted(folder.glob("*.csv"))]}), encoding="utf-8")
    ws = cadence.open(root)
    prepared = ws.ingest(folder, "csv", mapping=mapping)
    seconds = time.perf_counter() - started
    kept = time.perf_counter()
    ws.keep_figures_ready()  # as `cadence ingest` does once the rows are written: timed on its own
    keep_seconds = time.perf_counter() - kept
    ws.close()
    return {"seconds": seconds, "keep_seconds": keep_seconds, "rows": prepared.read,
            "quarantined": int(prepared.quarantined)}


def step_read_csv(folder: Path, root: Path) -> dict[str, Any]:
    """DuckDB's own read_csv of the same files into tables: no validation, no mapping."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(str(root / "reference.duckdb"))
    for path in sorted(folder.glob("*.csv")):
        con.execute(f"CREATE TABLE \"{path.stem}\" AS SELECT * FROM read_csv('{path}')")
    con.close()
    return {"seconds": time.perf_counter() - started}


def step_figures(folder: Path, root: Path) -> dict[str, Any]:
    import cadence
    from bench.bench_scorecard import record_calls
    from cadence.report.scorecard import week_context
    from cadence.report.sections.kpis import range_value

    ws = cadence.open(root)
    week = week_context(ws, None).week
    calls = record_calls(ws, week)

    def timed() -> float:
        ws._materialised.clear()  # as a new session: series asked again, stored tables found by fingerprint
        ws._derived.forget()
        started = time.perf_counter()
        for call in calls:
            range_value(ws, *call)
        return time.perf_counter() - started

    first = timed()  # the first session after the import: it reads the grid and deals relation the import kept
    seconds = timed()
    ws.close()
    return {"seconds": seconds, "first_session_seconds": first, "figures": len(calls)}


def step_scorecard(folder: Path, root: Path) -> dict[str, Any]:
    import cadence
    from cadence.report.scorecard import build_scorecard

    ws = cadence.open(root)
    started = time.perf_counter()
    build_scorecard(ws, fresh=True)  # the first scorecard over this version of the data
    seconds = time.perf_counter() - started
    ws.close()
    started = time.perf_counter()
    with cadence.open(root) as again:  # the next one: a new session reading back the kept sections
        build_scorecard(again)
    return {"seconds": seconds, "later_seconds": time.perf_counter() - started}


STEPS = {"import": step_import, "read_csv": step_read_csv, "figures": step_figures, "scorecard": step_scorecard}


def peak_mb() -> float:
    """This process's peak resident memory: the high-water mark of its own memory (VmHWM), which starts afresh
    when a process starts a program. Not `ru_maxrss`: Linux carries that over from the parent that spawned the
    process, so every step would have weighed at least what this benchmark's own process held (the CSV files it
    had just written), as every peak measured here before 2026-12-07 did beyond 1×."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # no /proc (not Linux): kB, or bytes on macOS


def in_child(step: str, folder: Path, root: Path) -> dict[str, Any]:
    """Run one step in a fresh Python: its seconds, and its peak resident memory in MB."""
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, __file__, step, str(folder), str(root)], cwd=repo, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(workdir: Path) -> list[dict[str, Any]]:
    measured: dict[int, dict[str, dict[str, Any]]] = {}
    for factor in factors():
        folder, root = workdir / f"csv-{factor}x", workdir / f"ws-{factor}x"
        write_company(folder, factor)
        root.mkdir()
        measured[factor] = {step: in_child(step, folder, root) for step in STEPS}
    rows: list[dict[str, Any]] = []
    base = measured[1]
    for factor, steps in measured.items():
        size = f"{factor}× the demo ({steps['import']['rows']:,} rows)"
        imported = steps["import"]
        rows.append({"name": f"import {factor}×", "seconds": imported["seconds"],
                     "reference": "DuckDB read_csv of the same files",
                     "reference_seconds": steps["read_csv"]["seconds"],
                     "ratio": imported["seconds"] / steps["read_csv"]["seconds"], "peak_mb": imported["peak_mb"],
                     "rows_per_second": imported["rows"] / imported["seconds"], "note": size})
        for step, label in (("import", "import"), ("figures", "scorecard figures"), ("scorecard", "full scorecard")):
            rows.append({"name": f"{label} {factor}× vs 1×", "seconds": steps[step]["seconds"],
                         "reference": f"{label} at 1×", "reference_seconds": base[step]["seconds"],
                         "ratio": steps[step]["seconds"] / base[step]["seconds"], "peak_mb": steps[step]["peak_mb"],
                         "note": size})
        rows.append({"name": f"revenue grid, deals and history spans kept after the import {factor}×",
                     "seconds": imported["keep_seconds"], "reference": "the import",
                     "reference_seconds": imported["seconds"], "ratio": imported["keep_seconds"] / imported["seconds"],
                     "peak_mb": imported["peak_mb"], "note": size + "; part of `cadence ingest`, after the rows load"})
        later = steps["scorecard"]["later_seconds"]
        rows.append({"name": f"full scorecard {factor}×, a later session (sections kept)", "seconds": later,
                     "reference": "scorecard figures", "reference_seconds": steps["figures"]["seconds"],
                     "ratio": later / steps["figures"]["seconds"], "peak_mb": steps["scorecard"]["peak_mb"],
                     "note": size + "; opening the workspace and reading back what the computed scorecard kept"})
        first = steps["figures"]["first_session_seconds"]
        rows.append({"name": f"scorecard figures {factor}×, first session after the import",
                     "seconds": first, "reference": "scorecard figures, a later session",
                     "reference_seconds": steps["figures"]["seconds"], "ratio": first / steps["figures"]["seconds"],
                     "peak_mb": steps["figures"]["peak_mb"],
                     "note": size + "; the first session reads the revenue grid and deals relation the import kept"})
    return rows + grown_alone(workdir, base, "activities")


def grown_alone(workdir: Path, base: dict[str, dict[str, Any]], table: str) -> list[dict[str, Any]]:
    """Import and full scorecard with only `table` copied 10× and 30×, against the demo itself (`base`)."""
    rows: list[dict[str, Any]] = []
    for factor in (f for f in factors() if f > 1):
        folder, root = workdir / f"csv-{table}-{factor}x", workdir / f"ws-{table}-{factor}x"
        write_company(folder, factor, only=table)
        root.mkdir()
        steps = {step: in_child(step, folder, root) for step in ("import", "scorecard")}
        for step, label in (("import", "import"), ("scorecard", "full scorecard")):
            grew = steps[step]["peak_mb"] - base[step]["peak_mb"]
            rows.append({"name": f"{label}, only the {table} {factor}×", "seconds": steps[step]["seconds"],
                         "reference": f"{label} at 1×", "reference_seconds": base[step]["seconds"],
                         "ratio": steps[step]["seconds"] / base[step]["seconds"], "peak_mb": steps[step]["peak_mb"],
                         "reference_peak_mb": base[step]["peak_mb"],
                         "note": f"{steps['import']['rows']:,} rows; peak {grew:+.0f} MB against the demo's"})
    return rows


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    result = STEPS[sys.argv[1]](Path(sys.argv[2]), Path(sys.argv[3]))
    result["peak_mb"] = peak_mb()
    sys.stdout.write(json.dumps(result) + "\n")
