"""A first run: `cadence init` writes a cadence.yml with working examples of every key a company sets
first, docs/config.md documents every key and cannot drift, and an unconfigured company's scorecard
says what to configure next."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import cadence
from cadence.cli.main import app, register_commands
from cadence.config import CompanyConfig, ExchangeRate, Mission, Stage, Team
from cadence.config.doc import config_keys, config_markdown
from cadence.workspace import init_workspace
from tests.conftest import REPO
from tests.latam_org import build_org

register_commands()


def example(text: str, start: str) -> object:
    """The commented block that begins with the line `start` (without its '#'), uncommented and read as YAML."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    indent = len(start) - len(start.lstrip("#"))
    block = [lines[first]]
    for line in lines[first + 1:]:
        if not line.startswith("#") or line.startswith("# ") and not line.startswith("#  "):
            break
        block.append(line)
    return yaml.safe_load("\n".join(line[indent:] for line in block))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("first") / "acme"
    result = CliRunner().invoke(app, ["init", str(root), "--company", "Acme"])
    assert result.exit_code == 0, result.output
    return (root / "cadence.yml").read_text(encoding="utf-8")


def test_the_written_file_loads_and_names_every_first_setting(template: str) -> None:
    config = CompanyConfig(**yaml.safe_load(template))
    assert config.company == "Acme"
    for key in ("mission:", "kpis:", "target", "currency:", "exchange_rates:", "timezone:", "deal_dating:",
                "pipelines:", "stages:", "teams:", "sources:", "fiscal_year_start_month:"):
        assert key in template, key


def test_each_commented_example_is_valid_configuration(template: str) -> None:
    mission = example(template, "# mission:")
    Mission(**mission["mission"])  # type: ignore[index]
    teams = example(template, "#  - name: Enterprise Sales")
    parsed = [Team(**t) for t in teams]  # type: ignore[attr-defined]
    assert any(k.target for t in parsed for k in t.kpis) and any(k.targets for t in parsed for k in t.kpis)
    rates = [example(template, line) for line in template.splitlines() if line.startswith("#  - {currency:")]
    assert any(ExchangeRate(**r[0]).valid_from for r in rates)  # type: ignore[index]
    assert any(ExchangeRate(**r[0]).valid_from is None for r in rates)  # type: ignore[index]
    zone = re.search(r"^# timezone: (\S+)$", template, re.M)
    assert zone and CompanyConfig(timezone=zone.group(1)).timezone == "America/Mexico_City"
    pipeline = example(template, "#  ventas:")
    stages = [Stage(**s) for s in pipeline["ventas"]]  # type: ignore[index]
    assert any(s.won for s in stages) and any(s.lost for s in stages)


def test_config_reference_is_up_to_date_and_complete() -> None:
    committed = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
    assert committed == config_markdown(), "run `make docs` to regenerate docs/config.md"
    keys = config_keys()
    assert all(k.description for k in keys), [k.path for k in keys if not k.description]
    paths = {k.path for k in keys}
    for name, field in CompanyConfig.model_fields.items():  # every top-level key, by its YAML spelling
        assert (field.alias or name) in paths
    assert {"exchange_rates[].from", "teams[].kpis[].target", "mission.metric", "pipelines{}[].won"} <= paths
    assert "make docs" in (REPO / "Makefile").read_text(encoding="utf-8") and "cadence.config.doc" in (
        REPO / "Makefile").read_text(encoding="utf-8")


def test_an_unconfigured_scorecard_says_what_to_configure(tmp_path: Path) -> None:
    org = build_org(tmp_path / "org")
    root = init_workspace(tmp_path / "ws", company="Andes SA")
    with cadence.open(root) as ws:
        ws.ingest(org.folder, "salesforce")
    html = tmp_path / "card.html"
    result = CliRunner().invoke(app, ["-w", str(root), "scorecard", "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert "Configure next" in result.output and "mission:" in result.output and "kpis:" in result.output
    page = html.read_text(encoding="utf-8")
    assert "Configure next" in page and "mission:" in page
    data = json.loads(CliRunner().invoke(app, ["-w", str(root), "scorecard", "--format", "json"]).output)
    assert data["sections"][0]["key"] == "configure"
