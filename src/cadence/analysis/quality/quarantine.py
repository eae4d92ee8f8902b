"""Rows waiting in quarantine, per import, so nobody forgets they are missing from every figure."""

from __future__ import annotations

from datetime import date
from pathlib import PurePath

import ibis

from cadence.analysis.quality.findings import MAX_EXAMPLES, Finding, TableSource
from cadence.analysis.words import plural


def quarantined_rows(tables: TableSource, today: date) -> list[Finding]:
    """One finding per import with rows in quarantine: how many source rows, and the commonest reason.

    Rule: distinct source lines in the `quarantine` table per import (format and file). A row with
    several problems counts once. Quarantined rows are in no figure until fixed at the source and
    imported again.
    """
    quarantine = tables.table("quarantine")
    lines = quarantine.select("import_key", "file", "line").distinct()
    per_import = lines.group_by(["import_key", "file"]).aggregate(rows=lines.line.count()).to_pandas()
    if per_import.empty:
        return []
    reasons = quarantine.group_by(["import_key", "column_name", "reason"]).aggregate(
        rows=quarantine.line.nunique()).to_pandas()
    reasons = reasons.sort_values(["import_key", "rows", "column_name", "reason"], ascending=[True, False, True, True])
    top = reasons.drop_duplicates("import_key").set_index("import_key")
    order = ibis.row_number().over(group_by=lines.import_key, order_by=lines.line)
    first = lines.mutate(order=order)
    first = first.filter(first.order < MAX_EXAMPLES).to_pandas()
    findings = []
    for row in per_import.itertuples(index=False):
        key, count = str(row.import_key), int(row.rows)
        cause = top.loc[key]
        where = f" ({cause['column_name']})" if cause["column_name"] else ""
        message = (f"{plural(count, 'row', verb='waits')} in quarantine from {PurePath(str(row.file)).name} "
                   f"({key.split(':', 1)[0]} import); most often{where}: {cause['reason']}. They are in no "
                   "figure until fixed at the source and imported again (rule: distinct source lines in "
                   "quarantine for this import).")
        examples = sorted(int(n) for n in first.loc[first["import_key"] == key, "line"])
        findings.append(Finding("quarantine", "warning", count, message, [f"line {n}" for n in examples]))
    return findings
