"""The warehouse on Apache Spark: `spark://local` (a Spark inside this process, its data in the workspace),
`spark://HOST:PORT` (a standalone cluster's master) or `sc://HOST:PORT` (Spark Connect).

Spark's plain Parquet tables have no transactions, no DELETE and no UPDATE, so this engine keeps each table as
a list of immutable Parquet *segments* and a small catalog (`catalog.json`) naming, per table, its columns and
its segments. A statement never changes a segment: an INSERT writes a new one, a DELETE or UPDATE writes the
table again as one new segment. Inside a transaction the new segments are only staged; COMMIT writes the catalog
anew and renames it over the old one in one step (`os.replace`), so readers see the whole import or none of it,
and ROLLBACK (or a crash) leaves the old catalog and only unreferenced files behind, removed on the next commit.

Each table is shown to Spark SQL and to Ibis as a temporary view of its segments, in a session of its own
(`SparkSession.newSession()`): every workspace opened in a process shares the one JVM and is isolated from the
others. Statements come written in DuckDB's SQL with `$n` parameters; sqlglot binds and translates them.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from cadence.errors import WarehouseError
from cadence.schema.tables import Table

CATALOG = "catalog.json"
KEPT = "_kept"  # beside the catalog: results kept per version of the data (`store/kept_results.py`)
DERIVED = "_derived"  # beside the catalog: tables derived per version of the data (`store/derived.py`)
FOLDER = "spark-warehouse"  # beside cadence.yml, for `spark://local`
COMPACT_AFTER = 8  # a table with more segments is written again as one on its next commit
SPARK_TYPES = {"VARCHAR": "STRING", "TEXT": "STRING", "BIGINT": "BIGINT", "INTEGER": "BIGINT", "INT": "BIGINT",
               "DOUBLE": "DOUBLE", "DOUBLE PRECISION": "DOUBLE", "BOOLEAN": "BOOLEAN", "DATE": "DATE",
               "TIMESTAMP": "TIMESTAMP_NTZ"}  # wall-clock timestamps, as DuckDB and PostgreSQL keep them

_LOCK = threading.Lock()
_ROOT_SESSION: Any = None
_STOPPED: list[Any] = []  # Spark Connect sessions `close` stopped, kept until the process ends (see there)
_MASTER: str | None = None


def install_hint() -> str:
    return "pip install 'cadence[spark]' (and a Java 17 runtime: apt-get install openjdk-17-jre-headless)"


def shown(url: str) -> str:
    """`url` without the credentials it may carry (`user:password@`, Spark Connect's `;token=…`)."""
    url = url.split(";", 1)[0]
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def parse_url(url: str, root: Path) -> tuple[str, Path]:
    """(Spark master, data folder) for a warehouse URL; the data folder defaults to the workspace's."""
    parts = urlsplit(url)
    where = parse_qs(parts.query).get("path", [""])[0]
    data = Path(where) if where else root / FOLDER
    if parts.scheme == "sc":  # the rest of the URL (Databricks Connect's `/;token=…`) is Spark Connect's
        return url.split("?", 1)[0], data
    if parts.netloc in ("local", ""):
        return "local[2]", data
    return f"spark://{parts.netloc}", data


def _log_config(folder: Path) -> Path:
    """A log4j2 configuration that keeps Spark's own warnings out of Cadence's output."""
    path = folder / "log4j2.properties"
    path.write_text("rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = console\n"
                    "appender.console.type = Console\nappender.console.name = console\n"
                    "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
                    "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Around each call into pyspark: its result sockets are left for the garbage collector (a ResourceWarning
    each), its toPandas passes pandas 3 a deprecated keyword, and Ibis asks Spark Connect for a schema check it
    does not do (`verifySchema`, which Spark Connect says it ignores); none is Cadence's to fix or a user's to
    see."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
        warnings.filterwarnings("ignore", message="'verifySchema' is ignored")
        yield


@contextlib.contextmanager
def _jvm_output_to(log: Path) -> Iterator[None]:
    """The JVM started inside writes its own output (JDK notices, Spark's start-up lines) to `log`, not into
    Cadence's output; its errors still reach Python as exceptions."""
    log.parent.mkdir(parents=True, exist_ok=True)
    saved = [os.dup(1), os.dup(2)]
    with log.open("ab") as out:
        try:
            for fd in (1, 2):
                os.dup2(out.fileno(), fd)
            yield
        finally:
            for fd, old in zip((1, 2), saved, strict=True):
                os.dup2(old, fd)
                os.close(old)


def spark_session(master: str, scratch: Path) -> Any:
    """A new session of this process's one Spark (started on first use: ~5 s for a local one), or of the Spark
    Connect server `master` names (`sc://…`: no JVM here, each workspace a session of its own on the server)."""
    global _ROOT_SESSION, _MASTER
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise WarehouseError("this workspace's warehouse is Spark and pyspark is not installed",
                             hint=install_hint()) from exc
    with _LOCK:
        remote = master.startswith("sc://")
        if _MASTER is not None and (remote != _MASTER.startswith("sc://") or (not remote and master != _MASTER)):
            # pyspark switches the whole process to Spark Connect once a remote session exists
            raise WarehouseError(f"this process already runs Spark on {shown(_MASTER)}; it cannot also open "
                                 f"{shown(master)}",
                                 hint="copy between two Spark warehouses in two steps, through a DuckDB one")
        if remote:
            session = _connect_session(master)
            _MASTER = master
            return session
        if _ROOT_SESSION is None:
            _ROOT_SESSION = _start_classic(SparkSession, master, scratch)
            _MASTER = master
        session = _ROOT_SESSION.newSession()
    _session_settings(session)
    return session


def _session_settings(session: Any) -> None:
    """Every Cadence session reads and writes wall-clock times in UTC, and shuffles into few partitions (a
    company's data is small for Spark: 200 partitions, Spark's default, spend more on tasks than on rows)
    unless whoever runs the cluster chose another number."""
    session.conf.set("spark.sql.session.timeZone", "UTC")
    if session.conf.get("spark.sql.shuffle.partitions") == "200":
        session.conf.set("spark.sql.shuffle.partitions", "2")


def _connect_session(url: str) -> Any:
    """A session of its own on the Spark Connect server at `url` (views and caches are per session there)."""
    try:
        from pyspark.sql import SparkSession
        from pyspark.sql.connect.utils import check_dependencies

        check_dependencies("pyspark.sql.connect.session")
    except ImportError as exc:
        raise WarehouseError(f"Spark Connect's client is not installed ({str(exc).splitlines()[0]})",
                             hint="pip install 'cadence[spark]'") from exc
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    _knock(url, "the Spark Connect server", 15002)
    try:
        # pyspark's own builder, which also marks the process as Spark Connect's (its functions then build
        # Spark Connect columns); `create`, not `getOrCreate`: a new session, not the process's first one
        session = SparkSession.builder.remote(url).create()
        _session_settings(session)
    except Exception as exc:  # the server cannot be reached, or refuses the token
        raise WarehouseError(f"cannot open a session on the Spark Connect server at {shown(url)}: "
                             f"{_first_line(exc)}", hint="is the URL's token (`;token=…`) still valid?") from exc
    return session


def _knock(url: str, what: str, default_port: int) -> None:
    """Refuse at once a server whose host and port do not answer: Spark Connect's client would retry for about
    ten minutes, a driver for a minute, saying nothing (right for a server that is starting, not for a wrong host
    or port). Behind a proxy, which Spark Connect's gRPC goes through, its host may not answer directly: then it
    is not asked."""
    import socket

    proxies = ("grpc_proxy", "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY")
    if url.startswith("sc://") and any(os.environ.get(v) for v in proxies):
        return
    parts = urlsplit(url.split(";", 1)[0])
    host, port = parts.hostname or "localhost", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=10):
            pass
    except OSError as exc:
        raise WarehouseError(f"cannot reach {what} at {shown(url)}: {exc.strerror or exc}",
                             hint=f"is {what} running, and are the URL's host and port its own?") from exc


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return shown(lines[0]) if lines else type(exc).__name__


