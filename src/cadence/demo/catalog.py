"""What customers ask for and what product builds: themes, the words customers use, and the roadmap.

Each theme is one need that customers put in many different words ("account-level permissions",
"restrict what guests can do"). Features answer themes; a few ship during the three years and
unblock the deals that were waiting for them, the rest ship without changing any deal's fate or
stay on the backlog for the roadmap optimiser.
"""

from __future__ import annotations

# theme → the different ways customers phrase the need
THEMES: dict[str, tuple[str, ...]] = {
    "permissions": (
        "Account-level permissions", "Restrict what guests can do", "Role-based access control for teams",
        "Admins need to limit what each user can change", "Granular permissions per workspace",
        "Hide sensitive reports from contractors",
    ),
    "single_sign_on": (
        "SAML SSO with Okta", "Single sign-on through Azure AD", "Let staff log in with our identity provider",
        "Automatic user provisioning from our directory", "SSO is a hard security requirement for us",
    ),
    "salesforce_sync": (
        "Two-way Salesforce sync", "Push results back into our CRM", "Salesforce integration for opportunities",
        "Keep Salesforce and Northwind in step automatically", "A CRM connector for Salesforce",
    ),
    "audit_trail": (
        "Audit trail of who changed what", "Change history we can show auditors", "Log every admin action",
        "Export an audit log for SOX reviews",
    ),
    "api_access": (
        "An API to pull our data", "Programmatic access to reports", "REST endpoints for exports",
        "Webhooks when a record changes", "Notify our internal systems when something updates",
    ),
    "custom_reporting": (
        "Build our own dashboards", "Customisable charts on the home screen", "Drag-and-drop report builder",
        "E-mail the weekly report automatically", "Schedule PDF reports to our executives",
    ),
    "data_residency": (
        "Host our data in the EU", "GDPR means our data must stay in Europe", "A European data centre option",
        "Data residency in Frankfurt",
    ),
    "mobile_offline": (
        "Use the app without a signal", "Offline mode on phones", "Mobile access for people in the field",
        "Our field teams need an iPad app that works offline",
    ),
    "chat_alerts": (
        "Alerts in Slack", "Post updates to a Slack channel", "Deal alerts in our chat tool",
        "Notify us in Microsoft Teams or Slack",
    ),
    "multi_currency": (
        "Report in euros and pounds", "Support several currencies", "Convert amounts to our home currency",
        "Exchange rates for international deals",
    ),
    "bulk_import": (
        "Upload thousands of records at once", "Import from spreadsheets", "Bulk-load our historical data",
        "Mass update through a CSV file",
    ),
    "healthcare_compliance": (
        "Sign a BAA for patient data", "HIPAA-ready hosting", "Healthcare compliance certification",
        "Controls for protected health information",
    ),
}

