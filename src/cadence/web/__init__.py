"""`cadence serve`: the weekly meeting in the browser — every page a render of the results the CLI prints."""
