"""`Company`: everything the demo generator made, before it becomes canonical tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cadence.demo.people import Org
from cadence.demo.product import Roadmap
from cadence.demo.revenue import Revenue
from cadence.demo.skills import RepSkills


@dataclass
class Company:
    """Everything generated, before it becomes canonical tables."""

    org: Org
    skills: RepSkills
    roadmap: Roadmap
    revenue: Revenue
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
