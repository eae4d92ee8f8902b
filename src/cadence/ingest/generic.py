"""Any CSV, TSV, Excel or Parquet export, mapped onto the canonical schema by a mapping file.

`cadence ingest PATH --from csv --mapping FILE.yml` (or `--from xlsx`, `--from parquet`: the
same importer; each file is read by its suffix, an Excel workbook from its first sheet). PATH is a
folder or one file. The mapping file says which file goes to which canonical table, and how:

```yaml
files:
  - file: deals*.csv              # a name or a glob, relative to PATH when PATH is a folder
    table: opportunities          # a canonical table (`cadence schema` lists them)
    columns:                      # canonical column: source column header
      opportunity_id: Deal ID
      amount: Amount
      stage: Stage
      created_at: Created
    constants:                    # canonical column: the same value on every row
      currency: EUR
    values:                       # canonical column: {source value: canonical value}
      stage: {"Won": Closed Won, "Lost": Closed Lost}
    dates:                        # canonical column: strftime format, when not ISO 8601
      created_at: "%d/%m/%Y"
    dayfirst: true                # read other ambiguous dates (03/04/2024) day first
    lookups:                      # fill a column from another file of the same import, by a key
      lead_source:
        file: leads.csv           # the other file, relative to PATH's folder
        key: Lead ID              # this file's column holding the key
        on: Id                    # the other file's key column (default: the same name as `key`)
        column: Origin            # the other file's column to copy …
      kind:
        file: renewals.csv
        key: Deal ID
        found: renewal            # … or a fixed value when the key is found there
        missing: new              # the value when it is not (default: empty)
```

Rules, in the order they apply:
- `columns` copy source columns; `lookups` fill from another file (the first row with the key
  wins; an empty key never matches); then `values` translate (exact text after trimming spaces;
  values not listed pass through unchanged); `constants` fill whole columns; `dates` parse with
  the given format (or day first), and a value that does not parse is quarantined with the reason.
  A canonical column is set by one of `columns`, `constants` or `lookups`, never two.
- Types are coerced and checked by validation: a bad amount or date is quarantined with its file,
  line, column, value and reason; nothing is dropped.
- A table with a `currency` column gets the workspace currency on rows that have an amount, unless
  the mapping sets `currency` itself.
- Opportunities without `pipeline` belong to cadence.yml's pipeline ('default'): their stages
  must be the ones declared there, or be translated to them with `values`.
- Each record of a file becomes one row of the first entry that names the file; a later entry for
  the same file makes derived rows (e.g. accounts from a deals file), which the reconciliation
  does not count again. Two entries must not load the same table from the same file (the second
  would overwrite the first): fill a second file's facts with a lookup instead.
- PATH a folder: every entry must match a file; files no entry names are listed as skipped.
  PATH one file: the entries whose pattern matches its name apply, or the only entry if there is
  one. Lookup files are found beside it.

The mapping is checked as a whole before any data is read: every problem — an unknown table,
column or key (with a "did you mean"), a required column no entry fills — is reported at once,
with its line in the mapping file. A source column the mapping names but the file lacks stops the
import with the mapping file, its line, the data file and the column. docs/mapping.md has more.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cadence.errors import CadenceError, InputError, Location, UnknownNameError
from cadence.ingest.batch import (
    LINE,
    CanonicalFrame,
    ChunkedImport,
    ImportBatch,
    ImportOptions,
    SourceFile,
    chunk_rows,
    problem,
)
from cadence.ingest.readers import read_header, read_table, read_table_chunks
from cadence.ingest.registry import FORMATS
from cadence.schema.tables import TABLES, Table
from cadence.schema.types import ColumnType

TOP_KEYS = ("files", "description")
ENTRY_KEYS = ("file", "table", "columns", "constants", "values", "dates", "dayfirst", "lookups")
LOOKUP_KEYS = ("file", "key", "on", "column", "found", "missing")
FILLED_BY_IMPORT = {"source"}  # required columns Cadence fills itself
FILLED_FOR = {"opportunities": {"pipeline", "is_won", "is_closed"}}  # … per table, from the stage
_ISO = {ColumnType.DATE: "%Y-%m-%d", ColumnType.TIMESTAMP: "%Y-%m-%dT%H:%M:%S"}
_IMPORTABLE = {t.name: t for t in TABLES}


# -- the mapping file ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Lookup:
    """Fill a column from another file of the import, matching `key` here to `on` there."""

    file: str
    key: str
    on: str
    column: str | None
    found: str | None
    missing: str
    line: int


@dataclass(frozen=True)
class FileMapping:
    """One `files:` entry: a file pattern, its table, and how its columns map."""

    file: str
    table: str
    columns: dict[str, str]
    constants: dict[str, str]
    values: dict[str, dict[str, str]]
    dates: dict[str, str]
    dayfirst: bool
    lookups: dict[str, Lookup]
    line: int
    lines: dict[str, int]  # canonical column → its line in the mapping file

    def headers(self) -> dict[str, int]:
        """Source columns this entry reads from its own file, with their lines in the mapping."""
        named = {source: self.lines[canonical] for canonical, source in self.columns.items()}
        for lookup in self.lookups.values():
            named.setdefault(lookup.key, lookup.line)
        return named


@dataclass(frozen=True)
class Mapping:
    path: Path
    files: list[FileMapping]


class _Lined(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}
        self.repeated: list[tuple[str, int]] = []


class _MappingLoader(yaml.SafeLoader):
    """Keeps every plain scalar as text except true/false and null: '007', 1.0 or 2024-01-31 stay as written."""


_MappingLoader.yaml_implicit_resolvers = {}
_MappingLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                     list("tTfF"))
_MappingLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                                     ["~", "n", "N", ""])


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Lined:
    loader.flatten_mapping(node)
    out = _Lined(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        if key in out:
            out.repeated.append((key, key_node.start_mark.line + 1))
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


_MappingLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


class MappingError(InputError):
    """Several problems in a mapping file (or between it and the data), reported at once."""

    def __init__(self, mapping: Path, issues: list[CadenceError]):
        self.issues = issues
        listed = "; ".join(_short(issue, mapping) for issue in issues)
        super().__init__(f"{len(issues)} problems: {listed}", location=Location(str(mapping)))


def _short(issue: CadenceError, mapping: Path) -> str:
    text = issue.one_line()
    prefix = f"{mapping}, "
    return text[len(prefix):] if text.startswith(prefix) else text


def raise_issues(mapping: Path, issues: list[CadenceError]) -> None:
    """Raise the one problem found, or all of them together."""
    if len(issues) == 1:
        raise issues[0]
    if issues:
        raise MappingError(mapping, sorted(issues, key=lambda i: (i.location.line or 0) if i.location else 0))


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file, reporting every problem in it at once."""
    if not path.is_file():
        raise InputError("mapping file not found", location=Location(str(path)),
                         hint="pass --mapping FILE.yml (see docs/mapping.md)")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_MappingLoader)
    except UnicodeDecodeError:
        raise InputError("the mapping file is not UTF-8 text", location=Location(str(path))) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise InputError(f"not valid YAML ({exc.problem})", location=Location(str(path), line)) from None
    checker = _Checker(path)
    files = checker.mapping(raw)
    raise_issues(path, checker.issues)
    return Mapping(path, files)


