"""The scorecard's sections, in order. A later area adds itself here, and nowhere else."""

from __future__ import annotations

from cadence.report.model import SectionProvider
from cadence.report.sections.alignment import AlignmentSection
from cadence.report.sections.coaching import CoachingSection
from cadence.report.sections.forecast import ForecastRollupSection, ForecastSection
from cadence.report.sections.hiring import HiringSection
from cadence.report.sections.incentives import IncentivesSection
from cadence.report.sections.kpis import KpiSection
from cadence.report.sections.mission import MissionSection
from cadence.report.sections.pipeline import PipelineSection
from cadence.report.sections.quality import QualitySection
from cadence.report.sections.roadmap import RoadmapSection
from cadence.report.sections.tempo import TempoSection

SECTIONS: list[SectionProvider] = [MissionSection(), KpiSection(), PipelineSection(), QualitySection(),
                                   AlignmentSection(), CoachingSection(), IncentivesSection(), HiringSection(),
                                   TempoSection(), ForecastSection(), ForecastRollupSection(),
                                   RoadmapSection()]


def register_section(provider: SectionProvider) -> None:
    """Add a section (e.g. from a plug-in); sections are shown by their `order`."""
    SECTIONS.append(provider)
