"""Live CRM sync: Salesforce and HubSpot read through their APIs, loaded the way an export is imported.

`cadence sync [salesforce|hubspot]` (and `--due`, and the scheduler in `cadence serve`) call `sync_source`;
each CRM's connector reads what changed, and the export importers' mapping, validation, quarantine and
reconciliation load it as one transaction (run.py). docs/sync.md says how to connect each CRM.
"""

from cadence.sync.schedule import due_sources, sync_due, sync_source

__all__ = ["due_sources", "sync_due", "sync_source"]
