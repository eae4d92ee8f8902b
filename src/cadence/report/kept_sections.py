"""Scorecard sections kept between sessions: the weekly page, its delivery and the next `cadence scorecard` over the
same data read the forecast, the roadmap and every other section back instead of computing them again.

A section is kept under a key naming all it was computed from (`store/kept_results.py`):
- the warehouse's data version (any import, sync or hand entry changes it);
- cadence.yml as loaded (targets, stages, mission, … all change the key), and the theme edits in themes.yml;
- the week under review, the as-of day and where it came from, the reporting currency;
- the section, and the code that computed it (every module of Cadence, and a plug-in section's own file).

Never kept for a scoped reader (what one person may see is not kept for everyone), on an engine whose data version
Cadence cannot know (a company's own warehouse; on Spark it is the catalog's), or when the section cannot be
written as JSON and read back exactly the same; a section that refuses (an exchange rate missing) is never kept
either, so it asks again next time.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from cadence.report.model import Chart, Figure, ScorecardContext, Section, SectionProvider
from cadence.store.kept_results import KeptResults

if TYPE_CHECKING:
    from cadence.workspace import Workspace

KIND = "scorecard section"
NONE = "null"  # a section with nothing to show is kept too
log = logging.getLogger("cadence.report.kept_sections")


@cache
def code_digest() -> str:
    """A digest of every module of Cadence: another version of the code never reads this one's results."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@cache
def _module_digest(module: str) -> str:
    source = inspect.getsourcefile(__import__(module, fromlist=["_"]))
    return hashlib.sha256(Path(source).read_bytes()).hexdigest() if source else module


def provider_digest(provider: SectionProvider) -> str:
    """Names the section and its code; a plug-in section outside Cadence adds its own file's digest."""
    cls = type(provider)
    own = "" if cls.__module__.startswith("cadence.") else _module_digest(cls.__module__)
    return f"{cls.__module__}.{cls.__qualname__}:{provider.key}:{own}"


def settings_text(ws: Workspace) -> str:
    """The settings a kept result depends on beside the data: cadence.yml as loaded, and the theme edits product
    makes (themes.yml, beside it: they are in no table, so no data version sees them)."""
    from cadence.entries.themes import themes_text

    return f"{ws.config!r}\n{themes_text(ws)}"


def section_key(ws: Workspace, provider: SectionProvider, context: ScorecardContext, data_version: str) -> str:
    today = context.today
    parts = [code_digest(), provider_digest(provider), data_version, settings_text(ws), ws.currency, context.week,
             context.week_start.isoformat(), context.as_of.isoformat(),
             today.day.isoformat() if today else "", today.header() if today else ""]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# -- JSON that reads back as exactly what was written -------------------------------------------------------------
def to_plain(value: Any) -> Any:
    """`value` as JSON's types, each other type tagged so `from_plain` gives it back."""
    if isinstance(value, np.generic):  # before the plain types: a numpy float is a float too
        if isinstance(value, np.bool_):
            return {"$np_bool": bool(value)}
        if isinstance(value, np.integer):
            return {"$np_int": int(value), "dtype": str(value.dtype)}
        if isinstance(value, np.floating):
            return {"$np_float": repr(float(value)), "dtype": str(value.dtype)}
        raise TypeError(f"a {type(value).__name__} is not kept")
    if value is None or type(value) in (bool, str, int):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, pd.Timestamp):
        return {"$timestamp": value.isoformat()}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [to_plain(v) for v in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: to_plain(v) for k, v in value.items()}
        return {"$dict": [[to_plain(k), to_plain(v)] for k, v in value.items()]}
    raise TypeError(f"a {type(value).__name__} is not kept")