def is_connect(session: Any) -> bool:
    """Whether `session` is a Spark Connect client's (no JVM in this process) rather than a local driver's."""
    return type(session).__module__.startswith("pyspark.sql.connect")


def _loopback(master: str) -> bool:
    host = urlsplit(master).hostname or ""
    return host == "localhost" or host.startswith("127.")


def _start_classic(builder_class: Any, master: str, scratch: Path) -> Any:
    """This process's Spark driver: a local Spark (`local[2]`) or the driver of an application on a standalone
    cluster's master. Spark's own files (its log, the SQL warehouse folder Spark insists on) stay in `scratch`."""
    local = master.startswith("local")
    if not local:
        _knock(master, "the Spark master", 7077)
    if local or _loopback(master):  # a cluster on this machine reaches its driver on loopback too
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    (scratch / "_spark").mkdir(parents=True, exist_ok=True)
    logs = _log_config(scratch / "_spark")  # in the workspace: nothing left behind in /tmp
    settings = {"spark.sql.session.timeZone": "UTC", "spark.sql.execution.arrow.pyspark.enabled": "true",
                "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                "spark.sql.warehouse.dir": str(scratch / "_spark"),
                "spark.driver.extraJavaOptions": f"-Dlog4j.configurationFile=file:{logs} "
                                                 f"-Dderby.system.home={scratch / '_spark'}"}
    if local:
        # many small queries: compiling each plan to Java costs more than it saves on a company's data
        settings |= {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2",
                     "spark.sql.codegen.wholeStage": "false", "spark.driver.memory": "1g"}
    builder = builder_class.builder.appName("cadence").master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with _jvm_output_to(scratch / "_spark" / "spark.log"):
            return builder.getOrCreate()
    except Exception as exc:  # no Java, or the master refused the application
        hint = install_hint() if local else f"its log: {scratch / '_spark' / 'spark.log'}"
        raise WarehouseError(f"cannot start Spark on {shown(master)}: {_first_line(exc)}", hint=hint) from exc


