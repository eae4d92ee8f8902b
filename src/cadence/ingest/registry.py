"""The import formats Cadence knows, by the name users pass to `--from`."""

from __future__ import annotations

import importlib

from cadence.errors import UnknownNameError
from cadence.ingest.batch import Importer

# name -> (module, class, one-line description); modules load only when used.
FORMATS: dict[str, tuple[str, str, str]] = {
    "csv": ("cadence.ingest.generic", "GenericImporter", "CSV/TSV files with a mapping file (--mapping)"),
    "xlsx": ("cadence.ingest.generic", "GenericImporter", "Excel workbooks with a mapping file (--mapping)"),
    "parquet": ("cadence.ingest.generic", "GenericImporter", "Parquet files with a mapping file (--mapping)"),
    "salesforce": ("cadence.ingest.salesforce", "SalesforceImporter",
                   "Salesforce Data Loader or report exports: Account, Opportunity, OpportunityHistory, "
                   "User, Task, Event"),
    "hubspot": ("cadence.ingest.hubspot", "HubSpotImporter", "HubSpot CRM exports of deals, companies and contacts"),
    "maven": ("cadence.ingest.maven", "MavenImporter",
              "The Maven Analytics CRM sample (accounts, products, teams, pipeline)"),
    "jira": ("cadence.ingest.tempo_sources", "JiraImporter",
             "Jira issue CSV export as shipments, counted by a tempo mapping (--mapping)"),
    "linear": ("cadence.ingest.tempo_sources", "LinearImporter",
               "Linear issue CSV export as shipments, counted by a tempo mapping (--mapping)"),
    "github-releases": ("cadence.ingest.tempo_sources", "GitHubReleasesImporter",
                        "GitHub releases JSON (REST API list of releases) as shipments, with a tempo mapping"),
    "rss": ("cadence.ingest.tempo_sources", "RssImporter",
            "A podcast's RSS 2.0 feed: each episode a shipment, with a tempo mapping (--mapping)"),
    "shipments": ("cadence.ingest.tempo_sources", "ShipmentsCsvImporter",
                  "A CSV log of shipments (title, shipped_at, team, deliverable, …); tempo mapping optional"),
    "greenhouse": ("cadence.ingest.hiring_sources", "GreenhouseImporter",
                   "Greenhouse scorecard exports: Candidate ID, Interviewer, Attribute, Rating"),
    "interview-scores": ("cadence.ingest.hiring_sources", "InterviewScoresImporter",
                         "Interview scores as CSV: candidate_id, interviewer_id, criterion, score (1–10)"),
    "productboard": ("cadence.ingest.request_sources", "RequestImporter",
                     "Productboard notes or insights export: feature requests"),
    "canny": ("cadence.ingest.request_sources", "RequestImporter", "Canny posts export: feature requests"),
}


def importer_for(name: str) -> Importer:
    """The importer registered as `name`, or an error suggesting the closest format."""
    if name not in FORMATS:
        raise UnknownNameError("import format", name, list(FORMATS))
    module_name, class_name, _ = FORMATS[name]
    importer: Importer = getattr(importlib.import_module(module_name), class_name)(name)
    return importer
