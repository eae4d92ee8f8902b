"""Scheduled delivery: each recipient's own scorecard by email and Slack, exactly once per slot, kept as sent."""
