"""The hiring block of cadence.yml: the interview scorecard, how hires are judged, the leadership course.

The scorecard is versioned because it changes: HubSpot added coachability years after it began scoring
candidates. Each criterion says in which scorecard version it entered (and, if dropped, in which it
left), so an analysis can tell a candidate who scored low from one who was never asked. Anchors say
what a point on the 1–10 scale means, so two interviewers mean the same thing by a 7.

```yaml
hiring:
  scorecard_versions:
    - {version: 1, valid_from: 2020-01-01}
    - {version: 2, valid_from: 2023-02-01, note: coachability added}
  criteria:
    - name: coachability
      added_in: 2
      description: Takes feedback and changes behaviour quickly.
      anchors: {1: "argues with every piece of feedback", 5: "accepts feedback, changes slowly",
                10: "asks for feedback and visibly applies it within the interview"}
  performance: {measure: attainment, min_periods: 2, ramp_threshold: 0.8}
  leadership_course:
    modules: 12
    participants:
      - {person_id: P014, started: 2025-09-01, completed: [1, 2, 3]}
```
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PerformanceMeasure = Literal["attainment", "bookings_per_month", "ramp_months"]
BreadthMethod = Literal["min", "balanced"]
SCORE_MIN, SCORE_MAX = 1, 10


class Criterion(BaseModel):
    """One thing interviewers score from 1 to 10, with what the points of the scale mean."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="snake_case, as interview_scores.criterion")
    label: str | None = None
    description: str = ""
    anchors: dict[int, str] = Field(default_factory=dict, description="what a score means, e.g. {1: …, 5: …, 10: …}")
    added_in: int = Field(default=1, ge=1, description="scorecard version the criterion entered")
    retired_in: int | None = Field(default=None, ge=2, description="scorecard version that dropped it")

    @field_validator("anchors")
    @classmethod
    def _anchors_on_the_scale(cls, anchors: dict[int, str]) -> dict[int, str]:
        outside = sorted(point for point in anchors if not SCORE_MIN <= point <= SCORE_MAX)
        if outside:
            raise ValueError(f"anchors must be points of the 1–10 scale, not {outside}")
        return dict(sorted(anchors.items()))

    @model_validator(mode="after")
    def _retired_after_added(self) -> Criterion:
        if self.retired_in is not None and self.retired_in <= self.added_in:
            raise ValueError(f"criterion {self.name!r} is retired in version {self.retired_in}, "
                             f"not after it was added (version {self.added_in})")
        return self

    def in_version(self, version: int) -> bool:
        return self.added_in <= version and (self.retired_in is None or version < self.retired_in)


class ScorecardVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    valid_from: date
    note: str = ""


class PerformanceSettings(BaseModel):
    """How a hire's on-the-job performance is measured for the fit."""

    model_config = ConfigDict(extra="forbid")
    measure: PerformanceMeasure = Field(
        default="attainment",
        description="attainment (attained ÷ quota), bookings_per_month (of tenure), or ramp_months (lower is better)")
    min_periods: int = Field(default=2, ge=1, description="periods of track record a hire needs to count")
    ramp_threshold: float = Field(default=0.8, gt=0, le=2,
                                  description="ramped once a period's attainment reaches this share of full quota")


class CourseParticipant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: str
    started: date
    completed: list[int] = Field(default_factory=list, description="module numbers completed")


class LeadershipCourse(BaseModel):
    """The standard course every new manager takes: numbered modules, one every `weeks_per_module` weeks."""

    model_config = ConfigDict(extra="forbid")
    modules: int = Field(default=12, ge=1)
    titles: list[str] = Field(default_factory=list, description="optional module titles, in order")
    weeks_per_module: int = Field(default=1, ge=1)
    participants: list[CourseParticipant] = Field(default_factory=list)

    @model_validator(mode="after")
    def _modules_exist(self) -> LeadershipCourse:
        if self.titles and len(self.titles) != self.modules:
            raise ValueError(f"{len(self.titles)} module titles for {self.modules} modules")
        for person in self.participants:
            unknown = sorted(m for m in person.completed if not 1 <= m <= self.modules)
            if unknown:
                raise ValueError(f"{person.person_id}: completed modules {unknown} are not modules 1–{self.modules}")
        return self


class HiringConfig(BaseModel):
    """Everything the hiring analyses take from cadence.yml."""

    model_config = ConfigDict(extra="forbid")
    criteria: list[Criterion] = Field(default_factory=list)
    scorecard_versions: list[ScorecardVersion] = Field(default_factory=list)
    performance: PerformanceSettings = Field(default_factory=PerformanceSettings)
    min_hires_per_criterion: int = Field(default=10, ge=1,
                                         description="fewer hires per criterion than this: the fit is indicative")
    manager_breadth: BreadthMethod = "balanced"
    leadership_course: LeadershipCourse | None = None

    @model_validator(mode="after")
    def _consistent(self) -> HiringConfig:
        names = [c.name for c in self.criteria]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"criteria named more than once: {', '.join(repeated)}")
        versions = [v.version for v in self.scorecard_versions]
        if len(set(versions)) != len(versions):
            raise ValueError("scorecard_versions must be unique")
        if versions:
            unknown = sorted({c.added_in for c in self.criteria} - set(versions))
            if unknown:
                raise ValueError(f"criteria added in scorecard versions {unknown}, which scorecard_versions "
                                 "does not declare")
        return self

    @property
    def current_version(self) -> int:
        declared = [v.version for v in self.scorecard_versions]
        return max(declared + [c.added_in for c in self.criteria] + [1])

    def criteria_in(self, version: int | None = None) -> list[str]:
        """The criteria of a scorecard version (default: the current one), in the order cadence.yml lists them."""
        wanted = self.current_version if version is None else version
        return [c.name for c in self.criteria if c.in_version(wanted)]

    def version_on(self, day: date) -> int | None:
        """The scorecard version in force on `day`, if versions are declared."""
        started = [v for v in self.scorecard_versions if v.valid_from <= day]
        return max(started, key=lambda v: v.valid_from).version if started else None
