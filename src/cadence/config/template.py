"""The commented cadence.yml that `cadence init` writes: every setting, explained where it sits."""

from __future__ import annotations

from cadence.config.company import DEFAULT_WAREHOUSE

TEMPLATE = """\
# cadence.yml — one company's go-to-market configuration.
# Every command reads this file; environment variables override single values,
# e.g. CADENCE__WAREHOUSE=postgresql://cadence@db.internal/cadence
# Every key is documented in docs/config.md. Lines starting with # are examples: uncomment and edit.

# The company, and its corporate currency (ISO code): every money figure is converted to it.
company: {company}
currency: USD

# Exchange rates, Salesforce's convention: `rate` units of the currency buy ONE unit of the corporate
# currency. A rate with `from` applies from that day until the next one; without `from` it is the static
# rate. A closed deal converts at the rate of its close date, an open one at the latest rate.
# `cadence ingest … --from salesforce` also reads CurrencyType.csv and DatedConversionRate.csv.
exchange_rates: []
#  - {{currency: MXN, rate: 17.3}}
#  - {{currency: MXN, rate: 19.5, from: 2023-01-01}}
#  - {{currency: EUR, rate: 0.92, from: 2024-01-01}}

# The company's time zone (IANA name): which day a timestamp such as Salesforce's LastStageChangeDate
# falls on. A deal won at 8 pm in Mexico City on March 31 is a Q1 deal.
timezone: UTC
# timezone: America/Mexico_City

# What dates a closed deal: close_date (the CRM's close date, as Salesforce, HubSpot and Clari reports
# do, so figures reconcile with the CRM) or closed_at (when it really closed, in `timezone`).
deal_dating: close_date

# First month of the fiscal year (1 = January, 2 = February, …). Quarters and years in
# every report follow it (an imported Salesforce fiscal calendar, Period.csv, takes precedence).
fiscal_year_start_month: 1

# Where the data lives: a DuckDB file in this folder (the default), or a PostgreSQL URL for a
# shared install (pip install 'cadence[postgres]').
warehouse: {warehouse}

# Go-to-market segments, as accounts.segment spells them.
segments: [enterprise, mid_market, smb]

# The default pipeline's stages, in order. `probability` is the CRM's default win probability
# (used by the stage-weighted forecast); mark closed stages with `won: true` or `lost: true`.
stages:
  - {{name: Prospecting, probability: 0.05}}
  - {{name: Discovery, probability: 0.10}}
  - {{name: Demo, probability: 0.25}}
  - {{name: Proposal, probability: 0.50}}
  - {{name: Negotiation, probability: 0.75}}
  - {{name: Closed Won, probability: 1.0, won: true}}
  - {{name: Closed Lost, probability: 0.0, lost: true}}

# Pipelines your imports declare (Salesforce, HubSpot, Maven), each with its stages in order. An import
# writes here what it inferred (which stages are closed, won or lost) for you to correct.
pipelines: {{}}
#  ventas:
#    - {{name: Prospección, probability: 0.10}}
#    - {{name: Negociación, probability: 0.75}}
#    - {{name: Ganada, probability: 1.0, won: true}}
#    - {{name: Perdida, probability: 0.0, lost: true}}

# The mission: the statement, the one metric that says whether it is working (any name from
# `cadence metrics`), its target per period, and how the company behaves. The scorecard opens with it.
# mission:
#   statement: Help every go-to-market team grow revenue all year long
#   metric: net_new_mrr
#   grain: month
#   target: 45000
#   principles:
#     - "One source of truth: every number has one definition"
#     - Deliver all year long, not in a quarter-end rush

# Teams, as people.team spells them. `kind` is sales, marketing, product, success, executive or
# other. Each team's KPIs are metrics with a target per period (or per named period); the scorecard
# shows each against its target as on track, at risk or off track.
teams:
  - {{name: Sales, kind: sales}}
  - {{name: Marketing, kind: marketing}}
  - {{name: Product, kind: product}}
#  - name: Enterprise Sales
#    kind: sales
#    kpis:
#      - {{metric: bookings, period: quarter, target: 900000, where: "segment = 'enterprise'"}}
#      - {{metric: win_rate, period: quarter, target: 0.30}}
#  - name: Marketing
#    kind: marketing
#    kpis:
#      - metric: qualified_leads
#        period: month
#        target: 400
#        targets: {{2026-12: 250}}   # a named period's own target

# Where data comes from. Recurring imports: `cadence ingest` with no path reads each of these;
# format is one of csv, xlsx, parquet (with a mapping file), salesforce, hubspot, maven.
sources: []
#  - {{name: crm, format: salesforce, path: exports/salesforce}}
#  - {{name: leads, format: csv, path: exports/leads.csv, mapping: mappings/leads.yml}}
# Or the CRM synced nightly through its API (`cadence sync`, docs/sync.md); secrets stay in the environment:
# sources:
#   salesforce: {{instance_url: https://acme.my.salesforce.com, token_env: CADENCE_SALESFORCE_TOKEN, cron: "0 2 * * *"}}
#   hubspot: {{token_env: CADENCE_HUBSPOT_TOKEN, cron: "30 2 * * *"}}
"""


def config_template(*, company: str, warehouse: str | None) -> str:
    return TEMPLATE.format(company=company, warehouse=warehouse or DEFAULT_WAREHOUSE)
