"""Analyses: pure functions over the workspace's tables; no files, no printing, no config reading."""
