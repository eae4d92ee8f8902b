"""Assemble the weekly executive scorecard from its sections."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from cadence.analysis.as_of import resolve_as_of
from cadence.errors import AccessDenied, InputError
from cadence.metrics.money import MissingRatesError
from cadence.report.configure_next import configure_next
from cadence.report.kept_sections import KeptSections
from cadence.report.model import Scorecard, ScorecardContext, Section
from cadence.report.sections import SECTIONS

if TYPE_CHECKING:
    from cadence.workspace import Workspace


def week_context(ws: Workspace, week: str | None, today: date | None = None) -> ScorecardContext:
    """The ISO week under review: `week` (YYYY-Www), else the last complete week before the as-of day."""
    as_of = resolve_as_of(ws, today)
    if week:
        try:
            year_text, number_text = week.upper().split("-W")
            start = date.fromisocalendar(int(year_text), int(number_text), 1)
        except ValueError:
            raise InputError(f"not an ISO week: {week!r}", hint="write it as YYYY-Www, e.g. 2026-W47") from None
    else:
        last = as_of.day
        start = last - timedelta(days=last.weekday())
        if last.weekday() < 6:  # the week is not over: review the last complete one
            start -= timedelta(days=7)
    iso = start.isocalendar()
    return ScorecardContext(f"{iso.year}-W{iso.week:02d}", start, start + timedelta(days=7),
                            today=as_of)


def build_scorecard(ws: Workspace, *, week: str | None = None, today: date | None = None,
                    currency: str | None = None, fresh: bool = False) -> Scorecard:
    """The scorecard of the week under review, every money figure in `currency` (None: the corporate one).

    Each section computed for the same data, settings and week before is read back (`report/kept_sections.py`);
    `fresh` computes every one again (and keeps it)."""
    with ws.reporting_in(currency):
        return _build(ws, week, today, fresh)


def prepare_scorecard(ws: Workspace) -> bool:
    """Compute and keep this week's scorecard for the data as it stands (the corporate currency, the week under
    review), so the first reader, page or delivery after a sync reads it back instead of waiting for it. Whether
    it is kept: not on an engine that keeps no results (a company's own warehouse)."""
    if not KeptSections(ws, week_context(ws, None)).enabled:
        return False
    build_scorecard(ws)
    return True


def _build(ws: Workspace, week: str | None, today: date | None, fresh: bool) -> Scorecard:
    context = week_context(ws, week, today)
    kept = KeptSections(ws, context, reuse=not fresh)
    sections = []
    setup = configure_next(ws.config)  # an unconfigured company sees what to add, not empty columns
    if setup is not None:
        sections.append(setup)
    for provider in sorted(SECTIONS, key=lambda p: p.order):
        try:
            section = kept.build(provider)
        except MissingRatesError as refused:  # never a mixed sum: the section says why it is not shown
            section = Section(provider.key, provider.title, notes=[f"Not shown: {refused.one_line()}"])
        except AccessDenied:  # a scoped reader's scorecard simply has no section over rows they may not see
            section = None
        if section is not None:
            sections.append(section)
    mission: dict[str, Any] | None = None
    if ws.config.mission is not None:
        mission = {"statement": ws.config.mission.statement, "metric": ws.config.mission.metric,
                   "principles": list(ws.config.mission.principles)}
    shown = {f.metric for s in sections for f in s.figures if f.metric}
    definitions = [{"name": m.name, "label": m.label, "description": m.description, "formula": m.formula,
                    "unit": m.unit, "direction": m.direction, "owner": m.owner}
                   for m in ws.registry if m.name in shown]
    return Scorecard(ws.config.company, ws.currency, context, mission, sections, definitions)
