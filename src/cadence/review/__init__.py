"""The weekly review: snapshots of the scorecard as leadership saw it, what changed, and the gap-action loop."""
