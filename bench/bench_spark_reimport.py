"""The same export imported again on a local Spark: what it costs, and what it saves the next scorecard.

The demo company's tables are written as CSV files (the scaling bench's 1×) and imported into a workspace whose
warehouse is `spark://local`; its scorecard is computed; the same files are imported again, which changes no row;
the scorecard is asked again. The import hashes each table it wrote (a Spark job a table, the hashes kept in the
catalog), and a table found as it was keeps its segments, so the data version and the kept scorecard stay:

- **re-import**: the second import against the first (both write every row; the second also finds nothing new);
- **scorecard after the re-import**: read back, against the scorecard computed after the first import;
- **an export with new activities** (the same files, the activities 5% longer), the nightly drop that changes
  something: against the same export again. It hashes as much (every table it wrote, at commit) and keeps every
  table but the activities.

Needs pyspark and Java 17 (`pip install 'cadence[spark]'`); without them it says so and measures nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

try:
    from bench.bench_scaling import write_company
except ModuleNotFoundError:  # `python bench/run.py` puts bench/ itself on the path, not the project
    from bench_scaling import write_company  # type: ignore[import-not-found,no-redef]


def _workspace(folder: Path, root: Path) -> Path:
    """A Spark workspace with the company's settings, and the mapping that names each file's table."""
    import pandas as pd
    import yaml

    from cadence.workspace import init_workspace

    init_workspace(root, company="Reimport Co", warehouse="spark://local")
    settings = [line for line in (folder / "cadence.yml.in").read_text(encoding="utf-8").splitlines()
                if not line.startswith("warehouse:")]
    (root / "cadence.yml").write_text("\n".join([*settings, "warehouse: spark://local"]) + "\n", encoding="utf-8")
    mapping = root / "mapping.yml"
    mapping.write_text(yaml.safe_dump({"files": [
        {"file": path.name, "table": path.stem, "columns": {c: c for c in pd.read_csv(path, nrows=0).columns}}
        for path in sorted(folder.glob("*.csv"))]}), encoding="utf-8")
    return mapping


def run(workdir: Path) -> list[dict[str, Any]]:
    import cadence
    from cadence.errors import CadenceError
    from cadence.report.scorecard import build_scorecard

    folder, root = workdir / "csv", workdir / "spark"
    write_company(folder, 1)
    mapping = _workspace(folder, root)
    try:
        ws = cadence.open(root)
    except CadenceError as exc:
        sys.stderr.write(f"bench_spark_reimport: no local Spark here ({exc}); nothing measured\n")
        return []
    try:
        def timed(work: Any) -> tuple[float, Any]:
            started = time.perf_counter()
            result = work()
            return time.perf_counter() - started, result

        first, loaded = timed(lambda: ws.ingest(folder, "csv", mapping=mapping).summary())
        computed, _ = timed(lambda: build_scorecard(ws))
        again, reloaded = timed(lambda: ws.ingest(folder, "csv", mapping=mapping).summary())
        read_back, _ = timed(lambda: build_scorecard(ws))
        grown = _with_new_activities(folder, workdir / "grown")
        added, regrown = timed(lambda: ws.ingest(grown, "csv", mapping=mapping).summary())
    finally:
        ws.close()
    assert loaded["changed"] is True and reloaded["changed"] is False, (loaded, reloaded)
    assert regrown["changed"] is True, regrown
    return [
        {"name": "Spark 1×: the same export imported again (no row changed)", "seconds": again,
         "reference": "its first import", "reference_seconds": first, "ratio": again / first},
        {"name": "Spark 1×: scorecard after the same export imported again", "seconds": read_back,
         "reference": "scorecard computed after the first import", "reference_seconds": computed,
         "ratio": read_back / computed},
        {"name": "Spark 1×: the export again with 5% more activities", "seconds": added,
         "reference": "the same export imported again", "reference_seconds": again, "ratio": added / again},
    ]


def _with_new_activities(folder: Path, target: Path) -> Path:
    """The same export, its activities 5% longer: the first rows logged again under new ids."""
    import shutil

    import pandas as pd

    shutil.copytree(folder, target)
    activities = pd.read_csv(folder / "activities.csv", dtype=str, keep_default_na=False)
    more = activities.head(len(activities) // 20).assign(activity_id=lambda f: f["activity_id"] + "-new")
    pd.concat([activities, more], ignore_index=True).to_csv(target / "activities.csv", index=False)
    return target
