"""Every canonical table, declared once.

Ids are strings, times are UTC timestamps, money is a decimal beside a currency column.
`required` columns may not be empty; `allowed` lists the values a column may take;
`minimum`/`maximum` bound numbers; `DateOrder` says one date may not come before another
in the same row. A table's `key` is what makes a row unique, and what a re-import updates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cadence.errors import UnknownNameError
from cadence.schema.types import ColumnType

S, N, F, M, B, D, T = (
    ColumnType.STRING,
    ColumnType.INTEGER,
    ColumnType.FLOAT,
    ColumnType.MONEY,
    ColumnType.BOOLEAN,
    ColumnType.DATE,
    ColumnType.TIMESTAMP,
)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class DateOrder:
    """`earlier` may not be after `later` when both are present."""

    earlier: str
    later: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    date_orders: tuple[DateOrder, ...] = ()
    group: str = "go-to-market"
    references: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise UnknownNameError(f"column of {self.name}", name, self.column_names)


def _c(name: str, type_: ColumnType, description: str, **checks: object) -> Column:
    return Column(name, type_, description, **checks)  # type: ignore[arg-type]


ACTIVITY_KINDS = ("call", "connect", "email", "meeting", "demo", "proposal", "note", "task")
OPPORTUNITY_KINDS = ("new", "expansion", "renewal")

TABLES: tuple[Table, ...] = (
    Table(
        "accounts",
        "Customer and prospect companies.",
        key=("account_id",),
        columns=(
            _c("account_id", S, "Stable id of the account in its source system", required=True),
            _c("name", S, "Company name", required=True),
            _c("domain", S, "Web domain, lower case, used to spot duplicates"),
            _c("segment", S, "Go-to-market segment (cadence.yml `segments`)"),
            _c("industry", S, "Industry or sector"),
            _c("region", S, "Region or country"),
            _c("employees", N, "Head count", minimum=0),
            _c("annual_revenue", M, "Annual revenue in the account's currency", minimum=0),
            _c("parent_account_id", S, "Parent company, when the account is a subsidiary"),
            _c("owner_id", S, "Account owner (people.person_id)"),
            _c("created_at", T, "When the account was created"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        references={"owner_id": "people", "parent_account_id": "accounts"},
    ),
    Table(
        "people",
        "Everyone in go-to-market and product: reps, managers, executives, product, marketing.",
        key=("person_id",),
        columns=(
            _c("person_id", S, "Stable id", required=True),
            _c("name", S, "Full name", required=True),
            _c("email", S, "Work e-mail"),
            _c("team", S, "Team (cadence.yml `teams`)"),
            _c("role", S, "rep, manager, executive, product, marketing, engineer, …"),
            _c("manager_id", S, "Their manager (people.person_id)"),
            _c("region", S, "Office or region"),
            _c("hired_at", D, "First day"),
            _c("left_at", D, "Last day, if they left"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        date_orders=(DateOrder("hired_at", "left_at"),),
        group="people",
        references={"manager_id": "people"},
    ),
    Table(
        "products",
        "What the company sells, with list prices.",
        key=("product_id",),
        columns=(
            _c("product_id", S, "Stable id", required=True),
            _c("name", S, "Product name", required=True),
            _c("series", S, "Product line"),
            _c("list_price", M, "List price", minimum=0),
            _c("source", S, "Which import brought the row", required=True),
        ),
    ),
    Table(
        "stages",
        "The stages of each sales pipeline, in order, with their CRM default win probability.",
        key=("pipeline", "stage"),
        columns=(
            _c("pipeline", S, "Pipeline name ('default' is cadence.yml's)", required=True),
            _c("stage", S, "Stage name as the CRM spells it", required=True),
            _c("position", N, "Order of the stage in its pipeline, from 1", required=True, minimum=1),
            _c("probability", F, "CRM default win probability", minimum=0, maximum=1),
            _c("is_won", B, "Closed and won", required=True),
            _c("is_lost", B, "Closed and lost", required=True),
            _c("source", S, "Which import or config declared it", required=True),
        ),
    ),
    Table(
        "leads",
        "Marketing and sales leads, from first touch to qualification and conversion.",
        key=("lead_id",),
        columns=(
            _c("lead_id", S, "Stable id", required=True),
            _c("account_id", S, "Account, once known"),
            _c("email", S, "Contact e-mail"),
            _c("channel", S, "Acquisition channel (organic, paid_search, referral, …)"),
            _c("campaign", S, "Campaign or landing page"),
            _c("created_at", T, "First contact; empty when the source does not say"),
            _c("qualified_at", T, "When marketing or sales qualified it"),
            _c("opportunity_id", S, "The opportunity it became, if any"),
            _c("converted_at", T, "When it became a customer or opportunity"),
            _c("owner_id", S, "Owner (people.person_id)"),
            _c("status", S, "open, qualified, converted, disqualified"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        date_orders=(DateOrder("created_at", "qualified_at"), DateOrder("created_at", "converted_at")),
        group="marketing",
    ),
    Table(
        "opportunities",
        "Deals: one row per opportunity, as it stands now.",
        key=("opportunity_id",),
        columns=(
            _c("opportunity_id", S, "Stable id", required=True),
            _c("account_id", S, "Account (accounts.account_id); may be missing on early deals"),
            _c("owner_id", S, "Owning rep (people.person_id)"),
            _c("name", S, "Deal name"),
            _c("kind", S, "new, expansion or renewal", allowed=OPPORTUNITY_KINDS),
            _c("product", S, "Main product (products.name)"),
            _c("pipeline", S, "Pipeline whose stages `stage` belongs to", required=True),
            _c("stage", S, "Current stage (stages.stage)", required=True),
            _c("amount", M, "Deal value; the closed value once closed", minimum=0),
            _c("currency", S, "ISO currency of amount"),
            _c("created_at", T, "When the deal was created (engaged); empty when the source does not say"),
            _c("close_date", D, "Expected or actual close date"),
            _c("closed_at", T, "When it was closed, won or lost"),
            _c("is_closed", B, "Closed, won or lost", required=True),
            _c("is_won", B, "Closed and won", required=True),
            _c("discount_pct", F, "Discount off list, 0–100", minimum=0, maximum=100),
            _c("loss_reason", S, "Why it was lost"),
            _c("lead_source", S, "Where the deal came from"),
            _c("forecast_category", S, "The CRM's forecast category (Pipeline, Best Case, Commit, Closed, Omitted)"),
            _c("modified_at", T, "When the CRM last changed the record (LastModifiedDate, hs_lastmodifieddate)"),
            _c("deleted_at", T, "When a full export no longer held the record (deleted in the CRM): kept, "
               "never counted"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        date_orders=(DateOrder("created_at", "closed_at"),),
        references={"account_id": "accounts", "owner_id": "people"},
    ),
    Table(
        "opportunity_history",
        "Every change of stage, amount or close date: what the pipeline looked like on any past date.",
        key=("opportunity_id", "changed_at"),
        columns=(
            _c("opportunity_id", S, "The opportunity", required=True),
            _c("changed_at", T, "When the change happened", required=True),
            _c("stage", S, "Stage from this moment on", required=True),
            _c("amount", M, "Amount from this moment on", minimum=0),
            _c("close_date", D, "Expected close date from this moment on"),
            _c("forecast_category", S, "The CRM's forecast category from this moment on"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        references={"opportunity_id": "opportunities"},
    ),
    Table(
        "activities",
        "Sales activities: calls, connects, e-mails, meetings, demos, proposals.",
        key=("activity_id",),
        columns=(
            _c("activity_id", S, "Stable id", required=True),
            _c("person_id", S, "Who did it", required=True),
            _c("account_id", S, "Account it concerns"),
            _c("opportunity_id", S, "Opportunity it concerns"),
            _c("kind", S, "call, connect, email, meeting, demo, proposal, note, task", required=True,
               allowed=ACTIVITY_KINDS),
            _c("occurred_at", T, "When", required=True),
            _c("source", S, "Which import brought the row", required=True),
        ),
    ),
    Table(
        "subscriptions",
        "Recurring revenue: one row per subscription period at a constant MRR.",
        key=("subscription_id",),
        columns=(
            _c("subscription_id", S, "Stable id", required=True),
            _c("account_id", S, "Customer", required=True),
            _c("plan", S, "Plan or tier"),
            _c("mrr", M, "Monthly recurring revenue", required=True, minimum=0),
            _c("currency", S, "ISO currency of mrr"),
            _c("seats", N, "Seats", minimum=0),
            _c("started_at", D, "First day billed", required=True),
            _c("ended_at", D, "First day no longer billed (exclusive); empty while active"),
            _c("opportunity_id", S, "The deal that created or changed it"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        date_orders=(DateOrder("started_at", "ended_at"),),
        group="revenue",
    ),
    Table(
        "usage",
        "Weekly product usage per account.",
        key=("account_id", "week"),
        columns=(
            _c("account_id", S, "Customer", required=True),
            _c("week", D, "Monday of the ISO week", required=True),
            _c("active_paying_users", N, "Distinct active users on a paid seat", required=True, minimum=0),
            _c("seats", N, "Seats paid for", minimum=0),
            _c("source", S, "Which import brought the row", required=True),
        ),
        group="product",
    ),
    Table(
        "nps",
        "Net promoter survey responses.",
        key=("response_id",),
        columns=(
            _c("response_id", S, "Stable id", required=True),
            _c("account_id", S, "Customer"),
            _c("score", N, "0–10", required=True, minimum=0, maximum=10),
            _c("responded_at", T, "When", required=True),
            _c("comment", S, "Free text"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        group="product",
    ),
    Table(
        "goals",
        "Executives' incentivised goals and when they fall due.",
        key=("goal_id",),
        columns=(
            _c("goal_id", S, "Stable id", required=True),
            _c("owner_id", S, "Executive (people.person_id)", required=True),
            _c("metric", S, "Metric the goal is on", required=True),
            _c("target", F, "Target value", required=True),
            _c("period_start", D, "Start of the goal period", required=True),
            _c("due_date", D, "When it is measured", required=True),
            _c("source", S, "Which import brought the row", required=True),
        ),
        date_orders=(DateOrder("period_start", "due_date"),),
        group="people",
    ),
    Table(
        "tempo_targets",
        "What good looks like: a team's agreed output per period, versioned by valid_from.",
        key=("team", "deliverable", "size", "valid_from"),
        columns=(
            _c("team", S, "Team", required=True),
            _c("deliverable", S, "Kind of output (episode, launch, demo, …)", required=True),
            _c("count", N, "How many per period", required=True, minimum=0),
            _c("period", S, "week, month or quarter", required=True, allowed=("week", "month", "quarter")),
            _c("size", S, "Optional size such as 'big'; '' when it does not matter", required=False),
            _c("valid_from", D, "First day this target applies", required=True),
            _c("source", S, "Which import brought the row", required=True),
        ),
        group="tempo",
    ),
    Table(
        "shipments",
        "What each team shipped, and when.",
        key=("shipment_id",),
        columns=(
            _c("shipment_id", S, "Stable id", required=True),
            _c("team", S, "Team", required=True),
            _c("deliverable", S, "Kind of output", required=True),
            _c("title", S, "What shipped", required=True),
            _c("owner_id", S, "Who shipped it"),
            _c("shipped_at", T, "When", required=True),
            _c("size", S, "Optional size such as 'big'"),
            _c("link", S, "Where to see it"),
            _c("unplanned", B, "Unplanned work (interrupts, fixes)"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        group="tempo",
    ),
    Table(
        "gap_reviews",
        "The weekly gap conversation: gap, cause, action, owner, due date.",
        key=("review_id",),
        columns=(
            _c("review_id", S, "Stable id", required=True),
            _c("team", S, "Team", required=True),
            _c("period", S, "Period reviewed, e.g. 2026-11 or 2026-W47", required=True),
            _c("metric", S, "Deliverable or KPI", required=True),
            _c("target", F, "Target"),
            _c("actual", F, "Actual"),
            _c("cause", S, "resources, blocker, scope, skill, priority, other",
               allowed=("resources", "blocker", "scope", "skill", "priority", "other")),
            _c("action", S, "What we will do"),
            _c("owner_id", S, "Who owns the action"),
            _c("due", D, "When the action is due"),
            _c("status", S, "open or done", allowed=("open", "done")),
            _c("created_at", T, "When it was recorded", required=True),
            _c("source", S, "Which import brought the row", required=True),
        ),
        group="tempo",
    ),
    Table(
        "features",
        "Roadmap items with effort in developer hours.",
        key=("feature_id",),
        columns=(
            _c("feature_id", S, "Stable id", required=True),
            _c("title", S, "Feature", required=True),
            _c("theme", S, "Theme it belongs to"),
            _c("team", S, "Team that would build it"),
            _c("effort_hours", F, "Estimated developer hours", minimum=0),
            _c("depends_on", S, "Comma-separated feature ids it needs first"),
            _c("status", S, "idea, planned, in_progress, shipped",
               allowed=("idea", "planned", "in_progress", "shipped")),
            _c("committed_for", S, "Period it is committed for, e.g. 2026-Q1"),
            _c("shipped_at", D, "When it shipped"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        group="product",
    ),
    Table(
        "feature_requests",
        "What customers ask for, linked to accounts and deals.",
        key=("request_id",),
        columns=(
            _c("request_id", S, "Stable id", required=True),
            _c("title", S, "The request in the customer's words", required=True),
            _c("account_id", S, "Account asking"),
            _c("opportunity_id", S, "Deal it would move"),
            _c("requested_by", S, "Who logged it (people.person_id or name)"),
            _c("requested_at", T, "When", required=True),
            _c("certainty", F, "0–1: how sure we are it moves the deal", minimum=0, maximum=1),
            _c("theme", S, "Theme"),
            _c("feature_id", S, "Roadmap item that answers it"),
            _c("status", S, "open, planned, shipped, declined"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        group="product",
    ),
    Table(
        "candidates",
        "People interviewed for a role.",
        key=("candidate_id",),
        columns=(
            _c("candidate_id", S, "Stable id", required=True),
            _c("name", S, "Name", required=True),
            _c("role", S, "Role interviewed for"),
            _c("applied_at", D, "When they applied"),
            _c("status", S, "interviewing, offered, hired, rejected, withdrawn"),
            _c("person_id", S, "Their people.person_id once hired"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        group="hiring",
    ),
    Table(
        "interview_scores",
        "One interviewer's 1–10 score of one candidate on one criterion.",
        key=("candidate_id", "interviewer_id", "criterion"),
        columns=(
            _c("candidate_id", S, "Candidate", required=True),
            _c("interviewer_id", S, "Interviewer (people.person_id)", required=True),
            _c("criterion", S, "Criterion (cadence.yml hiring criteria)", required=True),
            _c("score", N, "1–10 on the criterion's anchored scale", required=True, minimum=1, maximum=10),
            _c("interviewed_at", D, "When"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        group="hiring",
    ),
    Table(
        "performance",
        "On-the-job performance per person and period: quota and what they attained.",
        key=("person_id", "period"),
        columns=(
            _c("person_id", S, "Person", required=True),
            _c("period", S, "Period, e.g. 2026-Q1", required=True),
            _c("quota", M, "Quota", minimum=0),
            _c("attained", M, "Bookings attained", minimum=0),
            _c("source", S, "Which import brought the row", required=True),
        ),
        group="hiring",
    ),
    Table(
        "hiring_fits",
        "Saved hiring formulas, one row per fit and criterion. Each saved fit is a new version; the latest is "
        "the one the predictive index uses unless another is named.",
        key=("fit_id", "criterion"),
        columns=(
            _c("fit_id", S, "The fit's name, e.g. v3", required=True),
            _c("version", N, "1 for the first fit saved, then 2, 3, …", required=True, minimum=1),
            _c("fitted_at", T, "When it was saved", required=True),
            _c("as_of", D, "Last day the fit knew: it learnt from what was recorded up to this day", required=True),
            _c("fiscal_year", N, "Fiscal year of `as_of`"),
            _c("measure", S, "Performance measure it predicts", required=True),
            _c("direction", S, "up: higher is better; down: lower is better (ramp months)", allowed=("up", "down")),
            _c("criterion", S, "Interview criterion", required=True),
            _c("rank", N, "Place in the fit's ranking, 1 = strongest predictor; criteria without a weight last",
               required=True, minimum=1),
            _c("coef_std", F, "Standardised weight (empty when too few hires to estimate it)"),
            _c("ci_low", F, "Lower end of its interval"),
            _c("ci_high", F, "Upper end of its interval"),
            _c("p_value", F, "p-value of the weight"),
            _c("formula_position", N, "Place in the formula's design, 1-based; empty when left out", minimum=1),
            _c("score_mean", F, "Mean calibrated score of the hires in the fit (for the predictive index)"),
            _c("score_sd", F, "Standard deviation of those scores"),
            _c("intercept", F, "Intercept of the standardised formula"),
            _c("n_hires", N, "Hires the fit learnt from", required=True, minimum=0),
            _c("cv_r2", F, "Cross-validated R²"),
            _c("cv_rank_correlation", F, "Held-out Spearman rank correlation"),
            _c("cv_folds", N, "Folds used to cross-validate"),
            _c("r2", F, "In-sample R²"),
            _c("reliable", B, "Enough hires per criterion and a positive cross-validated R²"),
            _c("confidence", F, "Level of the intervals", minimum=0, maximum=1),
            _c("residual_sd", F, "Residual standard deviation (standardised)"),
            _c("residual_df", N, "Residual degrees of freedom"),
            _c("outcome_mean", F, "Mean performance of the hires in the fit"),
            _c("outcome_sd", F, "Standard deviation of their performance"),
            _c("details", S, "The rest of the fit as JSON: warnings, notes, hires, covariance, calibration"),
            _c("source", S, "What saved it", required=True),
        ),
        group="hiring",
    ),
)

REFERENCE_TABLES: tuple[Table, ...] = (
    Table(
        "exchange_rates",
        "Exchange rates, Salesforce's convention: `rate` units of `currency` buy one unit of the corporate "
        "currency. A dated rate applies from `valid_from` until `valid_to` (exclusive); a rate without "
        "`valid_from` is the static rate, used where no dated rate covers the day.",
        key=("currency", "valid_from"),
        columns=(
            _c("currency", S, "ISO code of the currency", required=True),
            _c("rate", F, "Units of `currency` per one unit of the corporate currency", required=True,
               minimum=1e-12),
            _c("valid_from", D, "First day the rate applies; empty for the static rate"),
            _c("valid_to", D, "First day it no longer applies (exclusive); empty while it is the latest"),
            _c("is_corporate", B, "The source's corporate currency (Salesforce CurrencyType.IsCorporate)"),
            _c("source", S, "Which import or config declared it", required=True),
        ),
        date_orders=(DateOrder("valid_from", "valid_to"),),
        group="reference",
    ),
    Table(
        "fiscal_periods",
        "The company's own fiscal calendar (Salesforce Period/FiscalYearSettings, 4-4-5 years included): "
        "when present, fiscal years and quarters are these periods instead of cadence.yml's start month.",
        key=("kind", "start_date"),
        columns=(
            _c("kind", S, "year, quarter or month", required=True, allowed=("year", "quarter", "month")),
            _c("start_date", D, "First day of the period", required=True),
            _c("end_date", D, "Last day of the period (inclusive)", required=True),
            _c("fiscal_year", N, "The fiscal year the period belongs to, as the company names it", required=True),
            _c("number", N, "Quarter 1–4 or month 1–12 within the fiscal year; 1 for a year", minimum=1,
               maximum=14),
            _c("label", S, "Name of the period, e.g. 2024-Q1"),
            _c("source", S, "Which import brought the row", required=True),
        ),
        date_orders=(DateOrder("start_date", "end_date"),),
        group="reference",
    ),
)

SYSTEM_TABLES: tuple[Table, ...] = (
    Table(
        "quarantine",
        "Rows that failed validation, with where they came from and why. Nothing is dropped silently.",
        key=("import_key", "line", "target_table", "column_name"),
        columns=(
            _c("import_key", S, "Format and file of the import", required=True),
            _c("file", S, "Source file", required=True),
            _c("line", N, "Line in the source file (1 is the header)", required=True),
            _c("target_table", S, "Canonical table the row was meant for", required=True),
            _c("column_name", S, "Offending column ('' when the whole row is at fault)", required=True),
            _c("value", S, "Offending value as read"),
            _c("reason", S, "Why it was refused", required=True),
            _c("row_json", S, "The whole source row, as read"),
            _c("quarantined_at", T, "When", required=True),
        ),
        group="system",
    ),
    Table(
        "imports",
        "One row per import run: what was read, loaded and quarantined.",
        key=("import_key",),
        columns=(
            _c("import_key", S, "Format and file of the import", required=True),
            _c("format", S, "Import format", required=True),
            _c("path", S, "What was imported", required=True),
            _c("read", N, "Source rows read", required=True),
            _c("loaded", N, "Source rows loaded", required=True),
            _c("quarantined", N, "Source rows quarantined", required=True),
            _c("imported_at", T, "When", required=True),
        ),
        group="system",
    ),
)

TABLES = TABLES + REFERENCE_TABLES
_BY_NAME = {t.name: t for t in TABLES + SYSTEM_TABLES}


def table_named(name: str) -> Table:
    """The declared table called `name`, or an error suggesting the closest name."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownNameError("table", name, list(_BY_NAME)) from None