@dataclass
class _Checker:
    """Turns the parsed YAML into FileMappings, collecting every problem instead of stopping."""

    path: Path
    issues: list[CadenceError] = field(default_factory=list)

    def at(self, line: int | None) -> Location:
        return Location(str(self.path), line)

    def error(self, message: str, line: int | None, hint: str | None = None) -> None:
        self.issues.append(InputError(message, location=self.at(line), hint=hint))

    def unknown(self, kind: str, name: str, known: list[str] | tuple[str, ...], line: int | None) -> None:
        self.issues.append(UnknownNameError(kind, name, known, location=self.at(line)))

    def keys(self, node: _Lined, allowed: tuple[str, ...], kind: str) -> None:
        for key in node:
            if key not in allowed:
                self.unknown(kind, key, allowed, node.lines.get(key))
        for key, line in node.repeated:
            self.error(f"{key!r} is given twice", line)

    def mapping(self, raw: object) -> list[FileMapping]:
        if not isinstance(raw, _Lined) or not isinstance(raw.get("files"), list) or not raw["files"]:
            self.error("a mapping file is a `files:` list of entries, each with file, table and columns",
                       getattr(raw, "line", 1), hint="see docs/mapping.md")
            return []
        self.keys(raw, TOP_KEYS, "mapping key")
        entries = [self.entry(item, raw.lines["files"]) for item in raw["files"]]
        found = [e for e in entries if e is not None]
        self.same_table_twice(found)
        return found

    def entry(self, node: object, files_line: int) -> FileMapping | None:
        if not isinstance(node, _Lined):
            self.error("each entry of `files` must be a mapping with file, table and columns", files_line)
            return None
        self.keys(node, ENTRY_KEYS, "mapping key")
        file, table_name = node.get("file"), node.get("table")
        if not isinstance(file, str) or not file.strip():
            self.error("this entry needs `file:` (a file name or glob)", node.line)
        elif Path(file).is_absolute():
            self.error("`file:` is relative to the folder imported", node.lines["file"])
        if not isinstance(table_name, str) or not table_name.strip():
            self.error("this entry needs `table:` (a canonical table)", node.line)
            return None
        table = _IMPORTABLE.get(table_name)
        if table is None:
            self.unknown("table", table_name, list(_IMPORTABLE), node.lines["table"])
            return None
        columns = self.texts(node, "columns", table, allow_empty=False)
        constants = self.texts(node, "constants", table, allow_empty=True)
        lookups = self.lookups(node, table)
        values = self.values(node, table, set(columns) | set(lookups))
        dates = self.dates(node, table)
        dayfirst = node.get("dayfirst", False)
        if not isinstance(dayfirst, bool):
            self.error("`dayfirst` is true or false", node.lines.get("dayfirst"))
        lines = self.set_once(node, table, columns, constants, lookups)
        if not isinstance(file, str):
            return None
        return FileMapping(file.strip(), table.name, columns, constants, values, dates, bool(dayfirst), lookups,
                           node.line, lines)

    def section(self, node: _Lined, key: str) -> _Lined | None:
        section = node.get(key)
        if section is None:
            return None
        if not isinstance(section, _Lined):
            self.error(f"`{key}` is a mapping of canonical column: value", node.lines.get(key))
            return None
        return section

    def canonical(self, section: _Lined, table: Table) -> list[str]:
        """The keys of `section` that are columns of `table`; the others are reported."""
        known = []
        for column in section:
            if column in table.column_names:
                known.append(column)
            else:
                self.unknown(f"column of {table.name}", column, table.column_names, section.lines[column])
        return known

    def texts(self, node: _Lined, key: str, table: Table, *, allow_empty: bool) -> dict[str, str]:
        section = self.section(node, key)
        if section is None:
            return {}
        out: dict[str, str] = {}
        for column in self.canonical(section, table):
            value = section[column]
            if value is None and allow_empty:
                value = ""
            if value is None or isinstance(value, (list, dict)) or (not allow_empty and not str(value).strip()):
                what = "a source column header" if key == "columns" else "one value"
                self.error(f"{key}.{column} must be {what}", section.lines[column])
                continue
            out[column] = _scalar(value) if key == "constants" else str(value).strip()
        return out

    def values(self, node: _Lined, table: Table, filled: set[str]) -> dict[str, dict[str, str]]:
        section = self.section(node, "values")
        if section is None:
            return {}
        out: dict[str, dict[str, str]] = {}
        for column in self.canonical(section, table):
            translation = section[column]
            if not isinstance(translation, _Lined):
                self.error(f"values.{column} is a mapping of source value: canonical value", section.lines[column])
            elif column not in filled:
                self.error(f"values.{column} translates a column that no `columns` or `lookups` entry fills",
                           section.lines[column])
            else:
                out[column] = {_scalar(k).strip(): _scalar(v) for k, v in translation.items()}
        return out

    def dates(self, node: _Lined, table: Table) -> dict[str, str]:
        section = self.section(node, "dates")
        if section is None:
            return {}
        out: dict[str, str] = {}
        for column in self.canonical(section, table):
            form = section[column]
            if table.column(column).type not in _ISO:
                self.error(f"dates.{column}: {column} is a {table.column(column).type.value}, not a date",
                           section.lines[column])
            elif not isinstance(form, str) or "%" not in form:
                self.error(f"dates.{column} is a strftime format such as '%d/%m/%Y'", section.lines[column])
            else:
                out[column] = form
        return out

    def lookups(self, node: _Lined, table: Table) -> dict[str, Lookup]:
        section = self.section(node, "lookups")
        if section is None:
            return {}
        out: dict[str, Lookup] = {}
        for column in self.canonical(section, table):
            spec, line = section[column], section.lines[column]
            if not isinstance(spec, _Lined):
                self.error(f"lookups.{column} is a mapping with file, key and column (or found)", line)
                continue
            self.keys(spec, LOOKUP_KEYS, "lookup key")
            texts = {k: str(spec[k]).strip() for k in ("file", "key", "on", "column") if spec.get(k) is not None}
            for needed in ("file", "key"):
                if not texts.get(needed):
                    self.error(f"lookups.{column} needs `{needed}`", line)
            if ("column" in texts) == (spec.get("found") is not None):
                self.error(f"lookups.{column} needs either `column` (to copy) or `found` (a fixed value)", line)
            if texts.get("file") and texts.get("key"):
                out[column] = Lookup(texts["file"], texts["key"], texts.get("on", texts["key"]), texts.get("column"),
                                     None if spec.get("found") is None else _scalar(spec["found"]),
                                     _scalar(spec.get("missing")), line)
        return out

    def set_once(self, node: _Lined, table: Table, columns: dict[str, str], constants: dict[str, str],
                 lookups: dict[str, Lookup]) -> dict[str, int]:
        """Each canonical column filled once, every required one filled; their lines."""
        lines: dict[str, int] = {}
        sources: dict[str, str] = {}
        for key, names in (("columns", columns), ("constants", constants), ("lookups", lookups)):
            section = node.get(key)
            for column in names:
                line = section.lines[column] if isinstance(section, _Lined) else node.line
                if column in sources:
                    self.error(f"{column} is set by both `{sources[column]}` and `{key}`", line,
                               hint="keep one of them")
                sources[column], lines[column] = key, line
        automatic = FILLED_BY_IMPORT | FILLED_FOR.get(table.name, set())
        missing = [c.name for c in table.columns if c.required and c.name not in sources and c.name not in automatic]
        if missing:
            self.error(f"table {table.name} needs {', '.join(missing)}: fill "
                       f"{'it' if len(missing) == 1 else 'them'} with columns, constants or lookups",
                       node.lines.get("table", node.line))
        return lines

    def same_table_twice(self, entries: list[FileMapping]) -> None:
        seen: dict[tuple[str, str], int] = {}
        for entry in entries:
            where = (entry.file, entry.table)
            if where in seen:
                self.error(f"{entry.file} is mapped to {entry.table} twice (first on line {seen[where]}): "
                           "the second would overwrite the first's rows", entry.line,
                           hint="merge the entries, or fill the second file's columns with `lookups`")
            seen.setdefault(where, entry.line)


