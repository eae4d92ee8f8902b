"""Product and sales on one dollar KPI: feature requests valued in dollars, grouped into themes, a roadmap
chosen by an exact optimiser under developer capacity, and the influence of shipped features on deals.

- `themes`: requests that ask for the same thing in other words, grouped; edited by hand with overrides.
- `value`: dollars per request, theme and feature, each with its breakdown (`chances`: the odds used).
- `optimiser`: the exact mixed-integer program and the naive plan beside it (pure: candidates in).
- `plan`: warehouse → values at each ship date → the optimal and the naive plan.
- `influence`: asking deals against comparable deals after a feature ships; product-influenced bookings.

Pure: tables in (any `table(name)` source), results out; no files, no printing, no configuration.
"""