@dataclass
class TableState:
    columns: list[tuple[str, str]]  # (name, Spark type)
    segments: list[str] = field(default_factory=list)  # folders under the data folder
    unique: list[list[str]] = field(default_factory=list)
    # the rows' hashes (`SparkEngine.row_hashes`) and the layout they were computed for: kept in the catalog, so
    # the next import finds what a table held without a Spark job; stale as soon as the layout changes
    hashed: tuple[str, tuple[int, int, int]] | None = None

    def ddl(self) -> str:
        return ", ".join(f"`{name}` {kind}" for name, kind in self.columns)

    def layout(self) -> dict[str, Any]:
        """What the table is made of: its columns, segments and keys (what the data version names)."""
        return {"columns": [list(c) for c in self.columns], "segments": list(self.segments),
                "unique": [list(u) for u in self.unique]}

    def layout_key(self) -> str:
        return hashlib.sha256(json.dumps(self.layout(), sort_keys=True).encode()).hexdigest()

    def known_hashes(self) -> tuple[int, int, int] | None:
        """The rows' hashes, when they were computed for the table as it is made now."""
        return self.hashed[1] if self.hashed is not None and self.hashed[0] == self.layout_key() else None

    def to_json(self) -> dict[str, Any]:
        found = self.layout()
        if self.hashed is not None:
            found["hashed"] = {"of": self.hashed[0], "rows": list(self.hashed[1])}
        return found

    @staticmethod
    def from_json(data: dict[str, Any]) -> TableState:
        hashed = data.get("hashed")
        return TableState([(str(n), str(k)) for n, k in data["columns"]], list(data["segments"]),
                          [list(u) for u in data.get("unique", [])],
                          None if hashed is None else (str(hashed["of"]), (int(hashed["rows"][0]),
                                                                            int(hashed["rows"][1]),
                                                                            int(hashed["rows"][2]))))


