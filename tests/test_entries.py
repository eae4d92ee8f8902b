"""Every hand-entry path follows one policy: a bad entry is refused in one line naming the field, with nothing
written; a good entry is logged like an import and, entered twice, is there once — on DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest

from cadence.entries import EntryRefused, add_request, record_review, record_shipment, set_target
from cadence.hiring_ops import ScoreEntry, enter_score
from cadence.ingest.request_sources import NewRequest
from cadence.workspace import Workspace

WRITTEN_TO = ("shipments", "tempo_targets", "gap_reviews", "feature_requests", "interview_scores", "quarantine",
              "imports")


def rows_in(ws: Workspace) -> dict[str, int]:
    """Rows per table written by hand entries, counted in SQL rather than through the entries' own reads."""
    return {table: ws.warehouse.query(f"SELECT COUNT(*) FROM {table}")[0][0] for table in WRITTEN_TO}


def podcast(ws: Workspace) -> None:
    """A team with a weekly target and one week short of it: something to ship against and to review."""
    set_target(ws, "Podcast", "episode", 2, "week", valid_from=date(2025, 3, 3))
    record_shipment(ws, "Podcast", "episode", "Only one", shipped_at=datetime(2025, 3, 4, 10))


BAD_ENTRIES: dict[str, tuple[Callable[[Workspace], object], str, str]] = {
    "shipment": (lambda ws: record_shipment(ws, "Podcast", "episode", "", shipped_at=datetime(2025, 3, 5)),
                 "shipment", "title"),
    "tempo target": (lambda ws: set_target(ws, "Podcast", "episode", -1, "week", valid_from=date(2025, 4, 7)),
                     "tempo target", "count"),
    "gap review": (lambda ws: record_review(ws, "Podcast", "episode", cause="bad luck", action="x", owner=None,
                                            due=date(2025, 3, 20), period="2025-W10", today=date(2025, 3, 9)),
                   "gap review", "cause"),
    "interview score": (lambda ws: enter_score(ws, ScoreEntry("C1", "P1", "grit", "11", date(2025, 3, 5))),
                        "score", "score"),
    "request": (lambda ws: add_request(ws, NewRequest("Okta SSO", certainty=1.5, requested_at=datetime(2025, 3, 1))),
                "request", "certainty"),
}


@pytest.mark.parametrize("path", list(BAD_ENTRIES))
def test_each_entry_path_refuses_a_bad_entry_the_same_way_and_writes_nothing(any_workspace: Workspace,
                                                                             path: str) -> None:
    ws = any_workspace
    podcast(ws)
    before = rows_in(ws)
    enter, what, column = BAD_ENTRIES[path]
    with pytest.raises(EntryRefused) as caught:
        enter(ws)
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith(f"{what} refused — {column} ")
    assert f"correct {column} and enter it again; nothing was written" in line
    assert caught.value.column == column
    assert rows_in(ws) == before  # no row, no quarantine, no import logged


def test_a_good_entry_entered_twice_is_there_once_and_logged_as_an_import(any_workspace: Workspace) -> None:
    ws = any_workspace
    for _ in range(2):
        podcast(ws)
        record_review(ws, "Podcast", "episode", cause="scope", action="Keep one in reserve", owner=None,
                      due=date(2025, 3, 14), today=date(2025, 3, 9))
        add_request(ws, NewRequest("Okta SSO", requested_by="ann@acme.com", certainty="critical",
                                   requested_at=datetime(2025, 3, 1)))
        enter_score(ws, ScoreEntry("C1", "P1", "grit", "7", date(2025, 3, 5)))
    counts = rows_in(ws)
    assert {t: n for t, n in counts.items() if t not in ("quarantine", "imports")} == \
        {"shipments": 1, "tempo_targets": 1, "gap_reviews": 1, "feature_requests": 1, "interview_scores": 1}
    assert counts["quarantine"] == 0
    logged = sorted(ws.warehouse.query("SELECT format, loaded FROM imports"))
    assert logged == [("hiring-score", 1), ("requests-add", 1), ("tempo-review", 1), ("tempo-ship", 1),
                      ("tempo-target", 1)]


def test_an_unsized_target_set_again_replaces_the_version_an_import_wrote_without_a_size(workspace: Workspace) -> None:
    ws = workspace
    ws.warehouse.execute("INSERT INTO tempo_targets (team, deliverable, size, count, period, valid_from, source) "
                         "VALUES ('Podcast', 'episode', NULL, 2, 'week', DATE '2025-03-03', 'tempo.csv')")
    set_target(ws, "Podcast", "episode", 3, "week", valid_from=date(2025, 3, 3))
    assert ws.warehouse.query("SELECT count FROM tempo_targets") == [(3,)]
