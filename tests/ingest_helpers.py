"""Helpers the import tests share: read and write CSV files as exports are, read the warehouse back."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import yaml

import cadence
from cadence.workspace import Workspace


def records(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows as dicts, read with the csv module (independently of Cadence's reader)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, header: list[str], rows: list[list[str]], footer: Sequence[str] = (),
              quote_all: bool = False) -> Path:
    """Write an export as CRMs do; `footer` lines imitate a report's trailing summary."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)
        for line in footer:
            writer.writerow([line])
    return path


def table(ws: Workspace, name: str) -> pd.DataFrame:
    return ws.table(name).to_pandas()


def quarantine(ws: Workspace) -> pd.DataFrame:
    return table(ws, "quarantine").sort_values(["file", "line", "column_name"]).reset_index(drop=True)


@contextmanager
def reopened(ws: Workspace, **settings: object) -> Iterator[Workspace]:
    """The workspace again, after writing `settings` into its cadence.yml as a user would."""
    path = ws.root / "cadence.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config.update(settings)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    again = cadence.open(ws.root)
    try:
        yield again
    finally:
        again.close()
