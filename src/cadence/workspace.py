"""A workspace: one company's cadence.yml and its warehouse, opened as `cadence.open(DIR)`."""

from __future__ import annotations

import copy
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from cadence.analysis.as_of import resolve_as_of
from cadence.config import CONFIG_FILE, CompanyConfig, load_config
from cadence.config.template import config_template
from cadence.errors import WorkspaceError
from cadence.ingest import ImportOptions, importer_for
from cadence.ingest.batch import ChunkedImport, ChunkedImporter
from cadence.ingest.prepare import DEFAULT_PIPELINE, PreparedImport, Preparer, prepare
from cadence.ingest.stage_inference import with_pipelines
from cadence.metrics.calendar import FiscalCalendar, Grain, periods_from_frame
from cadence.metrics.catalog import build_registry
from cadence.metrics.custom import custom_metric
from cadence.metrics.dating import DealDating
from cadence.metrics.money import config_rates_frame, in_currency, refuse_other_corporate
from cadence.metrics.query import MetricQuery, MetricResult, compute_metric
from cadence.metrics.registry import Registry
from cadence.progress import Progress, Silent
from cadence.schema.tables import TABLES, table_named
from cadence.store import Warehouse, connect
from cadence.store.chunked_load import load_in_chunks
from cadence.store.derived import DerivedTables
from cadence.store.full_exports import snapshot_state, write_snapshots
from cadence.store.migrations import migrate

log = logging.getLogger("cadence.workspace")