def _scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- reading the data ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Planned:
    """One file to import through one entry; `primary` when it is the file's first entry."""

    path: Path
    entry: FileMapping
    primary: bool


class _Files:
    """Reads each data file once per import."""

    def __init__(self, options: ImportOptions):
        self.options = options
        self.cache: dict[Path, pd.DataFrame] = {}

    def read(self, path: Path) -> pd.DataFrame:
        if path not in self.cache:
            self.cache[path] = read_table(path, encoding=self.options.encoding, progress=self.options.progress)
        return self.cache[path]


class _Headers(_Files):
    """The header alone of each file an import reads in chunks; the lookup files whole, from `files`."""

    def __init__(self, options: ImportOptions, files: _Files, chunked: set[Path]):
        super().__init__(options)
        self.files, self.chunked = files, chunked

    def read(self, path: Path) -> pd.DataFrame:
        if path in self.chunked and path not in self.files.cache:
            return read_header(path, encoding=self.options.encoding)
        return self.files.read(path)


class GenericImporter:
    """CSV, TSV, Excel or Parquet files mapped by a mapping file; see the module's documentation."""

    def __init__(self, name: str = "csv"):
        self.name = name
        self.description = FORMATS.get(name, ("", "", "Files with a mapping file (--mapping)"))[2]

    def read(self, path: Path, options: ImportOptions) -> ImportBatch:
        if options.mapping is None:
            raise InputError(f"the {self.name} format needs a mapping file", location=Location(str(path)),
                             hint="pass --mapping FILE.yml; docs/mapping.md says how to write one")
        mapping = load_mapping(Path(options.mapping))
        folder, planned, skipped = plan(path, mapping)
        files = _Files(options)
        check_headers(mapping, planned, folder, files)
        batch = ImportBatch(self.name, skipped=skipped)
        for item in planned:
            source = files.read(item.path)
            frame = map_rows(source, item.entry, folder, files, options.currency)
            batch.add(CanonicalFrame(item.entry.table, frame, str(item.path), primary=item.primary))
            if item.primary:
                batch.files.append(SourceFile.of(str(item.path), source))
        return batch

    def read_chunks(self, path: Path, options: ImportOptions) -> ChunkedImport:
        """As `read`, a chunk of a file at a time (`ChunkedImport`): the mapping and every header are checked
        first; then each file is read in order, stages first, each chunk mapped by the file's entries."""
        if options.mapping is None:
            raise InputError(f"the {self.name} format needs a mapping file", location=Location(str(path)),
                             hint="pass --mapping FILE.yml; docs/mapping.md says how to write one")
        mapping = load_mapping(Path(options.mapping))
        folder, planned, skipped = plan(path, mapping)
        files = _Files(options)
        looked_up = {folder / lookup.file for entry in mapping.files for lookup in entry.lookups.values()}
        check_headers(mapping, planned, folder, _Headers(options, files, {p.path for p in planned} - looked_up))
        primary = list(dict.fromkeys(str(p.path) for p in planned if p.primary))
        return ChunkedImport(self.name, primary, self._chunks(passes(planned), folder, files, options), skipped)

    def _chunks(self, groups: list[list[Planned]], folder: Path, files: _Files,
                options: ImportOptions) -> Iterator[ImportBatch]:
        rows = options.chunk_rows or chunk_rows()
        for group in groups:
            path = group[0].path
            options.progress.start(f"importing {path.name}", None)
            try:
                chunks = [files.read(path)] if path in files.cache else \
                    read_table_chunks(path, rows=rows, encoding=options.encoding, progress=options.progress)
                for chunk in chunks:
                    batch = ImportBatch(self.name)
                    for item in group:
                        frame = map_rows(chunk, item.entry, folder, files, options.currency)
                        batch.add(CanonicalFrame(item.entry.table, frame, str(path), primary=item.primary))
                    if any(item.primary for item in group):
                        batch.files.append(SourceFile.of(str(path), chunk))
                    yield batch
            finally:
                options.progress.finish()


