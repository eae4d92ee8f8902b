"""The demo's scorecard, figure for figure, as `cadence scorecard --format json` printed it before the
application core was reshaped (tests/data/demo-scorecard.json): a refactor must not move a single number."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import pytest

from cadence.cli.main import run
from cadence.workspace import Workspace
from tests.conftest import REPO

STORED = REPO / "tests" / "data" / "demo-scorecard.json"


def differences(stored: Any, now: Any, path: str = "$") -> list[str]:
    """Every place the two JSON documents differ, as `path: stored → now` (the first few are enough to read)."""
    if isinstance(stored, dict) and isinstance(now, dict):
        found = [f"{path}.{key}: only in the stored copy" for key in stored.keys() - now.keys()]
        found += [f"{path}.{key}: new, not in the stored copy" for key in now.keys() - stored.keys()]
        for key in stored.keys() & now.keys():
            found += differences(stored[key], now[key], f"{path}.{key}")
        return sorted(found)
    if isinstance(stored, list) and isinstance(now, list):
        found = [] if len(stored) == len(now) else [f"{path}: {len(stored)} items stored, {len(now)} now"]
        for i, (old, new) in enumerate(zip(stored, now, strict=False)):
            found += differences(old, new, f"{path}[{i}]")
        return found
    if isinstance(stored, float) and isinstance(now, float):  # the same sum added in another order is no change
        return [] if math.isclose(stored, now, rel_tol=1e-12, abs_tol=1e-9) else [f"{path}: {stored!r} → {now!r}"]
    return [] if stored == now and type(stored) is type(now) else [f"{path}: {stored!r} → {now!r}"]


def test_the_demo_scorecard_is_unchanged(demo_workspace: Workspace, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["cadence", "-w", str(demo_workspace.root), "scorecard", "--format", "json"])
    capsys.readouterr()
    run()
    now = json.loads(capsys.readouterr().out)
    stored = json.loads(STORED.read_text(encoding="utf-8"))
    found = differences(stored, now)
    assert not found, f"{len(found)} differences from {STORED.name}:\n" + "\n".join(found[:40])


def test_the_diff_names_each_changed_figure() -> None:
    stored = {"sections": [{"title": "Sales", "value": 1.5, "rows": [1, 2]}], "week": "2026-W05"}
    now = {"sections": [{"title": "Sales", "value": 1.25, "rows": [1]}], "currency": "USD"}
    assert set(differences(stored, now)) == {
        "$.currency: new, not in the stored copy", "$.week: only in the stored copy",
        "$.sections[0].rows: 2 items stored, 1 now", "$.sections[0].value: 1.5 → 1.25"}
    assert differences(stored, stored) == []
    assert differences({"v": 1027778.4999999999}, {"v": 1027778.4999999998}) == []  # summation order only
    assert differences({"v": 1027778.49}, {"v": 1027778.50}) == ["$.v: 1027778.49 → 1027778.5"]
