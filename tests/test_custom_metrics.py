"""A company's own metrics from cadence.yml: computed like the built-ins, refused clearly when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import cadence
from cadence.errors import ConfigError
from cadence.workspace import init_workspace
from tests.datasets import Dataset


def _workspace_with(tmp_path: Path, metrics: list[dict[str, object]], dataset: Dataset) -> cadence.Workspace:
    root = init_workspace(tmp_path / "ws")
    config = yaml.safe_load((root / "cadence.yml").read_text())
    config["metrics"] = metrics
    (root / "cadence.yml").write_text(yaml.safe_dump(config))
    ws = cadence.open(root)
    ws.ingest(dataset("maven-crm"), "maven")
    return ws


def test_a_custom_metric_is_computed_like_a_builtin(tmp_path: Path, dataset: Dataset) -> None:
    spec = {"name": "gtx_pro_bookings", "label": "GTX Pro bookings", "relation": "deals", "time_column": "closed_on",
            "aggregate": "sum", "column": "amount_value", "where": "is_won AND product = 'GTX Pro'", "unit": "currency"}
    ws = _workspace_with(tmp_path, [spec], dataset)
    try:
        mine = ws.metric("gtx_pro_bookings", grain="quarter")
        builtin = ws.metric("bookings", grain="quarter", where="product = 'GTX Pro'")
        assert mine["value"].tolist() == builtin["value"].tolist()
        assert mine["value"].sum() > 0
        assert "gtx_pro_bookings" in ws.registry.names()
    finally:
        ws.close()


@pytest.mark.parametrize(("spec", "message"), [
    ({"name": "x", "time_column": "closed_onn"}, "closed_on"),
    ({"name": "x", "time_column": "closed_on", "where": "segmnt = 'smb'"}, "segment"),
    ({"name": "x", "time_column": "closed_on", "relation": "dealz"}, "deals"),
])
def test_a_wrong_custom_metric_is_named_with_a_suggestion(tmp_path: Path, dataset: Dataset,
                                                         spec: dict[str, object], message: str) -> None:
    ws = _workspace_with(tmp_path, [spec], dataset)
    try:
        with pytest.raises(ConfigError) as caught:
            _ = ws.registry
        assert "metric 'x'" in str(caught.value) and message in str(caught.value)
    finally:
        ws.close()


def test_a_custom_metric_needs_a_column_to_sum(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws")
    config = yaml.safe_load((root / "cadence.yml").read_text())
    config["metrics"] = [{"name": "x", "time_column": "closed_on", "aggregate": "sum"}]
    (root / "cadence.yml").write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match="needs a `column`"):
        cadence.open(root)