def passes(planned: list[Planned]) -> list[list[Planned]]:
    """The planned entries in the order an import validates them (stages first, then each file's records, then
    the rows derived from them), as runs of one file read together, a chunk at a time. An entry loading stages
    runs alone: every stage it declares is known before any opportunity is checked."""
    groups: list[list[Planned]] = []
    for item in sorted(planned, key=lambda p: (p.entry.table != "stages", not p.primary)):
        last = groups[-1] if groups else []
        if last and last[0].path == item.path and "stages" not in {item.entry.table, *(p.entry.table for p in last)}:
            last.append(item)
        else:
            groups.append([item])
    return groups


def plan(path: Path, mapping: Mapping) -> tuple[Path, list[Planned], list[tuple[str, str]]]:
    """Which files each entry imports, the folder lookups read from, and the files left out."""
    if not path.exists():
        raise InputError("no such file or folder", location=Location(str(path)))
    if path.is_file():
        return path.parent, _plan_one(path, mapping), []
    present = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    planned: list[Planned] = []
    issues: list[CadenceError] = []
    for entry in mapping.files:
        matches = sorted(p for p in path.glob(entry.file) if p.is_file())
        if not matches:
            names = [str(p.relative_to(path)) for p in present]
            issues.append(UnknownNameError("data file", entry.file, names,
                                           location=Location(str(mapping.path), entry.line)))
        seen = {p.path for p in planned}
        planned += [Planned(m, entry, m not in seen) for m in matches]
    raise_issues(mapping.path, issues)
    used = {p.path for p in planned}
    looked_up = {(path / lookup.file) for entry in mapping.files for lookup in entry.lookups.values()}
    skipped = [(str(p), "only read for lookups" if p in looked_up else f"no entry of {mapping.path.name} names it")
               for p in present if p not in used and p.resolve() != mapping.path.resolve()]
    return path, planned, skipped


