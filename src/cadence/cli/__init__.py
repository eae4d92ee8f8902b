"""The `cadence` command: thin shells over the workspace and the analyses."""
