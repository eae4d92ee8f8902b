"""What the demo generator plants, written to `plan.json`: for tests only, never read by an analysis.

The plan is what the company was made to be — its calendar, its KPI tree, and which rep, team,
interviewer, feature or account pair carries each planted effect. It states intent; whether the data
really shows each effect is measured on the warehouse in `truths.py`. A test checks an analysis
against the plan (the analysis must find the planted rep) or against a measurement (its figure must
equal the one measured), never the plan against itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadence.demo.calendar import DAYS, END, FISCAL_START_MONTH, FISCAL_YEARS, STAGGERED_FROM_YEAR, START, date_of
from cadence.demo.calls import planted_biases
from cadence.demo.hiring import LENIENT_INTERVIEWER
from cadence.demo.people import COMPARABLE_TEAM, PERFORMANCE_WEIGHTS, SEGMENT_TEAMS, TEAMS, UNDER_RESOURCED_TEAM
from cadence.demo.skills import STEPS

if TYPE_CHECKING:
    from cadence.demo.generated import Company

PLAN_FILE = "plan.json"
COMPANY_NAME = "Northwind Analytics"
MISSION_METRIC = "net_new_arr"
MISSION_REGISTRY_METRIC = "net_new_mrr"  # net new ARR = 12 × net new MRR
MISALIGNED_KPI = "weekly_active_paying_users"
KPIS = (  # team, KPI (a metric name of the registry), table, how the monthly series is counted
    ("Enterprise Sales", "bookings", "opportunities",
     "sum(amount) of won new and expansion deals by month of closed_at, enterprise accounts"),
    ("Mid-Market Sales", "bookings", "opportunities",
     "sum(amount) of won new and expansion deals by month of closed_at, mid_market accounts"),
    ("Customer Success", "expansion_mrr", "subscriptions",
     "sum of month-on-month MRR increases of customers already paying (ChartMogul's expansion)"),
    ("Product", MISALIGNED_KPI, "usage", "mean over the month's weeks of sum(active_paying_users) per week"),
)
KPI_WHERE = {  # the filter narrowing a team's KPI, as cadence.yml's `where` spells it
    "Enterprise Sales": "segment = 'enterprise' AND kind IN ('new', 'expansion')",
    "Mid-Market Sales": "segment = 'mid_market' AND kind IN ('new', 'expansion')",
}
OPEN_ROLES = 2  # the under-resourced team's unfilled SDR roles


def plan_of(company: Company) -> dict[str, Any]:
    """The plan of one generated company, as JSON: what was planted, and on whom."""
    return {**_calendar(), **_kpi_tree(), **_carriers(company)}


def _calendar() -> dict[str, Any]:
    return {
        "company": COMPANY_NAME, "as_of": date_of(DAYS - 1).isoformat(), "data_start": START.isoformat(),
        "data_end_exclusive": END.isoformat(), "fiscal_year_start_month": FISCAL_START_MONTH,
        "fiscal_years": [f"FY{y}" for y in FISCAL_YEARS], "goals_staggered_from": f"FY{STAGGERED_FROM_YEAR}",
        "sales_teams": SEGMENT_TEAMS, "segments": list(SEGMENT_TEAMS), "teams": [name for name, _, _ in TEAMS],
    }


def _kpi_tree() -> dict[str, Any]:
    return {
        "mission_metric": MISSION_METRIC, "mission_metric_in_registry": f"{MISSION_REGISTRY_METRIC} × 12",
        "misaligned_kpi": MISALIGNED_KPI,
        "misaligned_kpi_detail": {"team": "Product", "kpi": MISALIGNED_KPI, "table": "usage",
                                  "column": "active_paying_users", "series": KPIS[-1][3],
                                  "why": "company-wide engagement swings with product's half-yearly campaigns, "
                                         "not with revenue"},
        "kpi_tree": {"mission_metric": MISSION_METRIC,
                     "kpis": [{"team": t, "kpi": k, "table": tb, "series": s, "where": KPI_WHERE.get(t)}
                              for t, k, tb, s in KPIS],
                     "note": "leading indicators (SDRs' qualified leads, marketing's pipeline created, Growth "
                             "Sales' small deals) are left out: month to month they do not move with net new "
                             "ARR here either, so they belong to tempo, not to the KPI tree"},
    }


def _carriers(company: Company) -> dict[str, Any]:
    """Who or what carries each planted effect, as the generator chose them."""
    gaps = company.skills.gaps()
    roadmap = company.roadmap.features
    return {
        "coaching_gaps": gaps, "coaching_steps": list(STEPS),
        "reps_without_gaps": sorted(p for p in company.skills.reps["person_id"] if p not in gaps),
        "under_resourced_team": UNDER_RESOURCED_TEAM, "comparable_team": COMPARABLE_TEAM,
        "under_resourced": {"deliverable": "qualified_demo", "open_roles": OPEN_ROLES,
                            "cause": "two of five SDRs left in April and May 2025 and were not replaced"},
        "lenient_interviewer": company.org.ids(LENIENT_INTERVIEWER),
        "predictive_criterion": max(PERFORMANCE_WEIGHTS, key=lambda c: PERFORMANCE_WEIGHTS[c]),
        "secondary_criteria": [c for c in PERFORMANCE_WEIGHTS if c != "coachability"],
        "unblocking_features": roadmap.loc[roadmap["unblocks"], "feature_id"].tolist(),
        "duplicate_accounts": company.extras["duplicates"],
        "forecast_bias": planted_biases(company.org),
    }
