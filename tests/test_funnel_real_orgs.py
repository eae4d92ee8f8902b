"""The funnel of real orgs: a Spanish Salesforce org whose deals move backwards, and a HubSpot company with no
field history (its history comes from successive full exports). Conversions and days are worked by hand.

The Spanish org's deals (tests/test_stages.py, days of January 2024):

    A  Prospección 1 → Calificación 3 → Interés 6 → Diseño Propuesta 10 → Negociación 15 → Interés 20
       → Negociación 24 → Ganada 30                                     (moved back once, then won)
    B  Prospección 2 → Interés 4 → Perdida 9                          (skipped Calificación, lost)
    C  Prospección 3 → Perdida 5                                       (lost at the first stage)
    D  Prospección 4 → Calificación 8 → Interés 12                     (open, in Interés)
    E  Prospección 5 → Calificación 6 → Interés 9 → Negociación 14 → Ganada 21   (skipped Diseño, won)
    F  Prospección 6 → Calificación 7 → Interés 10 → Diseño Propuesta 13 → Negociación 16 → Interés 19
                                                                        (open, moved back to Interés)

Furthest stage reached (counts every earlier stage as reached, once): A Ganada, B Interés, C Prospección,
D Interés, E Ganada, F Negociación. A stage is *decided* for a deal that went past it or closed; F went
past Negociación? No (furthest), and is open: undecided there. D has not gone past Interés: undecided.

| stage            | reached | decided        | advanced  | conversion | days in stage (left it, not in it now) |
|------------------|---------|----------------|-----------|------------|----------------------------------------|
| Prospección      | 6       | 6              | 5 (not C) | 5/6        | A2 B2 C2 D4 E1 F1 → median 2, mean 2   |
| Calificación     | 5       | 5              | 5         | 1          | A3 D4 E3 F3 → median 3, mean 13/4      |
| Interés          | 5       | 4 (A B E F)    | 3 (A E F) | 3/4        | A 4+4=8, B5, E5 (D, F in it) → 5, 6    |
| Diseño Propuesta | 3       | 3 (A E F)      | 3         | 1          | A5 F3 → median 4, mean 4               |
| Negociación      | 3       | 2 (A E)        | 2         | 1          | A 5+6=11, E7, F3 → median 7, mean 7    |
| Ganada           | 2       |                |           | —          | —                                      |

Perdida is no step (losing is how a deal leaves), and no stage the org does not use appears.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cadence
from cadence.analysis.funnel import Funnel, StageRow, funnel
from cadence.workspace import Workspace
from tests.test_cli import cadence as run_cadence
from tests.test_hubspot_snapshots import _exports
from tests.test_stages import CAL, DIS, INT, NEG, PATHS, PRO, WON, write_org

STEPS = [PRO, CAL, INT, DIS, NEG, WON]
# stage: (reached, decided, advanced, conversion, median days, mean days, deals timed)
HAND = {
    PRO: (6, 6, 5, 5 / 6, 2.0, 2.0, 6),
    CAL: (5, 5, 5, 1.0, 3.0, 13 / 4, 4),
    INT: (5, 4, 3, 3 / 4, 5.0, 6.0, 3),
    DIS: (3, 3, 3, 1.0, 4.0, 4.0, 2),
    NEG: (3, 2, 2, 1.0, 7.0, 7.0, 3),
    WON: (2, 2, 0, None, None, None, 0),
}


def _row(result: Funnel, stage: str) -> StageRow:
    return next(s for s in result.stages if s.stage == stage)


def test_spanish_org_funnel_with_backward_moves(any_workspace: Workspace, tmp_path: Path) -> None:
    any_workspace.ingest(write_org(tmp_path / "org", PATHS), "salesforce")
    result = funnel(any_workspace)
    assert (result.pipeline, result.deals, result.without_history) == ("salesforce", 6, 0)
    assert [s.stage for s in result.stages] == STEPS
    for stage, (reached, decided, advanced, conversion, median, mean, timed) in HAND.items():
        row = _row(result, stage)
        assert (row.reached, row.advanced, row.timed) == (reached, advanced, timed), stage
        if stage != WON:
            assert row.decided == decided, stage
        assert row.conversion == pytest.approx(conversion), stage
        assert (row.median_days, row.mean_days) == pytest.approx((median, mean)), stage
    assert all(s.conversion is None or s.conversion <= 1 for s in result.stages)
    assert _row(result, INT).sitting == 2  # D and F are open in Interés now
    # win rate from a stage: of the closed deals that reached it, the share won (A, E won; B, C lost)
    assert [_row(result, s).win_rate for s in (PRO, INT, NEG)] == pytest.approx([2 / 4, 2 / 3, 1.0])
    # velocity from Negociación: win rate 1 × mean won amount 1000 ÷ median days from first entering it to
    # the win (A 15 → 30 = 15, E 14 → 21 = 7: median 11)
    assert _row(result, NEG).velocity == pytest.approx(1000 / 11)


def test_funnel_json_lists_only_the_stages_in_the_data(workspace: Workspace, tmp_path: Path) -> None:
    workspace.ingest(write_org(tmp_path / "org", PATHS), "salesforce")
    root = workspace.root
    workspace.close()  # the CLI opens the warehouse itself
    out = run_cadence("-w", str(root), "funnel", "--format", "json", check=True)
    stages = json.loads(out.stdout)["stages"]
    assert [s["stage"] for s in stages] == STEPS
    assert [s["reached"] for s in stages] == [HAND[s][0] for s in STEPS]
    table = run_cadence("-w", str(root), "funnel", check=True).stdout
    assert "Prospecting" not in table and "Closed Won" not in table and "Negociación" in table


def test_a_company_without_field_history_gets_a_funnel_from_weekly_exports(workspace: Workspace,
                                                                             tmp_path: Path) -> None:
    """The three HubSpot exports of test_hubspot_snapshots: history from the changes between them.

    Deals counted (103 and 108 deleted): 101 Discovery call → Demo given → Closed: abandoned; 102 Demo given →
    Proposal sent → Contract out; 104 Contract out → Closed won; 105, 112 Discovery call → Closed won;
    106 → Closed lost; 107 → Closed: abandoned; 109 Demo given; 110 Discovery call; 111 Discovery call → Demo given.
    """
    for path in _exports(tmp_path / "exports"):
        workspace.ingest(path, "hubspot", full=True)
    result = funnel(workspace)
    assert result.pipeline == "Sales Pipeline" and result.deals == 10
    assert [s.stage for s in result.stages] == ["Discovery call", "Demo given", "Proposal sent", "Contract out",
                                                "Closed won"]
    # reached Discovery call: all 10; Demo given or later: 101 102 104 105 109 111 112 (won deals reached all)
    assert [s.reached for s in result.stages] == [10, 7, 4, 4, 3]
    discovery = result.stages[0]
    # decided at Discovery call: went past it (7) or closed there (106, 107); 110 is still in it
    assert (discovery.decided, discovery.advanced) == (9, 7)


def test_funnel_survives_the_workspace_being_reopened(workspace: Workspace, tmp_path: Path) -> None:
    workspace.ingest(write_org(tmp_path / "org", PATHS), "salesforce")
    root = workspace.root
    workspace.close()
    with cadence.open(root) as again:
        assert [s.stage for s in funnel(again).stages] == STEPS
