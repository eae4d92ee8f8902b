"""`python -m cadence.cli …` runs the same command as `cadence …`."""

from cadence.cli.main import run

run()
