"""Imports: map real export formats onto the canonical schema, validate, quarantine, reconcile.

Only this package knows source formats. It never writes: the workspace loads what it prepares.
"""

from cadence.ingest.batch import CanonicalFrame, ImportBatch, ImportOptions, SourceFile
from cadence.ingest.registry import FORMATS, importer_for

__all__ = ["FORMATS", "CanonicalFrame", "ImportBatch", "ImportOptions", "SourceFile", "importer_for"]
