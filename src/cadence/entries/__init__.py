"""What people type in by hand — a shipment, a request, a tempo target, a gap review — written like any import.

`policy` is the one rule every hand entry follows: the entry is one row checked against the canonical schema
like an import row; a row the schema refuses is an `EntryRefused` naming the field and what to do, with nothing
written; a good entry goes through the same prepare/load transaction as an import (so it is logged in `imports`)
and is idempotent by its key. `tempo` and `requests` build their entries and call it.
"""

from cadence.entries.policy import Entry, EntryRefused, Written, write_entry
from cadence.entries.requests import RequestAdded, add_request
from cadence.entries.tempo import (
           ReviewClosed,
           ReviewRecorded,
           ShipmentLogged,
           TargetSet,
           close_review,
           record_review,
           record_shipment,
           set_target,
)

__all__ = ["Entry", "EntryRefused", "RequestAdded", "ReviewClosed", "ReviewRecorded", "ShipmentLogged", "TargetSet",
           "Written", "add_request", "close_review", "record_review", "record_shipment", "set_target", "write_entry"]