def _plan_one(path: Path, mapping: Mapping) -> list[Planned]:
    entries = [e for e in mapping.files if fnmatch.fnmatch(path.name, Path(e.file).name)]
    if not entries and len(mapping.files) == 1:
        entries = mapping.files
    if not entries:
        raise InputError(f"no entry of {mapping.path} names this file", location=Location(str(path)),
                         hint=f"the entries name: {', '.join(e.file for e in mapping.files)}")
    return [Planned(path, entry, i == 0) for i, entry in enumerate(entries)]


def check_headers(mapping: Mapping, planned: list[Planned], folder: Path, files: _Files) -> None:
    """Every source column the mapping names exists in its file; all the missing ones are reported."""
    issues: list[CadenceError] = []
    for item in planned:
        issues += _missing(mapping, item.path, files.read(item.path), item.entry.headers())
        for lookup in item.entry.lookups.values():
            other = folder / lookup.file
            if not other.is_file():
                issues.append(InputError(f"lookup file {lookup.file!r} (mapping {mapping.path}, line {lookup.line}) "
                                         "not found", location=Location(str(folder))))
                continue
            wanted = {lookup.on: lookup.line, **({lookup.column: lookup.line} if lookup.column else {})}
            issues += _missing(mapping, other, files.read(other), wanted)
    raise_issues(mapping.path, issues)