class SparkEngine:
    """Canonical tables as Parquet segments under one catalog; reads through Ibis's PySpark backend."""

    dialect = "duckdb"  # statements are written in DuckDB's SQL (the DDL too) and translated here

    def __init__(self, url: str, root: Path):
        self.master, self.data = parse_url(url, root)
        self.data.mkdir(parents=True, exist_ok=True)
        self.session = spark_session(self.master, self.data)
        self._tables: dict[str, TableState] = {}
        self._committed: dict[str, TableState] = {}
        self._staged: list[str] = []
        self._in_tx = False
        self._lock_file: Any = None
        self._seen_mtime = -1.0
        self._ibis: Any = None
        self._cached: dict[str, Any] = {}
        self._views: dict[str, Any] = {}
        self._refresh()

    # -- the catalog -------------------------------------------------------------------------------------------
    @property
    def _catalog_path(self) -> Path:
        return self.data / CATALOG

    def _refresh(self) -> None:
        """Read the catalog again when another process committed since (a stat per read otherwise)."""
        if self._in_tx:
            return
        mtime = self._catalog_path.stat().st_mtime if self._catalog_path.exists() else 0.0
        if mtime == self._seen_mtime:
            return
        self._seen_mtime = mtime
        data = json.loads(self._catalog_path.read_text(encoding="utf-8")) if mtime else {"tables": {}}
        before = self._tables
        self._tables = {name: TableState.from_json(t) for name, t in data["tables"].items()}
        self._committed = {name: TableState.from_json(t.to_json()) for name, t in self._tables.items()}
        for name in set(before) - set(self._tables):
            self.session.catalog.dropTempView(name)
        for name, state in self._tables.items():
            if name not in before or before[name].layout() != state.layout():
                self._show(name)

    def _write_catalog(self) -> None:
        tables = {name: t.to_json() for name, t in sorted(self._tables.items())}
        fd, tmp = tempfile.mkstemp(dir=self.data, prefix=".catalog-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"tables": tables}, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self._catalog_path)
        self._seen_mtime = self._catalog_path.stat().st_mtime
        self._committed = {name: TableState.from_json(t.to_json()) for name, t in self._tables.items()}

    def frame(self, name: str) -> Any:
        """The table's rows as a Spark DataFrame (its segments read with its declared columns; the schema goes
        as DDL text, which the session itself parses, local or over Spark Connect)."""
        state = self._tables[name]
        if not state.segments:
            return self.session.createDataFrame([], state.ddl())
        return self.session.read.schema(state.ddl()).parquet(*(str(self.data / s) for s in state.segments))

    def row_hashes(self, names: list[str]) -> dict[str, tuple[int, int, int]]:
        """Each table's row count, and an XOR and a sum of a 64-bit hash of each whole row (each cell and whether
        it is empty, so a value moving to the next column changes it), as the open transaction sees the tables.
        Read from the catalog when they were computed for the table as it is made now; the others computed, a
        Spark job each, and noted beside the table, so they reach the catalog with the next commit.
        What `Warehouse` compares before and after a transaction's writes."""
        from pyspark.sql import functions as F

        found: dict[str, tuple[int, int, int]] = {}
        for name in names:
            state = self._tables[name]
            known = (0, 0, 0) if not state.segments else state.known_hashes()
            if known is None:  # one job a table: quicker than one job over their union (2.8 s against 5.0 s for
                # the demo's twenty tables on a local Spark)
                cells = [F.col(f"`{column}`") for column, _ in state.columns]
                row = F.xxhash64(*cells, *(F.isnull(cell) for cell in cells))
                with quiet():
                    count, xor, total = self.frame(name).select(F.count(F.lit(1)), F.bit_xor(row),
                                                                F.sum(row.cast("decimal(38,0)"))).collect()[0]
                known = (int(count), int(xor or 0), int(total or 0))
                state.hashed = (state.layout_key(), known)
            found[name] = known
        return found

    def unchanged(self, found: dict[str, tuple[int, int, int]]) -> list[str]:
        """Of the tables the open transaction wrote (`found`: each one's `row_hashes` before its first write),
        those whose rows are as found: those naming the segments they named then, and those whose rows hash as
        they did (the hashes then kept in the catalog, so the next import starts from them). A table that was
        empty is taken as changed without a job."""
        written = [n for n in found if n in self._tables]  # one dropped in the transaction has changed
        same = [n for n in written
                if (then := self._committed.get(n)) is not None and then.layout() == self._tables[n].layout()]
        # a table that was empty and was written is taken as changed, unhashed: a first import or a copy pays
        # nothing, and the next import hashes it before its first write
        asked = [n for n in written if n not in same and found[n] != (0, 0, 0)]
        now = self.row_hashes(asked) if asked else {}
        return same + [n for n in asked if now[n] == found[n]]

    def keep_committed(self, names: list[str]) -> None:
        """In the open transaction, tables `names` (whose rows were found as they were) go back to the segments
        the last commit named, their columns unchanged: the commit names no new segment for them, so the data
        version stays and what was kept for those rows is still served. The segments written for them are
        removed after the commit, as any segment nothing names."""
        for name in names:
            now, then = self._tables.get(name), self._committed.get(name)
            if now is None or then is None or now.layout() == then.layout():
                continue
            if now.columns != then.columns or now.unique != then.unique:
                continue  # a migration in the same transaction: its new columns stay
            kept = TableState.from_json(then.to_json())
            rows = now.known_hashes()  # hashed as they are now: the same rows the kept segments hold
            if rows is not None:
                kept.hashed = (kept.layout_key(), rows)
            self._tables[name] = kept
            with quiet():
                self._show(name)

    def _show(self, name: str) -> None:
        """Show the table as the view `name`, cached in Spark's memory once first read (spilling to disk)."""
        before = self._views.pop(name, None)
        if before is not None:
            before.unpersist()
        frame = self.frame(name).cache()
        frame.createOrReplaceTempView(name)
        self._views[name] = frame

    def table_names(self) -> set[str]:
        self._refresh()
        return set(self._tables)

    def data_version(self, tables: frozenset[str]) -> str:
        """What the committed catalog says `tables` are made of: their columns and segments. A segment is never
        changed, and every committed INSERT, UPDATE or DELETE that changes rows names a new one (a fresh uuid),
        so any committed write to those tables, by this process or another, changes this, and a rollback does not."""
        self._refresh()
        committed = {name: state.layout() for name, state in sorted(self._committed.items()) if name in tables}
        return hashlib.sha256(json.dumps(committed, sort_keys=True).encode()).hexdigest()

    @property
    def kept_folder(self) -> Path:
        """Where results kept per version of the data are written: beside the catalog, as files."""
        return self.data / KEPT

    # -- derived tables, kept per version of the data (`store/derived.py`) ------------------------------------------
    @property
    def derived_folder(self) -> Path:
        return self.data / DERIVED

    def derived_names(self) -> list[str]:
        """The derived tables kept, oldest first."""
        folder = self.derived_folder
        if not folder.is_dir():
            return []
        kept = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return [p.name for p in sorted(kept, key=lambda p: (p.stat().st_mtime, p.name))]

    def keep_derived(self, name: str, expr: Any) -> None:
        """The rows of the Ibis expression `expr` written once as the Parquet folder `name`, whole or not at all:
        into a hidden folder, then renamed into place (a process racing us to the same version keeps its own)."""
        final = self.derived_folder / name
        if final.is_dir():
            return
        self.derived_folder.mkdir(parents=True, exist_ok=True)
        partial = self.derived_folder / f".{name}-{uuid.uuid4().hex}"
        try:
            backend = self.ibis()
            with quiet():
                backend._run_pre_execute_hooks(expr)  # its in-memory tables shown to the session
                self.session.sql(backend.compile(expr)).write.mode("error").parquet(str(partial))
            os.replace(partial, final)
        except OSError:
            if not final.is_dir():
                raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    def show_derived(self, name: str) -> None:
        """The kept table `name` as the view `name`, cached in Spark's memory once first read."""
        before = self._views.pop(name, None)
        if before is not None:
            before.unpersist()
        with quiet():
            frame = self.session.read.parquet(str(self.derived_folder / name)).cache()
            frame.createOrReplaceTempView(name)
        self._views[name] = frame

    def drop_derived(self, name: str) -> None:
        before = self._views.pop(name, None)
        if before is not None:
            before.unpersist()
        with contextlib.suppress(Exception):
            self.session.catalog.dropTempView(name)
        shutil.rmtree(self.derived_folder / name, ignore_errors=True)

    def column_names(self, table: str) -> list[str]:
        self._refresh()
        return [c for c, _ in self._tables[table].columns] if table in self._tables else []

    # -- statements --------------------------------------------------------------------------------------------
    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        with quiet():
            self._execute(sql, params)

    def _execute(self, sql: str, params: tuple[Any, ...] | None) -> None:
        from sqlglot import exp

        self._refresh()
        tree = _parse(sql, params)
        if isinstance(tree, exp.Create):
            self._create(tree)
        elif isinstance(tree, exp.Alter):
            self._alter(tree)
        elif isinstance(tree, exp.Drop):
            self._drop(tree)
        elif isinstance(tree, exp.Insert):
            self._insert(tree)
        elif isinstance(tree, exp.Delete):
            self._delete(tree)
        elif isinstance(tree, exp.Update):
            self._update(tree)
        else:
            self.session.sql(tree.sql("spark")).collect()
            return
        if not self._in_tx:
            self._commit_changes()

    def query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        with quiet():
            self._refresh()
            return [tuple(row) for row in self.session.sql(_parse(sql, params).sql("spark")).collect()]

    def read_frame(self, sql: str) -> pd.DataFrame:
        with quiet():
            self._refresh()
            return self.session.sql(_parse(sql, None).sql("spark")).toPandas()  # type: ignore[no-any-return]

    def _name(self, node: Any) -> str:
        from sqlglot import exp

        table = node if isinstance(node, exp.Table) else node.find(exp.Table)
        return str(table.name)

    def _state(self, name: str) -> TableState:
        if name not in self._tables:
            raise WarehouseError(f"the Spark warehouse {self.data} has no table {name}",
                                 hint="run `cadence init` on this workspace again to create its tables")
        return self._tables[name]

    def _create(self, tree: Any) -> None:
        from sqlglot import exp

        if str(tree.args.get("kind", "")).upper() != "TABLE":
            raise WarehouseError(f"the Spark warehouse creates only tables, not: {tree.sql('duckdb')[:80]}")
        name = self._name(tree.this)
        if name in self._tables:
            if tree.args.get("exists"):
                return
            raise WarehouseError(f"the table {name} already exists in {self.data}")
        columns, unique = [], []
        for item in tree.this.expressions:
            if isinstance(item, exp.ColumnDef):
                columns.append((item.name, _spark_type(item.args["kind"])))
            elif isinstance(item, exp.UniqueColumnConstraint):
                unique.append([c.name for c in item.this.expressions])
        self._tables[name] = TableState(columns, [], unique)
        self._show(name)

    def _alter(self, tree: Any) -> None:
        from sqlglot import exp

        state = self._state(self._name(tree.this))
        for action in tree.args.get("actions", []):
            if not isinstance(action, exp.ColumnDef):
                raise WarehouseError(f"the Spark warehouse only adds columns, not: {tree.sql('duckdb')[:80]}")
            if action.name not in dict(state.columns):
                state.columns.append((action.name, _spark_type(action.args["kind"])))
        self._show(self._name(tree.this))

    def _drop(self, tree: Any) -> None:
        name = self._name(tree.this)
        if name in self._tables:
            del self._tables[name]
            self.session.catalog.dropTempView(name)
        elif not tree.args.get("exists"):
            raise WarehouseError(f"the Spark warehouse has no table {name}")

    def _insert(self, tree: Any) -> None:
        from sqlglot import exp

        target = tree.this
        named = [c.name for c in target.expressions] if isinstance(target, exp.Schema) else []
        name = self._name(target)
        state = self._state(name)
        source = tree.expression
        sql = f"SELECT * FROM {source.sql('spark')}" if isinstance(source, exp.Values) else source.sql("spark")
        rows = self.session.sql(sql)
        rows = rows.toDF(*(named or [c for c, _ in state.columns][: len(rows.columns)]))
        self._check_unique(name, state, rows)
        self._add_segment(name, self._conform(state, rows))

    def _conform(self, state: TableState, rows: Any) -> Any:
        """`rows` with exactly the table's columns, in order and of its types (absent ones empty)."""
        from pyspark.sql import functions as F

        present = set(rows.columns)
        return rows.select(*((F.col(f"`{c}`") if c in present else F.lit(None)).cast(kind).alias(c)
                             for c, kind in state.columns))

    def _check_unique(self, name: str, state: TableState, rows: Any) -> None:
        """A UNIQUE key declared for the table refuses a row that repeats it, as DuckDB and PostgreSQL do."""
        for key in state.unique:
            cols = [f"`{c}`" for c in key]
            both = self.frame(name).select(*cols).unionByName(rows.select(*cols))
            if both.groupBy(*cols).count().filter("count > 1").limit(1).count():
                raise WarehouseError(f"duplicate key value violates the unique constraint on {name} ({', '.join(key)})")

    def _delete(self, tree: Any) -> None:
        name = self._name(tree.this)
        state = self._state(name)
        where = tree.args.get("where")
        alias = tree.this.alias_or_name
        if not state.segments:
            return  # an empty table: nothing to delete
        source = f"`{name}` AS `{alias}`"
        if where is None:
            self._replace(name, self.frame(name).limit(0))
            return
        condition = where.this.sql("spark")
        if not self.session.sql(f"SELECT 1 FROM {source} WHERE {condition} LIMIT 1").collect():
            return  # nothing to delete: the table stays as it is
        keep = f"NOT ({condition})" if _has_subquery(where) else f"NOT COALESCE({condition}, FALSE)"
        columns = ", ".join(f"`{alias}`.`{c}`" for c, _ in state.columns)
        self._replace(name, self.session.sql(f"SELECT {columns} FROM {source} WHERE {keep}"))

    def _update(self, tree: Any) -> None:
        name = self._name(tree.this)
        state = self._state(name)
        where = tree.args.get("where")
        if not state.segments:
            return
        condition = where.this.sql("spark") if where is not None else "TRUE"
        if not self.session.sql(f"SELECT 1 FROM `{name}` WHERE {condition} LIMIT 1").collect():
            return
        sets = {item.this.name: item.expression.sql("spark") for item in tree.expressions}
        columns = ", ".join(
            f"CASE WHEN COALESCE({condition}, FALSE) THEN CAST({sets[c]} AS {kind}) ELSE `{c}` END AS `{c}`"
            if c in sets else f"`{c}`" for c, kind in state.columns)
        self._replace(name, self.session.sql(f"SELECT {columns} FROM `{name}`"))

    def _write(self, rows: Any) -> str:
        segment = f"{uuid.uuid4().hex}"
        rows.write.mode("error").parquet(str(self.data / segment))
        self._staged.append(segment)
        return segment

    def _add_segment(self, name: str, rows: Any) -> None:
        state = self._tables[name]
        state.segments = [*state.segments, self._write(rows)]
        self._show(name)

    def _replace(self, name: str, rows: Any) -> None:
        """The table written again as one new segment (`rows` are read before the old ones are let go)."""
        state = self._tables[name]
        state.segments = [self._write(self._conform(state, rows))]
        self._show(name)

    # -- staging a frame (upserts) -----------------------------------------------------------------------------
    def stage(self, name: str, table: Table, frame: pd.DataFrame) -> None:
        """`frame` written to Parquet by pyarrow, then shown to Spark as the view `name`."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        folder = self.data / "_staging" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        columns = {}
        for column in table.column_names:
            values = frame[column]
            if values.isna().all():
                columns[column] = pa.array([None] * len(values), type=pa.string())
            else:
                columns[column] = pa.Array.from_pandas(values.astype(object).where(values.notna(), None))
        pq.write_table(pa.table(columns), folder / "part-0.parquet", coerce_timestamps="us",
                       allow_truncated_timestamps=True)
        self.session.read.parquet(str(folder)).createOrReplaceTempView(name)
        self._cached[name] = folder

    def unstage(self, name: str) -> None:
        self.session.catalog.dropTempView(name)
        folder = self._cached.pop(name, None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    # -- transactions ------------------------------------------------------------------------------------------
    def begin(self) -> None:
        self._lock_file = (self.data / ".lock").open("w")
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)  # one writer at a time, across processes
        self._refresh()
        self._in_tx = True

    def commit(self) -> None:
        try:
            with quiet():
                self._commit_changes()
        finally:
            self._in_tx = False
            self._unlock()

    def rollback(self) -> None:
        try:
            for segment in self._staged:
                shutil.rmtree(self.data / segment, ignore_errors=True)
            self._staged = []
            changed = {n for n in set(self._tables) | set(self._committed)
                       if n not in self._committed or n not in self._tables
                       or self._tables[n].layout() != self._committed[n].layout()}
            self._tables = {n: TableState.from_json(t.to_json()) for n, t in self._committed.items()}
            for name in changed:
                if name in self._tables:
                    self._show(name)
                else:
                    self.session.catalog.dropTempView(name)
        finally:
            self._in_tx = False
            self._unlock()

    def _unlock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _commit_changes(self) -> None:
        for name, state in self._tables.items():
            if len(state.segments) > COMPACT_AFTER:
                state.segments = [self._write(self.frame(name))]
                self._show(name)
        self._write_catalog()
        self._staged = []
        self._collect_garbage()

    def _collect_garbage(self) -> None:
        """Remove segments no table names any more (written again, rolled back, or left by a crash)."""
        used = {s for t in self._tables.values() for s in t.segments}
        for path in self.data.iterdir():
            if path.is_dir() and len(path.name) == 32 and path.name not in used:
                shutil.rmtree(path, ignore_errors=True)

    # -- reads -------------------------------------------------------------------------------------------------
    def ibis(self) -> Any:
        self._refresh()
        if self._ibis is None:
            self._ibis = _ibis_backend(self.session)
        return self._ibis

    def close(self) -> None:
        if self._in_tx:
            self.rollback()
        for name in list(self._cached):
            self.unstage(name)
        for frame in self._views.values():
            frame.unpersist()
        with contextlib.suppress(Exception):
            for table in self.session.catalog.listTables():
                if table.isTemporary:
                    self.session.catalog.dropTempView(table.name)
        if is_connect(self.session):  # the server lets go of the session's views and caches now, not when idle
            with contextlib.suppress(Exception):
                self.session.stop()
            # pyspark's Spark Connect session closes its client again when it is collected, and closing waits for a
            # thread pool that every session of the process shares. Collected in the middle of another session's
            # gRPC call (the collector runs wherever memory is allocated), it waited on that call for ever: a
            # workspace opened after another one closed hung. A stopped session is never collected before the
            # process ends, when no call is under way.
            _STOPPED.append(self.session)


def _parse(sql: str, params: tuple[Any, ...] | None) -> Any:
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    if params:
        def literal(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Placeholder):
                return exp.convert(params[int(node.this) - 1])  # type: ignore[return-value]
            return node
        tree = tree.transform(literal)
    return tree


def _has_subquery(node: Any) -> bool:
    from sqlglot import exp

    return any(True for _ in node.find_all(exp.Exists, exp.Subquery, exp.In) if _ is not None
               and (not isinstance(_, exp.In) or _.args.get("query") is not None))


def _spark_type(kind: Any) -> str:
    text = kind.sql("duckdb").upper()
    if text.startswith(("DECIMAL", "NUMERIC")):
        return text.replace("NUMERIC", "DECIMAL").replace(" ", "")
    return SPARK_TYPES.get(text, text)


@functools.cache
def spark_compiler() -> Any:
    """Ibis's Spark SQL compiler, with three answers made the same as on DuckDB and PostgreSQL: a float literal
    is a DOUBLE (Spark reads `1.0` as DECIMAL(2,1), so a share of rows came out rounded to five places), a
    division Ibis types as float64 divides DOUBLEs (Spark's DECIMAL division keeps six places), and stripping
    whitespace strips whitespace only."""
    import ibis
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.pyspark import PySparkCompiler

    _ = ibis.pyspark  # registers the backend's options (`treat_nan_as_null`), which its compiler reads
    double = sge.DataType.build("DOUBLE")

    class CadenceSparkCompiler(PySparkCompiler):  # type: ignore[misc]
        def visit_NonNullLiteral(self, op: Any, *, value: Any, dtype: Any) -> Any:
            result = super().visit_NonNullLiteral(op, value=value, dtype=dtype)
            if dtype.is_floating() and isinstance(result, sge.Literal):
                return sge.Cast(this=result, to=double)
            return result

        def visit_Divide(self, op: Any, *, left: Any, right: Any) -> Any:
            if op.dtype.is_floating():
                left, right = sge.Cast(this=left, to=double), sge.Cast(this=right, to=double)
            return sge.Div(this=left, expression=right)

        # Ibis trims whitespace as TRIM(' \t\n\r\v\f' FROM x), but Spark's string literals know no \v or \f
        # escape: they read as the letters v and f, and 'foxhill.io' was trimmed to 'oxhill.io'
        def visit_Strip(self, op: Any, *, arg: Any) -> Any:
            return self.f.regexp_replace(arg, sge.convert(r"^\s+|\s+$"), sge.convert(""))

        def visit_LStrip(self, op: Any, *, arg: Any) -> Any:
            return self.f.regexp_replace(arg, sge.convert(r"^\s+"), sge.convert(""))

        def visit_RStrip(self, op: Any, *, arg: Any) -> Any:
            return self.f.regexp_replace(arg, sge.convert(r"\s+$"), sge.convert(""))

    return CadenceSparkCompiler()


def _ibis_backend(session: Any) -> Any:
    """Ibis's PySpark backend on `session`, with temporary tables (the workspace's cached relations) held as
    checkpointed views (cached ones over Spark Connect), since Spark has no temporary tables; disconnecting leaves
    the shared Spark running."""
    from ibis.backends.pyspark import Backend

    remote = is_connect(session)
    kept: dict[str, Any] = {}

    class CadenceSpark(Backend):  # type: ignore[misc]
        compiler = spark_compiler()

        def create_table(self, name: str, /, obj: Any = None, *, temp: bool | None = None,
                         overwrite: bool = False, **kwargs: Any) -> Any:
            with quiet():
                if not temp:
                    return super().create_table(name, obj, temp=temp, overwrite=overwrite, **kwargs)
                return self._keep(name, obj)

        def _keep(self, name: str, obj: Any) -> Any:
            self._run_pre_execute_hooks(obj)
            rows = self._session.sql(self.compile(obj))
            if remote:
                # Spark Connect hands a checkpoint back as a frame of the process's first session, not of this
                # one (`SparkSession.active()`), so a second workspace's view failed; a cache read once instead
                rows = rows.cache()
                rows.count()
                before = kept.pop(name, None)
                if before is not None:
                    before.unpersist()
                kept[name] = rows
            else:
                rows = rows.localCheckpoint(eager=True)
            rows.createOrReplaceTempView(name)
            return self.table(name)

        def execute(self, expr: Any, /, **kwargs: Any) -> Any:
            with quiet():
                return super().execute(expr, **kwargs)

        def to_pyarrow(self, expr: Any, /, **kwargs: Any) -> Any:
            with quiet():
                return super().to_pyarrow(expr, **kwargs)

        def to_pyarrow_batches(self, expr: Any, /, **kwargs: Any) -> Any:
            with quiet():
                return super().to_pyarrow_batches(expr, **kwargs)

        def disconnect(self) -> None:
            pass

    backend = CadenceSpark()
    backend.do_connect(session)
    return backend