# (key, title, theme, effort hours, depends on (keys), big launch, ship date or None, unblocks deals)
Feature = tuple[str, str, str, int, tuple[str, ...], bool, str | None, bool]
THEMED_FEATURES: tuple[Feature, ...] = (
    ("bulk_import", "Bulk CSV import", "bulk_import", 160, (), False, "2023-04-18", False),
    ("slack", "Slack notifications", "chat_alerts", 90, (), False, "2023-06-13", False),
    ("dashboards", "Custom dashboards", "custom_reporting", 520, (), True, "2023-09-19", False),
    ("audit_log", "Audit log", "audit_trail", 220, (), False, "2023-11-14", False),
    ("sso", "SAML single sign-on", "single_sign_on", 260, (), False, "2024-05-14", True),
    ("api", "Public REST API", "api_access", 480, (), True, "2024-07-16", False),
    ("permissions", "Account-level permissions", "permissions", 640, (), True, "2024-10-15", True),
    ("scheduled_reports", "Scheduled report e-mails", "custom_reporting", 120, ("dashboards",), False,
     "2024-12-10", False),
    ("salesforce", "Salesforce two-way sync", "salesforce_sync", 560, ("api",), True, "2025-04-15", True),
    ("webhooks", "Webhooks", "api_access", 140, ("api",), False, "2025-06-10", False),
    ("scim", "SCIM user provisioning", "single_sign_on", 180, ("sso",), False, "2025-08-12", False),
    ("residency", "EU data residency", "data_residency", 900, (), True, "2025-10-14", True),
    ("guest_access", "Guest access controls", "permissions", 200, ("permissions",), False, "2025-11-18", False),
    ("offline", "Offline mobile app", "mobile_offline", 1_100, (), False, None, False),
    ("currency", "Multi-currency reporting", "multi_currency", 380, (), False, None, False),
    ("hipaa", "HIPAA compliance programme", "healthcare_compliance", 1_400, ("audit_log",), False, None, False),
    ("permission_templates", "Permission templates", "permissions", 160, ("permissions",), False, None, False),
    ("teams_alerts", "Microsoft Teams notifications", "chat_alerts", 110, ("slack",), False, None, False),
    ("incremental_import", "Incremental sync from spreadsheets", "bulk_import", 240, ("bulk_import",), False, None,
     False),
)

# Launches nobody asked for in so many words: they keep the tempo between the themed ones.
GENERIC_LAUNCHES = (
    "Faster report loading", "Dark mode", "New onboarding checklist", "Keyboard shortcuts", "Improved search",
    "Redesigned settings page", "Bulk edit in tables", "Weekly digest e-mail", "Saved filters", "Inline editing",
    "Activity timeline", "Pinned views", "Template gallery", "Usage insights page", "Comment threads",
    "Better CSV export", "Goal tracking widget", "Faster mobile web", "Improved charts", "Data quality hints",
    "Smart defaults for new workspaces", "Calendar view", "Sharing links", "Workspace switcher",
    "Accessibility improvements", "Guided tours", "Custom fields", "Field validation rules", "Favourite reports",
    "Trend lines on charts", "Quick add", "Portfolio view", "Bulk archive", "Recent items menu", "Print layouts",
    "Timezone settings", "Duplicate detection", "Column reordering", "Cohort charts", "Forecast snapshot",
    "Annotation notes", "Colour themes", "Notification preferences", "Multi-select filters", "Board view",
    "Gantt timeline", "Relative date filters", "Drill-down on charts", "Weekly goals view", "Status pages",
    "Quick filters", "Sticky headers", "Auto-refresh dashboards", "Public changelog", "Zapier actions",
    "Email-to-record", "Smart reminders", "Attachment previews", "Data retention settings", "Import mapping memory",
    "Org chart view", "Emoji reactions", "Tagging", "Batch invitations", "Session timeout policy", "Two-factor login",
    "Usage-based alerts", "Heatmap charts", "Funnel charts", "Benchmark reports", "Rollup fields", "Formula fields",
    "Conditional formatting", "Multi-language interface", "Undo history", "Offline drafts", "Split view",
)
BIG_GENERIC_LAUNCHES = (
    "Northwind 3.0 interface", "Forecasting assistant", "Workflow automation builder", "Scorecards for teams",
    "Embedded analytics", "Realtime collaboration", "Planning workspace", "Northwind Insights suite",
)
BACKLOG_IDEAS = (
    ("AI summary of accounts", 420), ("Territory planning", 360), ("Custom objects", 900), ("Sandbox workspaces",
    300), ("Approval workflows", 280), ("Native BI connector", 460), ("Revenue attribution model", 520),
    ("Quota planning", 340), ("Commission statements", 610), ("Customer health score", 260),
    ("Usage-based billing sync", 480), ("Partner portal", 700), ("Advanced forecasting categories", 220),
    ("Call recording integration", 300), ("Chrome extension", 180), ("Data warehouse export", 240),
    ("White-label reports", 380), ("Mobile push notifications", 150), ("Field-level history", 200),
    ("Calendar sync", 130),
)
