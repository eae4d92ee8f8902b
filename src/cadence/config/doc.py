"""docs/config.md, generated from the pydantic tree of cadence.yml: every key, its type, default and meaning.

`python -m cadence.config.doc > docs/config.md` (what `make docs` runs) writes it; tests/test_first_run.py
fails when the committed file and the code disagree, or when a key has no description.
"""

from __future__ import annotations

import sys
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from cadence.config.company import CompanyConfig

# Meanings of the keys whose Field carries no description (a Field description, when there, wins).
DESCRIPTIONS: dict[str, str] = {
    "company": "the company's name, as reports title it",
    "fiscal_year_start_month": "first month of the fiscal year (1 = January); quarters and years follow it",
    "warehouse": "where the data lives: a DuckDB file in the workspace, a postgresql:// URL, spark://local, "
                 "spark://HOST:PORT or sc://HOST:PORT (pip install 'cadence[spark]'), or any Ibis URL (docs/scale.md)",
    "segments": "go-to-market segments, as accounts.segment spells them",
    "stages": "the default pipeline's stages, in order (imports bring their own pipelines, see `pipelines`)",
    "stages[].name": "the stage's name, as opportunities.stage spells it",
    "stages[].won": "a closed stage whose deals are won",
    "stages[].lost": "a closed stage whose deals are lost",
    "teams": "the teams, as people.team spells them, each with its KPIs",
    "teams[].name": "the team's name, as people.team spells it",
    "teams[].task_force": "a temporary team across others (its KPIs are judged over its horizon)",
    "teams[].kpis": "what the team answers for on the scorecard",
    "teams[].kpis[].metric": "a metric name (`cadence metrics` lists them, custom ones included)",
    "teams[].kpis[].label": "how the scorecard names it (default: the metric's label)",
    "teams[].kpis[].period": "the period a target is for: week, month, quarter or year",
    "mission": "why the company exists and the one number that says whether it is working (the scorecard's top)",
    "mission.statement": "the mission, in a sentence",
    "mission.metric": "the mission metric (a metric name)",
    "mission.grain": "the period the mission metric is read by: month or quarter",
    "mission.target": "the mission metric's target per period",
    "mission.principles": "how the company behaves: shown under the mission",
    "metrics": "the company's own metrics: an aggregate over one of the registry's relations",
    "metrics[].name": "snake_case name, used by `cadence metric NAME` and in KPIs",
    "metrics[].label": "display name",
    "metrics[].description": "what it measures, for the catalogue",
    "metrics[].relation": "the relation it aggregates: deals, leads, activities, usage, nps…",
    "metrics[].time_column": "the column that dates each row (e.g. created_at)",
    "metrics[].aggregate": "count, sum, mean, median, min, max or count_distinct",
    "metrics[].column": "the column aggregated (needed unless aggregate is count)",
    "metrics[].where": "a filter on the relation, e.g. kind = 'new'",
    "metrics[].unit": "how values read: currency, count, ratio, days, score, per_day or percent",
    "metrics[].direction": "up or down: which way is better",
    "metrics[].owner": "the team that owns the metric",
    "hiring": "hiring science: interview criteria, scorecard versions, how performance is measured",
    "hiring.criteria[].label": "how reports name the criterion",
    "hiring.criteria[].description": "what interviewers score",
    "hiring.scorecard_versions": "the interview scorecard's versions, so scores are compared within one",
    "hiring.scorecard_versions[].version": "version number (criteria say added_in / retired_in)",
    "hiring.scorecard_versions[].valid_from": "first day interviews used this version",
    "hiring.scorecard_versions[].note": "what changed",
    "hiring.manager_breadth": "how manager candidates are ranked for breadth: `min` (their weakest percentile) or "
                              "`balanced` (the geometric mean of their percentiles, rewarding an even profile)",
    "hiring.leadership_course.modules": "number of modules in the course",
    "hiring.leadership_course.weeks_per_module": "weeks each module is expected to take",
    "hiring.leadership_course.participants": "who takes the course",
    "hiring.leadership_course.participants[].person_id": "the participant (people.person_id)",
    "hiring.leadership_course.participants[].started": "the day they started",
}


@dataclass(frozen=True)
class Key:
    path: str
    type: str
    default: str
    description: str


def config_keys(model: type[BaseModel] = CompanyConfig, prefix: str = "") -> list[Key]:
    """Every key of `model` and of the models nested in it, depth first, in declaration order."""
    keys: list[Key] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}{key}"
        keys.append(Key(path, _type_name(field.annotation), _default(field), _description(field, path)))
        for nested, suffix in _nested_models(field.annotation):
            keys += config_keys(nested, f"{path}{suffix}.")
    return keys


def config_markdown() -> str:
    lines = ["# cadence.yml reference", "",
             "Every key of `cadence.yml`, generated from Cadence's configuration model (`make docs` regenerates "
             "this file). Unknown keys are errors. Any single value can be overridden by an environment variable "
             "`CADENCE__SECTION__KEY` (e.g. `CADENCE__WAREHOUSE=postgresql://…`). `cadence init` writes a "
             "commented example of the main keys.", "",
             "`a[]` is a list of items, `a{}` a mapping from a name to the value after it.", "",
             "| key | type | default | meaning |", "|---|---|---|---|"]
    for key in config_keys():
        lines.append(f"| `{key.path}` | {_cell(key.type)} | {_cell(key.default)} | {_cell(key.description)} |")
    return "\n".join(lines) + "\n"


def _description(field: FieldInfo, path: str) -> str:
    if field.description:
        return field.description
    shared = path.replace("pipelines{}[].", "stages[].")  # a pipeline's stages are the same model as `stages`
    if shared in DESCRIPTIONS:
        return DESCRIPTIONS[shared]
    model = _single_model(field.annotation)
    return (model.__doc__ or "").strip().split("\n")[0] if model else ""


def _nested_models(annotation: Any) -> list[tuple[type[BaseModel], str]]:
    """Models inside `annotation`, with the path suffix that reaches them: `[]` for a list, `{}[]` for a
    mapping to lists."""
    origin, args = get_origin(annotation), get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, "")]
    if origin in (typing.Union, types.UnionType):
        return [found for arg in args if arg is not type(None) for found in _nested_models(arg)]
    if origin is list:
        return [(m, "[]" + s) for m, s in _nested_models(args[0])]
    if origin is dict:
        return [(m, "{}" + s) for m, s in _nested_models(args[1])]
    return []


def _single_model(annotation: Any) -> type[BaseModel] | None:
    found = _nested_models(annotation)
    return found[0][0] if found else None


def _type_name(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " | ".join(repr(a) if isinstance(a, str) else str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"mapping {_type_name(args[0])} → {_type_name(args[1])}"
    if annotation is type(None):
        return "none"
    return getattr(annotation, "__name__", str(annotation)).replace("date", "date (YYYY-MM-DD)")


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            return f"{len(value)} items"
        return "empty" if value in ([], {}) else repr(value) if not isinstance(value, BaseModel) else "defaults"
    default = field.default
    if default is PydanticUndefined or default is None:
        return "none"
    return f"`{default}`" if isinstance(default, str) else repr(default)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


if __name__ == "__main__":
    sys.stdout.write(config_markdown())