class Workspace:
    """One company: its configuration, its warehouse, and the operations that change them."""

    def __init__(self, root: Path, config: CompanyConfig, warehouse: Warehouse):
        self.root = root
        self.config = config
        self.warehouse = warehouse
        self.migrated_through: list[int] = []
        self._registry: Registry | None = None
        self._materialised: dict[str, Any] = {}
        self._today: date | None = None
        self._calendar: FiscalCalendar | None = None
        self._reporting: str | None = None  # --currency for one build (see `reporting_in`)
        self._row_filter: Callable[[str, Any], Any] | None = None  # see `with_row_filter`
        self._cache_suffix = ""
        self._derived = DerivedTables(warehouse)

    @property
    def today(self) -> date:
        """The data's last day (`resolve_as_of`): what open-ended figures such as MRR count up to."""
        if self._today is None:
            self._today = resolve_as_of(self).day
        return self._today

    def materialised(self, name: str, build: Any) -> Any:
        """`build(self)` computed once and reused until the next write: kept in the warehouse for every later
        session over the same data (`store/derived.py`), or, seen through a row filter or on an engine that
        keeps none, in a temporary table for this session."""
        if name not in self._materialised:
            expr = build(self)
            stored = self._derived.table_for(name, expr) if self._row_filter is None else None
            if stored is None:
                table_name = f"_cadence_cache_{name}{self._cache_suffix}"
                self.warehouse.ibis.create_table(table_name, expr, temp=True, overwrite=True)
                stored = self.warehouse.ibis.table(table_name)
            self._materialised[name] = stored
        return self._materialised[name]

    def keep_figures_ready(self, progress: Progress | None = None) -> list[str]:
        """Build now, for the data as it stands, the tables most figures read (the revenue grid and the deals
        relation in the corporate currency, and the deals' history spans; `store/derived.py`), so the first
        scorecard, page or delivery after an import or a sync starts from them instead of building them. What was
        kept; nothing on an engine that keeps none between sessions (a company's own warehouse) or for a scoped view.

        Never fails the write it follows: a relation that cannot be built now (an exchange rate missing) is
        built, or refused with its reason, when a figure asks for it."""
        from cadence.analysis.spans import keep_spans
        from cadence.metrics.catalog import MATERIALISED, relation

        if not self._derived.kept or self._row_filter is not None or self.warehouse.in_transaction:
            return []
        progress = progress or Silent()
        kept = []
        builders: dict[str, Callable[[], object]] = {n: partial(relation, n, self) for n in sorted(MATERIALISED)}
        builders["history spans"] = partial(keep_spans, self)
        progress.start("keeping the revenue grid, deals and stage history spans for this version of the data",
                       len(builders))
        try:
            for name, build in builders.items():
                try:
                    if build() is not False:  # False: nothing to keep (no stage history)
                        kept.append(name)
                except Exception as error:  # bookkeeping: the figure that needs the relation says why
                    log.info("%s not kept after the write (%s); it is built when a figure asks",
                             name, type(error).__name__)
                progress.advance()
        finally:
            progress.finish()
        return kept

    @property
    def keeps_results(self) -> bool:
        """Whether results computed here may be kept for every later reader of the same data: not through a row
        filter (what one person may see is never kept for everyone)."""
        return self._row_filter is None

    @property
    def scope_name(self) -> str:
        """What names the rows this workspace shows, in results kept for it: empty for the whole workspace, else a
        digest of the keys of its row filters (`with_row_filter`), so a scoped reader's result is read back only by
        a reader of the same scope."""
        return self._cache_suffix

    def remembered(self, name: str, compute: Any) -> Any:
        """`compute(self)`, a plain value about the data (e.g. how many amounts lack a rate), computed once and
        reused until the next write, like `materialised`."""
        key = f"value:{name}"
        if key not in self._materialised:
            self._materialised[key] = compute(self)
        return self._materialised[key]

    def with_row_filter(self, row_filter: Callable[[str, Any], Any], key: str) -> Workspace:
        """This workspace seen through `row_filter(name, table)`: every `table(name)` (so every metric, analysis,
        report and export) passes through it, after any filter this workspace already has. It shares the
        warehouse, config, calendar, metrics and as-of day; its cached relations are its own (`key` names them)."""
        view = copy.copy(self)
        view._registry, view._calendar, view._today = self.registry, self.calendar, self.today
        view._materialised = {}
        before = self._row_filter
        view._row_filter = row_filter if before is None else (lambda name, table: row_filter(name, before(name, table)))
        view._cache_suffix = "_" + hashlib.sha256((self._cache_suffix + key).encode()).hexdigest()[:16]
        return view

    # -- metrics ---------------------------------------------------------------------------
    @property
    def corporate_currency(self) -> str:
        """The currency exchange rates are quoted against and money is shown in (cadence.yml `currency:`)."""
        return self.config.currency

    @property
    def currency(self) -> str:
        """The currency money figures are reported in (`money.in_currency(ws, "EUR")` reports in another)."""
        return self._reporting or self.config.currency

    @contextmanager
    def reporting_in(self, currency: str | None) -> Iterator[Workspace]:
        """Within the block every money figure of this workspace (metrics, analyses, the scorecard) is
        converted to `currency` (None: the corporate currency); `currency` is checked as `--currency` is."""
        before = self._reporting
        self._reporting = in_currency(self, currency).currency if currency else None
        try:
            yield self
        finally:
            self._reporting = before

    @property
    def calendar(self) -> FiscalCalendar:
        """cadence.yml's fiscal year start, overridden by the company's imported periods (`fiscal_periods`)."""
        if self._calendar is None:
            periods = periods_from_frame(self.table("fiscal_periods").to_pandas())
            self._calendar = FiscalCalendar(self.config.fiscal_year_start_month, periods)
        return self._calendar

    @property
    def deal_dating(self) -> DealDating:
        """How closed deals are dated: cadence.yml's `deal_dating` rule, read in its `timezone`."""
        return DealDating.configured(self.config.deal_dating, self.config.timezone)

    @property
    def registry(self) -> Registry:
        """Every metric: the built-ins and the company's own from cadence.yml (checked on first use)."""
        if self._registry is None:
            self._registry = build_registry([custom_metric(spec, self) for spec in self.config.metrics],
                                            dating=self.deal_dating)
        return self._registry

    def bookings_targets(self) -> dict[str, float]:
        """Bookings targets by period label (and `*quarter`-style defaults per grain), from cadence.yml's KPIs."""
        targets: dict[str, float] = {}
        for team in self.config.teams:
            for kpi in team.kpis:
                if kpi.metric == "bookings" and kpi.where is None:
                    targets.update(kpi.targets)
                    if kpi.target is not None:
                        targets.setdefault(f"*{kpi.period}", kpi.target)
        return targets

    def metric_result(self, name: str, *, by: list[str] | tuple[str, ...] = (), grain: Grain = "month",
                      start: date | None = None, end: date | None = None, where: str | None = None,
                      currency: str | None = None) -> MetricResult:
        """A metric's values per period, with the SQL that computed them (money in `currency`, else corporate)."""
        query = MetricQuery(name, tuple(by), grain, start, end, where, currency)
        return compute_metric(self, self.registry, self.calendar, query, targets=self.bookings_targets())

    def metric(self, name: str, *, by: list[str] | tuple[str, ...] = (), grain: Grain = "month",
               start: date | None = None, end: date | None = None, where: str | None = None,
               currency: str | None = None) -> pd.DataFrame:
        """`ws.metric("win_rate", by=["segment"], grain="quarter")`: one row per period and dimension value."""
        return self.metric_result(name, by=by, grain=grain, start=start, end=end, where=where,
                                  currency=currency).frame

    # -- reading ---------------------------------------------------------------------------
    def table(self, name: str, *, include_deleted: bool = False) -> Any:
        """The canonical table `name` as an Ibis table expression.

        Opportunities a full export no longer held (`deleted_at`, deleted in the CRM) are kept in the
        warehouse but never counted: they and their history are left out unless `include_deleted`.
        """
        table = self._stored_table(name, include_deleted=include_deleted)
        return table if self._row_filter is None else self._row_filter(name, table)

    def _stored_table(self, name: str, *, include_deleted: bool) -> Any:
        table_named(name)  # a clear error for an unknown name
        table = self.warehouse.table(name)
        if include_deleted or name not in ("opportunities", "opportunity_history"):
            return table
        if name == "opportunities":
            return table.filter(table.deleted_at.isnull())
        opps = self.warehouse.table("opportunities")
        deleted = opps.filter(opps.deleted_at.notnull()).select(_deleted_id=opps.opportunity_id)
        return table.anti_join(deleted, table.opportunity_id == deleted._deleted_id)

    def counts(self) -> dict[str, int]:
        """Rows per canonical table."""
        return {t.name: self.warehouse.count(t.name) for t in TABLES}

    def stages(self) -> pd.DataFrame:
        """Every pipeline's stages: cadence.yml's as pipeline 'default', plus those imports declared."""
        return self.table("stages").order_by(["pipeline", "position"]).to_pandas()

    # -- writing ---------------------------------------------------------------------------
    def ingest(self, path: Path, format_name: str, *, mapping: Path | None = None, encoding: str | None = None,
               full: bool = False, progress: Progress | None = None, chunk_rows: int | None = None
               ) -> PreparedImport:
        """Import `path` as `format_name`: one transaction, idempotent, reconciled.

        `encoding` None detects each file's; `full` declares the export the whole table (records it no
        longer holds are marked deleted). A format that reads in chunks (csv, xlsx, parquet) validates and
        writes `chunk_rows` rows at a time (None: $CADENCE_IMPORT_CHUNK_ROWS, else 200,000), still in one
        transaction, unless `full` (a full export is compared with the warehouse whole).
        """
        importer = importer_for(format_name)
        options = ImportOptions(mapping=mapping, encoding=encoding, currency=self.config.currency,
                                progress=progress or Silent(), full=full, timezone=self.config.timezone,
                                pipelines=self.config.pipelines, chunk_rows=chunk_rows)
        if not full and isinstance(importer, ChunkedImporter):
            return self._ingest_in_chunks(importer.read_chunks(Path(path), options))
        batch = importer.read(Path(path), options)
        prepared = prepare(batch, self.stages(), full=full)
        refuse_other_corporate(prepared.upserts, self.config.currency)
        self.load(prepared)
        self.configure_pipelines(prepared.configure)
        return prepared

    def _ingest_in_chunks(self, chunked: ChunkedImport) -> PreparedImport:
        """Validate and write each chunk as it is read, all in one transaction (`store/chunked_load.py`)."""
        self._forget_cached()
        preparer = Preparer(self.stages(), chunked=True, folder=self.root)
        try:
            prepared = load_in_chunks(self.warehouse, chunked, preparer,
                                      check=lambda part: refuse_other_corporate(part.upserts, self.config.currency))
        finally:
            preparer.close()
        prepared.changed = self.warehouse.last_changed
        self._forget_cached()
        return prepared

    def _forget_cached(self) -> None:
        self._materialised.clear()  # cached relations describe the data before this write
        self._derived.forget()
        self._today = None
        self._calendar = None  # an import may bring the company's fiscal periods

    def load(self, prepared: PreparedImport) -> None:
        """Write a prepared import: rows, quarantine and the import log, all or nothing."""
        now = datetime.now(UTC).replace(tzinfo=None)
        self._forget_cached()
        with self.warehouse.transaction():
            before = snapshot_state(self.warehouse, prepared.format) if prepared.snapshots else None
            for table_name, frame, replace_on in prepared.upserts:
                table = table_named(table_name)
                if replace_on:
                    self.warehouse.delete_in(table_name, replace_on, frame[replace_on].dropna().unique().tolist())
                self.warehouse.upsert(table, frame)
            if before is not None:
                prepared.snapshot_outcome = write_snapshots(self.warehouse, prepared, *before)
            for outcome in prepared.files:
                self.warehouse.delete_where("quarantine", "import_key", outcome.import_key)
            if len(prepared.quarantine):
                self.warehouse.upsert(table_named("quarantine"), prepared.quarantine)
            self.warehouse.upsert(table_named("imports"), prepared.imports_frame(now))
        prepared.changed = self.warehouse.last_changed

    def configure_pipelines(self, pipelines: dict[str, list[dict[str, object]]]) -> None:
        """Write inferred pipelines into cadence.yml's `pipelines:` block (the rest of the file untouched)."""
        if not pipelines:
            return
        path = self.root / CONFIG_FILE
        path.write_text(with_pipelines(path.read_text(encoding="utf-8"), self.config.pipelines, pipelines),
                        encoding="utf-8")
        self.config = load_config(self.root)

    def sync_config_stages(self) -> None:
        """Write cadence.yml's stages into the warehouse as the 'default' pipeline."""
        rows = pd.DataFrame([
            {"pipeline": DEFAULT_PIPELINE, "stage": s.name, "position": i + 1, "probability": s.probability,
             "is_won": s.won, "is_lost": s.lost, "source": CONFIG_FILE}
            for i, s in enumerate(self.config.stages)
        ])
        self._replace_rows("stages", "pipeline", DEFAULT_PIPELINE, rows)

    def sync_config_rates(self) -> None:
        """Write cadence.yml's exchange_rates into the warehouse, replacing the rates it wrote before."""
        rows = config_rates_frame(self.config.exchange_rates, self.config.currency)
        self._replace_rows("exchange_rates", "source", CONFIG_FILE, rows)

    def _replace_rows(self, name: str, column: str, value: str, rows: pd.DataFrame) -> None:
        """Replace `name`'s rows whose `column` is `value` with `rows`, unless they are those rows already: opening
        a workspace writes nothing (and so keeps every result kept for its data) when cadence.yml is unchanged."""
        table = table_named(name)
        present = self.warehouse.select(name, table.column_names, where=((column, "=", value),))
        wanted = [tuple(row) for row in rows[table.column_names].itertuples(index=False)] if len(rows) else []
        if sorted(map(_comparable, present)) == sorted(map(_comparable, wanted)):
            return
        with self.warehouse.transaction():
            self.warehouse.delete_where(name, column, value)
            self.warehouse.upsert(table, rows)

    def close(self) -> None:
        self.warehouse.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _comparable(row: tuple[Any, ...]) -> tuple[str, ...]:
    """A row as text the same whether read from the warehouse or about to be written (a day is a day, 3 is 3.0)."""
    cells = []
    for cell in row:
        if cell is None or (not isinstance(cell, str) and pd.isna(cell)):
            cells.append("")
        elif isinstance(cell, (bool, str)) or type(cell).__name__ == "bool_":
            cells.append(str(bool(cell)) if not isinstance(cell, str) else cell)
        elif isinstance(cell, (datetime, date)):
            cells.append(pd.Timestamp(cell).isoformat())
        else:
            cells.append(repr(float(cell)))
    return tuple(cells)


def open_workspace(directory: str | Path = ".") -> Workspace:
    """Open the workspace in `directory`, migrating an older warehouse to this Cadence's schema."""
    root = Path(directory).expanduser().resolve()
    if not root.is_dir():
        raise WorkspaceError(f"no workspace folder at {root}", hint="run `cadence init DIR` to create one")
    config = load_config(root)
    warehouse = connect(config.warehouse, root)
    workspace = Workspace(root, config, warehouse)
    workspace.migrated_through = migrate(warehouse)
    workspace.sync_config_stages()
    workspace.sync_config_rates()
    return workspace


def init_workspace(directory: str | Path, *, company: str = "My Company", warehouse: str | None = None,
                   force: bool = False) -> Path:
    """Create a workspace folder with a commented cadence.yml and an empty warehouse."""
    root = Path(directory).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    target = root / CONFIG_FILE
    if target.exists() and not force:
        raise WorkspaceError(f"{target} already exists", hint="pass --force to overwrite it")
    target.write_text(config_template(company=company, warehouse=warehouse), encoding="utf-8")
    (root / "reports").mkdir(exist_ok=True)
    open_workspace(root).close()
    return root
