"""Which syncs are due: a source's `cron:` slot that has passed since its last successful sync.

The cron line is read on its time zone's wall clock, exactly as delivery schedules are (`config.cron`). A
source is due when its latest slot at or before now is later than the start of its last successful sync
(or it never succeeded); a scheduler that was down all night syncs once when it comes back, not once per
missed slot.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cadence.config.cron import latest_slot
from cadence.errors import CadenceError, InputError
from cadence.progress import Progress
from cadence.sync.run import Connector, SyncOutcome, last_started, run_sync
from cadence.workspace import Workspace

__all__ = ["connector_for", "due_sources", "sync_due", "sync_source"]


def connector_for(ws: Workspace, source: str) -> Connector:
    """The connector cadence.yml's `sources.<source>` block configures, or a clear error when there is none."""
    config = getattr(ws.config.sources, source, None) if source in ("salesforce", "hubspot") else None
    if config is None:
        raise InputError(f"cadence.yml has no `sources: {{{source}: …}}` block",
                         hint="see docs/sync.md for the block to add" if source in ("salesforce", "hubspot")
                         else "cadence sync salesforce, or cadence sync hubspot")
    if source == "salesforce":
        from cadence.sync.salesforce import SalesforceConnector

        return SalesforceConnector(config)
    from cadence.sync.hubspot import HubSpotConnector

    return HubSpotConnector(config)


def sync_source(ws: Workspace, source: str, *, full: bool = False, progress: Progress | None = None,
                connector: Connector | None = None) -> SyncOutcome:
    """Sync one CRM configured in cadence.yml (see run.py)."""
    return run_sync(ws, source, connector or connector_for(ws, source), full=full, progress=progress)


def due_sources(ws: Workspace, now: datetime | None = None) -> list[str]:
    """The configured sources with a `cron:` whose latest slot has passed since their last successful sync."""
    moment = now or datetime.now(UTC)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    due = []
    for name in ws.config.sources.configured():
        config = getattr(ws.config.sources, name)
        if not config.cron:
            continue
        slot = latest_slot(config, moment)
        last = last_started(ws, name)
        if last is None or last.replace(tzinfo=UTC) < slot:
            due.append(name)
    return due


def sync_due(ws: Workspace, now: datetime | None = None, *, progress: Progress | None = None,
             connectors: dict[str, Connector] | None = None) -> list[dict[str, Any]]:
    """Run every due sync (one after the other); a failure is reported and the next source still syncs."""
    results: list[dict[str, Any]] = []
    for name in due_sources(ws, now):
        try:
            outcome = sync_source(ws, name, progress=progress, connector=(connectors or {}).get(name))
            results.append(outcome.summary())
        except CadenceError as error:
            results.append({"source": name, "status": "failed", "message": error.one_line()})
    return results
