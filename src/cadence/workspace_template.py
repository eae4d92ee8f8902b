"""The commented cadence.yml that `cadence init` writes: every setting, explained where it sits."""

from __future__ import annotations

from cadence.config import DEFAULT_WAREHOUSE

TEMPLATE = """\
# cadence.yml — one company's go-to-market configuration.
# Every command reads this file; environment variables override single values,
# e.g. CADENCE__WAREHOUSE=postgresql://cadence@db.internal/cadence

# The company, and the currency amounts are reported in (ISO code).
company: {company}
currency: USD

# First month of the fiscal year (1 = January, 2 = February, …). Quarters and years in
# every report follow it.
fiscal_year_start_month: 1

# Where the data lives: a DuckDB file in this folder (the default), or a PostgreSQL URL for a
# shared install (pip install 'cadence[postgres]').
warehouse: {warehouse}

# Go-to-market segments, as accounts.segment spells them.
segments: [enterprise, mid_market, smb]

# The sales pipeline's stages, in order. `probability` is the CRM's default win probability
# (used by the stage-weighted forecast); mark closed stages with `won: true` or `lost: true`.
# Imports from Salesforce, HubSpot or Maven bring their own pipelines alongside this one.
stages:
  - {{name: Prospecting, probability: 0.05}}
  - {{name: Discovery, probability: 0.10}}
  - {{name: Demo, probability: 0.25}}
  - {{name: Proposal, probability: 0.50}}
  - {{name: Negotiation, probability: 0.75}}
  - {{name: Closed Won, probability: 1.0, won: true}}
  - {{name: Closed Lost, probability: 0.0, lost: true}}

# Teams, as people.team spells them. `kind` is sales, marketing, product, success,
# executive or other; a task force may state its horizon (e.g. long-cycle).
teams:
  - {{name: Sales, kind: sales}}
  - {{name: Marketing, kind: marketing}}
  - {{name: Product, kind: product}}

# Recurring imports: `cadence ingest` with no path reads each of these.
# format is one of csv, xlsx, parquet (with a mapping file), salesforce, hubspot, maven.
sources: []
#  - {{name: crm, format: salesforce, path: exports/salesforce}}
#  - {{name: leads, format: csv, path: exports/leads.csv, mapping: mappings/leads.yml}}
"""


def config_template(*, company: str, warehouse: str | None) -> str:
    return TEMPLATE.format(company=company, warehouse=warehouse or DEFAULT_WAREHOUSE)
