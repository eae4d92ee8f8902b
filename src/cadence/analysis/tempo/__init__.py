"""Tempo: what good looks like for each team, tracked every period, and why a team misses.

`targets` holds the versioned promises, `status` judges each period and the pace of the current one,
`diagnosis` tells an organisational miss from an individual one, `reviews` follows up the gap reviews,
and `board` puts them together for the CLI, the scorecard and the web. Pure: tables in, dataclasses out.
"""

from cadence.analysis.tempo.board import TempoBoard, TempoRow, latest_day, tempo_board
from cadence.analysis.tempo.data import TempoData, load_tempo
from cadence.analysis.tempo.diagnosis import DIAGNOSIS_RULE, Diagnosis, diagnose
from cadence.analysis.tempo.status import AT_RISK_BELOW, PACE_RULE, TrackStatus, chance_to_reach, track_status
from cadence.analysis.tempo.targets import Track, tracks

__all__ = ["AT_RISK_BELOW", "DIAGNOSIS_RULE", "PACE_RULE", "Diagnosis", "TempoBoard", "TempoData", "TempoRow",
           "Track", "TrackStatus", "chance_to_reach", "diagnose", "latest_day", "load_tempo", "tempo_board",
           "track_status", "tracks"]