def _missing(mapping: Mapping, data: Path, frame: pd.DataFrame, wanted: dict[str, int]) -> list[CadenceError]:
    header = [c for c in frame.columns if c != LINE]
    return [InputError(f"no column {name!r}, which {mapping.path} names on line {line}",
                       location=Location(str(data), 1),
                       hint=f"the header has: {', '.join(header)[:300]}")
            for name, line in wanted.items() if name not in frame.columns]


def map_rows(source: pd.DataFrame, entry: FileMapping, folder: Path, files: _Files, currency: str) -> pd.DataFrame:
    """One canonical row per source row, still as text, with the source's `_line`."""
    table = _IMPORTABLE[entry.table]
    out = pd.DataFrame(index=source.index)
    for column, header in entry.columns.items():  # Arrow-backed text (a chunk read by Arrow) stays so
        values = source[header]
        out[column] = values if isinstance(values.dtype, pd.StringDtype) else values.astype("object")
    for column, lookup in entry.lookups.items():
        out[column] = _look_up(source, lookup, files.read(folder / lookup.file))
    for column, translation in entry.values.items():
        out[column] = _translate(out[column], translation)
    for column, value in entry.constants.items():
        out[column] = pd.Series(value, index=source.index, dtype="object")
    out[LINE] = source[LINE]
    for column in [c for c in out.columns if c in table.column_names]:
        kind = table.column(column).type
        if kind in _ISO and (column in entry.dates or entry.dayfirst):
            _parse_dates(out, column, kind, entry.dates.get(column), entry.dayfirst)
    _default_currency(out, table, currency)
    return out


def _text(values: pd.Series) -> pd.Series:
    return values.astype("object").fillna("").map(lambda v: str(v).strip())


def _translate(values: pd.Series, translation: dict[str, str]) -> pd.Series:
    return _text(values).map(lambda v: translation.get(v, v)).astype("object")


def _look_up(source: pd.DataFrame, lookup: Lookup, other: pd.DataFrame) -> pd.Series:
    keys = _text(other[lookup.on])
    mine = _text(source[lookup.key])
    if lookup.column is None:
        found = mine.isin(set(keys[keys != ""]))
        return found.map({True: lookup.found, False: lookup.missing}).astype("object")
    first = pd.DataFrame({"key": keys, "value": other[lookup.column].astype("object")})
    first = first[first["key"] != ""].drop_duplicates("key", keep="first")
    table = dict(zip(first["key"], first["value"], strict=True))
    return mine.map(lambda k: table.get(k, lookup.missing) if k else lookup.missing).astype("object")


def _parse_dates(out: pd.DataFrame, column: str, kind: ColumnType, form: str | None, dayfirst: bool) -> None:
    text = _text(out[column])
    given = text != ""
    if form is not None:
        parsed = pd.to_datetime(text.where(given), format=form, errors="coerce", utc=True)
        reason = f"not a date in the format {form!r} the mapping gives"
    else:
        parsed = pd.to_datetime(text.where(given), format="mixed", dayfirst=dayfirst, errors="coerce", utc=True)
        reason = "not a date (read day first, as the mapping says)"
    bad = given & parsed.isna()
    problem(out, bad, column, reason)
    iso = parsed.dt.tz_convert("UTC").dt.strftime(_ISO[kind])
    out[column] = iso.where(given & ~bad, text).astype("object")


def _default_currency(out: pd.DataFrame, table: Table, currency: str) -> None:
    if "currency" not in table.column_names or "currency" in out:
        return
    money = [c for c in out.columns if c in table.column_names and table.column(c).type is ColumnType.MONEY]
    if money:
        has_amount = pd.concat([_text(out[c]) != "" for c in money], axis=1).any(axis=1)
        out["currency"] = has_amount.map({True: currency, False: ""}).astype("object")
