"""The demo company: Northwind Analytics, three fiscal years of go-to-market data with planted truths.

`build_demo(DIR)` generates it from a seed and loads it through the shared import path; it is
the fixture every analysis is tested against: `plan.json` in the workspace says what was planted,
`truths.json` what the warehouse shows, measured after the load.
"""

from cadence.demo.build import build_demo

__all__ = ["build_demo"]
