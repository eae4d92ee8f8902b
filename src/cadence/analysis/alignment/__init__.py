"""Does each team's KPI move the mission metric? The method and its rule (`check`), and the KPI tree read
from cadence.yml and measured on the data (`kpi_tree`)."""

from cadence.analysis.alignment.check import (
    ALPHA,
    CLEAR,
    METHOD,
    MODEST,
    RULE,
    STRONG,
    SURROGATES,
    KpiAlignment,
    LagCorrelation,
    Verdict,
    check_alignment,
)
from cadence.analysis.alignment.kpi_tree import PER_DAY, AlignmentGrain, KpiSource, accumulates, alignment_report

__all__ = ["ALPHA", "CLEAR", "METHOD", "MODEST", "PER_DAY", "RULE", "STRONG", "SURROGATES", "AlignmentGrain",
           "KpiAlignment", "KpiSource", "LagCorrelation", "Verdict", "accumulates", "alignment_report",
           "check_alignment"]
