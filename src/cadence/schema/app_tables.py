"""The web app's own tables: who may sign in, their sessions, the audit log, weekly snapshots, comments.

They hold what people do in Cadence rather than what the CRM says, so no import writes them: the
accounts, review and web layers do, each write in one transaction. The audit log is append-only.
"""

from __future__ import annotations

from cadence.schema.model import Table, _c
from cadence.schema.types import ColumnType

S, N, B, D, T, M = (ColumnType.STRING, ColumnType.INTEGER, ColumnType.BOOLEAN, ColumnType.DATE,
                    ColumnType.TIMESTAMP, ColumnType.MONEY)

ROLES = ("admin", "executive", "manager", "rep", "recruiter", "viewer")

APP_TABLES: tuple[Table, ...] = (
    Table(
        "users",
        "People who may sign in to Cadence, with the role that decides what they see.",
        key=("user_id",),
        columns=(
            _c("user_id", S, "Sign-in name", required=True),
            _c("display_name", S, "Name shown on pages"),
            _c("role", S, "admin, executive, manager, rep, recruiter or viewer", required=True, allowed=ROLES),
            _c("team", S, "The team a manager leads (people.team)"),
            _c("person_id", S, "The person they are in `people` (a rep's own deals, a hiring manager's candidates)"),
            _c("email", S, "Where deliveries go"),
            _c("password_hash", S, "argon2id hash; empty for OpenID Connect users"),
            _c("oidc_subject", S, "Issuer and subject of an OpenID Connect identity"),
            _c("disabled", B, "May no longer sign in"),
            _c("created_at", T, "When the user was added", required=True),
        ),
        group="app",
    ),
    Table(
        "sessions",
        "Signed-in sessions, server side: the browser holds a random token, the warehouse its SHA-256.",
        key=("token_hash",),
        columns=(
            _c("token_hash", S, "SHA-256 of the session token", required=True),
            _c("user_id", S, "Who signed in", required=True),
            _c("created_at", T, "When", required=True),
            _c("last_seen_at", T, "Last request"),
            _c("expires_at", T, "When it ends without a sign-out", required=True),
            _c("revoked_at", T, "When it was signed out or revoked"),
            _c("address", S, "Client address at sign-in"),
            _c("user_agent", S, "Browser at sign-in"),
        ),
        group="app",
    ),
    Table(
        "audit_log",
        "Append-only: sign-ins and failures, every write with before and after, every export, every view of "
        "hiring pages, role and metric-definition changes.",
        key=("event_id",),
        columns=(
            _c("event_id", S, "Random id", required=True),
            _c("at", T, "When (UTC)", required=True),
            _c("actor", S, "user_id of who did it; empty when nobody was signed in"),
            _c("action", S, "sign_in, sign_in_failed, sign_out, write, export, view, role_change, "
                            "definition_change, session_revoked, …", required=True),
            _c("target", S, "What it was done to, e.g. users/ana or /metrics/bookings/rows.csv"),
            _c("before_json", S, "The record before, as JSON"),
            _c("after_json", S, "The record after, as JSON"),
            _c("address", S, "Client address"),
        ),
        group="app",
    ),
    Table(
        "snapshots",
        "A week's scorecard computed once and kept as leadership saw it: figures, statuses, rules and the "
        "version of the metric definitions.",
        key=("week_start", "scope"),
        columns=(
            _c("week_start", D, "Monday of the week", required=True),
            _c("scope", S, "company, team:NAME or person:ID", required=True),
            _c("snapshot_id", S, "Stable id", required=True),
            _c("computed_at", T, "When it was computed", required=True),
            _c("computed_by", S, "user_id, or the command that computed it"),
            _c("as_of", D, "The data's last day the scorecard counted up to", required=True),
            _c("definitions_version", S, "Hash of every metric definition and KPI rule used", required=True),
            _c("payload_json", S, "The scorecard result as JSON", required=True),
        ),
        group="app",
    ),
    Table(
        "comments",
        "The thread on a scorecard figure or a gap action.",
        key=("comment_id",),
        columns=(
            _c("comment_id", S, "Random id", required=True),
            _c("subject", S, "What it is about, e.g. kpi:Sales/bookings or action:ID", required=True),
            _c("week_start", D, "Week of the scorecard it was written on"),
            _c("team", S, "Team of the figure (who may read it)"),
            _c("author", S, "user_id", required=True),
            _c("at", T, "When", required=True),
            _c("body", S, "Text, shown escaped", required=True),
        ),
        group="app",
    ),
    Table(
        "deliveries",
        "Every scheduled message, as sent: one row per schedule, recipient, channel and slot — the database refuses "
        "a second, so a repeated or racing run never sends twice. Rows are inserted, then only their status "
        "columns change.",
        key=("delivery_id",),
        unique=("schedule", "recipient", "channel", "slot"),
        columns=(
            _c("delivery_id", S, "Random id", required=True),
            _c("schedule", S, "Schedule name in cadence.yml (or 'test' for a test send)", required=True),
            _c("recipient", S, "user_id of the recipient", required=True),
            _c("channel", S, "email or slack", required=True, allowed=("email", "slack")),
            _c("slot", T, "The scheduled moment (UTC) this message is for", required=True),
            _c("address", S, "Where it went: the email address or the Slack channel"),
            _c("scope", S, "The recipient's scope (company, team:NAME, person:ID)"),
            _c("snapshot_id", S, "The weekly snapshot it showed"),
            _c("status", S, "claimed, sent, failed or skipped", required=True,
               allowed=("claimed", "sent", "failed", "skipped")),
            _c("attempts", N, "Tries so far", minimum=0),
            _c("subject", S, "Subject line or Slack summary"),
            _c("body_text", S, "The plain-text part, as sent"),
            _c("body_html", S, "The HTML part, as sent (images referenced by cid)"),
            _c("payload_json", S, "The Slack message's blocks, as sent"),
            _c("error", S, "Why the last try failed (never a credential)"),
            _c("created_at", T, "When the run claimed it", required=True),
            _c("sent_at", T, "When it was accepted by the mail server or Slack"),
        ),
        group="app",
    ),
    Table(
        "forecast_calls",
        "Each forecaster's call on a quarter, as made: commit and best case with the moment they were called. "
        "Rows are only ever inserted — a new call is a new row — so what anyone predicted, and when, is kept.",
        key=("call_id",),
        columns=(
            _c("call_id", S, "Random id", required=True),
            _c("person_id", S, "The forecaster (people.person_id): a manager or a rep", required=True),
            _c("quarter", S, "The fiscal quarter called, e.g. 2026-Q1", required=True),
            _c("commit_amount", M, "What they commit to close in the quarter", required=True, minimum=0),
            _c("best_case_amount", M, "What could close if the best cases land", minimum=0),
            _c("currency", S, "Currency of the amounts (the corporate currency)", required=True),
            _c("called_at", T, "When the call was made (UTC)", required=True),
            _c("recorded_by", S, "user_id of who entered it (the CLI records 'cli', the demo 'demo')"),
            _c("note", S, "What the forecaster said about it"),
        ),
        group="app",
    ),
    Table(
        "sync_runs",
        "One row per CRM sync: what it read, loaded, quarantined and deleted, and the cursor the next "
        "incremental sync starts from.",
        key=("run_id",),
        columns=(
            _c("run_id", S, "Random id", required=True),
            _c("source", S, "salesforce or hubspot", required=True),
            _c("started_at", T, "When it started (UTC)", required=True),
            _c("finished_at", T, "When it finished"),
            _c("status", S, "running, succeeded or failed", required=True,
               allowed=("running", "succeeded", "failed")),
            _c("full", B, "A full sync (every record) rather than an incremental one"),
            _c("cursor", S, "JSON: per object, the last modification time seen (the next sync's start)"),
            _c("read", N, "Records read from the API", minimum=0),
            _c("loaded", N, "Records loaded", minimum=0),
            _c("quarantined", N, "Records quarantined", minimum=0),
            _c("deleted", N, "Records deleted in the CRM and removed from the warehouse", minimum=0),
            _c("message", S, "Why it failed, or what it noticed (never a credential)"),
        ),
        group="app",
    ),
)
