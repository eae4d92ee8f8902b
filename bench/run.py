"""`make bench`: every benchmark in this folder, each timed against a reference run in the same process.

A benchmark is a module `bench/bench_*.py` with `run(workdir: Path) -> list[dict]`; each dict has at
least `name`, `seconds` (Cadence), `reference` (what it is compared with), `reference_seconds` and
`ratio` (Cadence ÷ reference). Results are printed and written to bench-results/<module>.json.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "bench-results"
sys.path.insert(0, str(HERE.parent))  # benchmarks import `bench.*` helpers when run as `python bench/run.py`


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of `repeat` runs (seconds) and the last result: the least disturbed measurement."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def main(argv: list[str]) -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    selected = set(argv[1:])
    RESULTS.mkdir(exist_ok=True)
    table = Table(title="make bench")  # numbers never wrap; the words share what width is left
    table.add_column("benchmark", ratio=3)
    table.add_column("Cadence s", justify="right", no_wrap=True)
    table.add_column("reference", ratio=2)
    table.add_column("reference s", justify="right", no_wrap=True)
    table.add_column("ratio", justify="right", no_wrap=True)
    table.add_column("peak MB", justify="right", no_wrap=True)
    for path in sorted(HERE.glob("bench_*.py")):
        if selected and path.stem not in selected:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with tempfile.TemporaryDirectory(prefix="cadence-bench-") as workdir:
            console.print(f"[bold]{path.stem}[/] …")
            rows = module.run(Path(workdir))
        (RESULTS / f"{path.stem}.json").write_text(json.dumps(rows, indent=2, default=str) + "\n")
        for row in rows:
            peak = f"{row['peak_mb']:,.0f}" if "peak_mb" in row else ""  # measured where a step runs on its own
            table.add_row(row["name"], f"{row['seconds']:.3f}", row["reference"], f"{row['reference_seconds']:.3f}",
                          f"{row['ratio']:.2f}×", peak)
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
