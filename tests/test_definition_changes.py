"""An edit to cadence.yml that changes how a figure is computed is written to the audit log, naming the rule."""

from __future__ import annotations

import json
from pathlib import Path

from cadence.review.definitions import note_definition_change
from cadence.workspace import init_workspace, open_workspace

KPI = """
teams:
  - name: Sales
    kpis:
      - metric: bookings
        period: quarter
        target: {target}
"""


def _changes(root: Path) -> list[dict[str, object]]:
    with open_workspace(root) as ws:
        rows = ws.warehouse.query("SELECT after_json FROM audit_log WHERE action = 'definition_change' "
                                  "ORDER BY \"at\"")
    return [json.loads(r[0]) for r in rows]


def test_a_changed_target_is_audited_once(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws")
    config = root / "cadence.yml"
    config.write_text(config.read_text(encoding="utf-8") + KPI.format(target=100000), encoding="utf-8")
    with open_workspace(root) as ws:
        assert note_definition_change(ws, actor="test") == []  # the first time is the baseline
        assert note_definition_change(ws, actor="test") is None  # nothing changed since
    config.write_text(config.read_text(encoding="utf-8").replace("target: 100000", "target: 120000"),
                      encoding="utf-8")
    with open_workspace(root) as ws:
        changed = note_definition_change(ws, actor="test")
    assert changed and all(name.startswith("kpi:Sales/bookings") for name in changed), changed
    changes = _changes(root)
    assert len(changes) == 2
    assert changes[1]["changed"] == changed
    assert changes[0]["version"] != changes[1]["version"]