_TAGS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "$float": lambda d: float(d["$float"]),
    "$np_bool": lambda d: np.bool_(d["$np_bool"]),
    "$np_int": lambda d: np.dtype(d["dtype"]).type(d["$np_int"]),
    "$np_float": lambda d: np.dtype(d["dtype"]).type(float(d["$np_float"])),
    "$timestamp": lambda d: pd.Timestamp(d["$timestamp"]),
    "$datetime": lambda d: datetime.fromisoformat(d["$datetime"]),
    "$date": lambda d: date.fromisoformat(d["$date"]),
    "$decimal": lambda d: Decimal(d["$decimal"]),
    "$tuple": lambda d: tuple(from_plain(v) for v in d["$tuple"]),
    "$dict": lambda d: {from_plain(k): from_plain(v) for k, v in d["$dict"]},
}


def from_plain(value: Any) -> Any:
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    if isinstance(value, dict):
        tag = next((k for k in value if k in _TAGS), None)
        if tag is not None:
            return _TAGS[tag](value)
        return {k: from_plain(v) for k, v in value.items()}
    return value


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types (NaN equals NaN): what a kept section must read back as."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (float, np.floating)):
        return bool(a == b or (math.isnan(a) and math.isnan(b)))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (Section, Figure, Chart)):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    return bool(a == b)


def encode(section: Section | None) -> str:
    if section is None:
        return NONE
    plain = {f.name: to_plain(getattr(section, f.name)) for f in fields(Section) if f.name not in ("figures", "charts")}
    plain["figures"] = [{f.name: to_plain(getattr(fig, f.name)) for f in fields(Figure)} for fig in section.figures]
    plain["charts"] = [{f.name: to_plain(getattr(c, f.name)) for f in fields(Chart)} for c in section.charts]
    return json.dumps(plain, ensure_ascii=False, allow_nan=False)


def decode(body: str) -> Section | None:
    plain = json.loads(body)
    if plain is None:
        return None
    figures = [Figure(**{k: from_plain(v) for k, v in f.items()}) for f in plain.pop("figures")]
    charts = [Chart(**{k: from_plain(v) for k, v in c.items()}) for c in plain.pop("charts")]
    return Section(**{k: from_plain(v) for k, v in plain.items()}, figures=figures, charts=charts)


class KeptSections:
    """The sections of one scorecard build: each read back when kept for the same inputs, else computed (and kept)."""

    def __init__(self, ws: Workspace, context: ScorecardContext, reuse: bool = True):
        """`reuse` False: every section is computed again, and kept for the next reader."""
        self._ws = ws
        self._context = context
        self._store = KeptResults(ws.warehouse)
        self._reuse = reuse
        self._version: str | None = None
        if ws.keeps_results and self._store.kept:
            self._version = ws.warehouse.data_version()
        self.enabled = self._version is not None

    def build(self, provider: SectionProvider) -> Section | None:
        """`provider`'s section: read back, or computed now. Refusals (MissingRatesError, AccessDenied) pass up."""
        if not self.enabled or self._version is None:
            return provider.build(self._ws, self._context)
        key = section_key(self._ws, provider, self._context, self._version)
        return read_or_compute(self._store, key, KIND, f"section {provider.key}",
                               lambda: provider.build(self._ws, self._context), encode, decode, reuse=self._reuse)


T = TypeVar("T")


def read_or_compute(store: KeptResults, key: str, kind: str, what: str, compute: Callable[[], T],
                    write: Callable[[T], str], read: Callable[[str], T], *, reuse: bool = True) -> T:
    """What is kept under `key`, read back; else `compute()`, kept when it reads back exactly as computed (`same`),
    only shown when it does not or cannot be written (`what` names it in the log). `reuse` False computes again."""
    body = store.get(key) if reuse else None
    if body is not None:
        return read(body)
    value = compute()
    try:
        text = write(value)
        faithful = same(read(text), value)
    except (TypeError, ValueError) as error:
        log.info("%s not kept: %s", what, error)
        return value
    if faithful:
        store.put(key, kind, text)
    else:
        log.info("%s not kept: it does not read back exactly as computed", what)
    return value
