"""A feature request typed in (`cadence requests add`), written by the one hand-entry policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cadence.analysis.roadmap.data import check_request_links
from cadence.entries.policy import Entry, Written, write_entry
from cadence.ingest.request_sources import MANUAL_FORMAT, NewRequest, manual_request_batch
from cadence.schema.validate import LINE

if TYPE_CHECKING:
    from cadence.workspace import Workspace


@dataclass(frozen=True)
class RequestAdded:
    request_id: str
    title: str
    written: Written

    def as_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, **self.written.summary}


def add_request(ws: Workspace, request: NewRequest, *, now: datetime | None = None) -> RequestAdded:
    """Add one request: its account, deal and feature must exist; its id is made from its content unless given,
    so the same request entered again is one request."""
    check_request_links(ws, account_id=request.account_id, opportunity_id=request.opportunity_id,
                        feature_id=request.feature_id)
    frame = manual_request_batch(request, now=now).frames[0].frame  # the row as an import reads it
    row = {str(k): v for k, v in frame.iloc[0].items() if k != LINE}
    request_id = str(row["request_id"])
    written = write_entry(ws, Entry("request", "feature_requests", row, MANUAL_FORMAT, request_id))
    return RequestAdded(request_id, request.title, written)
