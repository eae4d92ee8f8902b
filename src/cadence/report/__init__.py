"""Scorecard assembly and reports (issue 3)."""
