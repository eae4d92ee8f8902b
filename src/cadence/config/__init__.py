"""The company's configuration: cadence.yml as a typed tree (`company`), its hiring block (`hiring`), the
commented cadence.yml a new workspace starts from (`template`) and its generated reference (`doc`)."""

from cadence.config.company import (
    CONFIG_FILE,
    DEFAULT_STAGES,
    DEFAULT_WAREHOUSE,
    CompanyConfig,
    CustomMetric,
    DealDating,
    ExchangeRate,
    Kpi,
    Mission,
    PeriodName,
    Source,
    Stage,
    Team,
    apply_env_overrides,
    load_config,
    validate_config,
)
from cadence.config.hiring import HiringConfig, LeadershipCourse

__all__ = ["CONFIG_FILE", "DEFAULT_STAGES", "DEFAULT_WAREHOUSE", "CompanyConfig", "CustomMetric", "DealDating",
           "ExchangeRate", "HiringConfig", "Kpi", "LeadershipCourse", "Mission", "PeriodName", "Source", "Stage",
           "Team", "apply_env_overrides", "load_config", "validate_config"]
