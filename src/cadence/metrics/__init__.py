"""The metric registry (issue 3)."""
