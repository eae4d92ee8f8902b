"""The hiring operations of the core: fits saved as warehouse rows and read back whole on DuckDB and PostgreSQL,
each save a new version with the latest the default, and a bad score typed by hand refused naming the field."""

from __future__ import annotations

from datetime import date

import pytest

from cadence.analysis.hiring import fit_hiring, predict_index, read_hiring_data
from cadence.entries import EntryRefused
from cadence.errors import UnknownNameError
from cadence.hiring_ops import ScoreEntry, enter_score, fit_model, index_candidates, list_fits, saved_fit
from cadence.workspace import Workspace
from tests.test_hiring import synthetic_company


def test_a_saved_fit_is_read_back_from_the_warehouse_number_for_number(any_workspace: Workspace) -> None:
    ws = any_workspace
    synthetic_company(ws, hires=40)
    direct = fit_hiring(ws)  # the analysis alone, nothing stored
    result = fit_model(ws, save=True)
    assert result.saved is not None and result.saved.fit_id == "v1"
    [back] = list_fits(ws).versions
    assert back.fit == direct and back.version == 1
    assert back.as_of == date(2023, 12, 31)  # the record's last quarter ends that day
    stored = ws.warehouse.query("SELECT criterion, coef_std, n_hires FROM hiring_fits WHERE fit_id = 'v1' "
                                "ORDER BY rank")
    assert stored == [(w.criterion, w.coef_std, direct.n_hires) for w in direct.criteria]
    scores = read_hiring_data(ws).candidate_scores.iloc[0].to_dict()
    assert predict_index(back.fit, scores) == predict_index(direct, scores)


def test_two_saved_fits_are_two_versions_and_the_latest_is_used_by_default(any_workspace: Workspace) -> None:
    ws = any_workspace
    synthetic_company(ws, hires=40)
    early = fit_model(ws, known_before=date(2023, 1, 1), save=True)
    late = fit_model(ws, save=True)
    versions = list_fits(ws).versions
    assert [(s.fit_id, s.version) for s in versions] == [("v1", 1), ("v2", 2)]
    assert versions[0].as_of == date(2022, 12, 31) and versions[0].fit == early.fit
    assert versions[1].fit == late.fit and versions[0].fit != versions[1].fit
    assert saved_fit(ws).fit_id == "v2"  # type: ignore[union-attr]
    assert saved_fit(ws, "1").fit_id == saved_fit(ws, "v1").fit_id == "v1"  # type: ignore[union-attr]
    assert index_candidates(ws).formula == "v2"
    assert index_candidates(ws, version="v1").formula == "v1"
    with pytest.raises(UnknownNameError):
        saved_fit(ws, "v9")


def test_a_bad_interview_score_is_refused_naming_the_field_with_nothing_written(workspace: Workspace) -> None:
    ws = workspace
    with pytest.raises(EntryRefused, match="score '11': must be at most 10") as refused:
        enter_score(ws, ScoreEntry("C9", "P1", "Curiosity", "11", date(2025, 5, 2)))
    assert refused.value.column == "score"
    with pytest.raises(EntryRefused, match="score 'seven'"):
        enter_score(ws, ScoreEntry("C9", "P1", "Curiosity", "seven", date(2025, 5, 2)))
    for table in ("interview_scores", "quarantine", "imports"):
        assert ws.table(table).count().to_pandas() == 0, table
    entered = enter_score(ws, ScoreEntry("C9", "P1", "Curiosity", "9", date(2025, 5, 2)))
    assert (entered.criterion, entered.score) == ("curiosity", 9)
    again = enter_score(ws, ScoreEntry("C9", "P1", "curiosity", "7", date(2025, 5, 2)))
    assert again.score == 7
    scores = ws.table("interview_scores").to_pandas()
    assert scores[["candidate_id", "criterion", "score"]].values.tolist() == [["C9", "curiosity", 7]]
    assert ws.table("imports").to_pandas()["format"].unique().tolist() == ["hiring-score"]
