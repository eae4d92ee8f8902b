"""The version of the rules figures are computed by — every metric definition, every team KPI rule, the
mission — and the audit entry written when they change (an edit to cadence.yml is a definition change)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from cadence.accounts import audit

if TYPE_CHECKING:
    from cadence.workspace import Workspace

CHANGE = "definition_change"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]


def definition_digests(ws: Workspace) -> dict[str, str]:
    """One digest per rule: `metric:NAME`, `kpi:TEAM/METRIC/LABEL`, `mission`, `at_risk_band`."""
    from cadence.analysis.targets import AT_RISK_BAND

    custom_where = {m.name: m.where for m in ws.config.metrics}
    digests = {f"metric:{m.name}": _digest({"name": m.name, "formula": m.formula, "description": m.description,
                                            "unit": m.unit, "direction": m.direction,
                                            "where": custom_where.get(m.name),
                                            "inputs": list(getattr(m, "inputs", ()))}) for m in ws.registry}
    for team in ws.config.teams:
        for k in team.kpis:
            digests[f"kpi:{team.name}/{k.metric}/{k.label}"] = _digest(
                {"team": team.name, "metric": k.metric, "label": k.label, "target": k.target, "targets": k.targets,
                 "period": k.period, "where": k.where})
    mission = ws.config.mission
    digests["mission"] = _digest(None if mission is None else {"metric": mission.metric, "grain": mission.grain,
                                                               "target": mission.target})
    digests["at_risk_band"] = _digest(AT_RISK_BAND)
    return digests


def definitions_version(ws: Workspace) -> str:
    """A short SHA-256 of every metric definition and every team KPI rule: a changed definition, target,
    period, filter or status threshold gives a new version."""
    return _digest(dict(sorted(definition_digests(ws).items())))


def note_definition_change(ws: Workspace, *, actor: str | None = None) -> list[str] | None:
    """Record in the audit log that the definitions changed since last noted (which rules were added, changed or
    removed); None when nothing changed. The first time, the current definitions are noted as the baseline."""
    digests = definition_digests(ws)
    version = definitions_version(ws)
    last = audit.read_audit(ws, action=CHANGE, limit=1)
    before = last[0]["after"] if last else None
    if before and before.get("version") == version:
        return None
    old: dict[str, str] = (before or {}).get("digests", {})
    changed = sorted(k for k in digests.keys() | old.keys() if digests.get(k) != old.get(k)) if before else []
    audit.record(ws, CHANGE, actor=actor, target="definitions",
                 before={"version": before.get("version")} if before else None,
                 after={"version": version, "changed": changed, "digests": digests})
    return changed
