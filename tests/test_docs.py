"""Docs that cannot drift: the schema reference is generated, and the README links it."""

from __future__ import annotations

from cadence.schema import SCHEMA_VERSION, TABLES
from cadence.schema.reference import schema_markdown
from tests.conftest import REPO


def test_schema_reference_is_up_to_date() -> None:
    committed = (REPO / "docs" / "schema.md").read_text(encoding="utf-8").rstrip("\n")
    assert committed == schema_markdown(SCHEMA_VERSION).rstrip("\n"), "run `make docs` to regenerate docs/schema.md"


def test_every_table_and_column_is_described() -> None:
    for table in TABLES:
        assert table.description, table.name
        for column in table.columns:
            assert column.description, f"{table.name}.{column.name}"


def test_readme_shows_the_two_commands_and_links_the_schema() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_screen = "\n".join(readme.splitlines()[:40])
    assert "make demo" in first_screen and "make test" in first_screen
    assert "docs/schema.md" in readme


def test_metric_catalogue_is_up_to_date() -> None:
    from cadence.metrics.catalog import build_registry
    from cadence.metrics.catalogue_doc import metrics_markdown

    committed = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert committed == metrics_markdown(build_registry()), "run `make docs` to regenerate docs/metrics.md"


def test_every_metric_is_described_and_the_issue_list_is_there() -> None:
    from cadence.metrics.catalog import build_registry

    registry = build_registry()
    required = {"bookings", "pipeline_created", "open_pipeline", "win_rate", "win_rate_amount", "average_deal_size",
                "sales_cycle", "sales_velocity", "pipeline_coverage", "leads", "qualified_leads", "lead_conversion",
                "activities_per_rep_day", "mrr", "arr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
                "reactivation_mrr", "net_revenue_retention", "gross_revenue_retention", "logo_churn",
                "weekly_active_paying_users", "nps", "customers"}
    assert required <= set(registry.names())
    for metric in registry:
        assert metric.description and metric.formula and metric.owner, metric.name
    assert "segment" in registry.dimensions_of(registry.get("customers"))
