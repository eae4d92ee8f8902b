"""A broken line goes to quarantine with its line number and text; the rest of the file loads.

The exports are written line by line here, so every line number asserted is counted by hand from
how the file was written, and the records that must load are read back with the csv module from
the file's good lines alone.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.errors import InputError
from cadence.ingest.batch import SourceFile
from cadence.ingest.readers import read_table
from cadence.workspace import Workspace
from tests.ingest_helpers import quarantine, table

HEADER = ["Id", "AccountId", "Name", "Description", "StageName", "Amount", "CurrencyIsoCode", "CloseDate",
          "IsClosed", "IsWon", "OwnerId", "CreatedDate"]
STAGES = [("Prospección", "0", "0"), ("Diseño Propuesta", "0", "0"), ("Negociación", "0", "0"),
          ("Cerrada Ganada", "1", "1"), ("Cerrada Perdida", "1", "0")]


def quoted(fields: list[str]) -> str:
    """One record as Data Loader writes it: every field quoted, quotes inside doubled."""
    return ",".join('"' + f.replace('"', '""') + '"' for f in fields)


def deal(i: int, description: str = "") -> list[str]:
    stage, closed, won = STAGES[i % len(STAGES)]
    return [f"0065e00000Qx{i:03d}AAA", f"0015e00000Ab{i % 7:03d}AAA", f"Oportunidad {i} São Paulo", description,
            stage, f"{1500 * i}.00", ["MXN", "COP", "PEN", "USD"][i % 4], f"2023-0{1 + i % 9}-15", closed, won,
            "0055e000001AbcdAAA", f"2022-12-{1 + i % 28:02d}T14:00:00.000Z"]


def opportunity_lines() -> list[str]:
    """40 records on 42 physical lines after the header; which line holds what is listed in EXPECTED."""
    lines = [quoted(HEADER)]
    for i in range(1, 41):
        if i == 5:  # a Description over three lines: a normal Salesforce record, physical lines 6-8
            lines.append(quoted(deal(i, "Primera visita.\nCliente pide \"descuento\".\nSeguimiento en marzo")))
        elif i == 12:  # a value lost its quotes in a text editor: 13 fields (line 15)
            fields = [quoted([f]) for f in deal(i)]
            fields[2] = "Acme, Inc"
            lines.append(",".join(fields))
        elif i == 20:  # the last field cut off: 11 fields (line 23)
            lines.append(quoted(deal(i)[:-1]))
        elif i == 30:  # the closing quote of the last field is missing (line 33)
            lines.append(quoted(deal(i))[:-1])
        elif i == 8:  # an amount that is no number: refused by validation, on its own line 11
            lines.append(quoted(deal(i)[:5] + ["12 mil"] + deal(i)[6:]))
        else:
            lines.append(quoted(deal(i)))
    return lines


BROKEN = {15: "line has 13 fields, the header has 12: an unquoted comma in a value",
          23: "line has 11 fields, the header has 12",
          33: "a quote opens on this line and is not closed"}


def write_export(folder: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Opportunity.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def good_records(path: Path, broken: set[int], encoding: str = "utf-8") -> list[dict[str, str]]:
    """The csv module's reading of the file without its broken physical lines."""
    physical = path.read_bytes().decode(encoding).splitlines(keepends=True)
    kept = "".join(line for number, line in enumerate(physical, start=1) if number not in broken)
    return list(csv.DictReader(io.StringIO(kept, newline="")))


def test_broken_lines_are_quarantined_and_the_rest_loads(any_workspace: Workspace, tmp_path: Path) -> None:
    lines = opportunity_lines()
    path = write_export(tmp_path / "org", lines)
    prepared = any_workspace.ingest(path, "salesforce")

    expected = good_records(path, set(BROKEN))
    assert len(expected) == 37
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (40, 36, 4)  # 3 broken + line 11's amount
    assert prepared.tables["opportunities"].quarantined == 4

    refused = quarantine(any_workspace)
    refused = refused[refused["file"] == str(path)].set_index("line")
    assert sorted(refused.index) == [11, 15, 23, 33]
    physical = "\r\n".join(lines).splitlines()
    for line, reason in BROKEN.items():
        row = refused.loc[line]
        assert reason in row["reason"] and (row["column_name"], row["target_table"]) == ("", "opportunities")
        assert json.loads(str(row["row_json"])) == {"raw": physical[line - 1]}
    assert json.loads(str(refused.loc[15, "row_json"]))["raw"].startswith('"0065e00000Qx012AAA",')
    assert refused.loc[11, "column_name"] == "amount" and refused.loc[11, "value"] == "12 mil"

    deals = table(any_workspace, "opportunities").set_index("opportunity_id").sort_index()
    loaded = {r["Id"]: r for r in expected if r["Amount"] != "12 mil"}
    assert list(deals.index) == sorted(loaded)
    assert list(deals["name"]) == [loaded[i]["Name"] for i in deals.index]
    assert list(deals["stage"]) == [loaded[i]["StageName"] for i in deals.index]
    assert [float(a) for a in deals["amount"]] == [float(loaded[i]["Amount"]) for i in deals.index]
    assert "0065e00000Qx031AAA" in deals.index  # the line after the unclosed quote


def test_a_record_spanning_lines_keeps_the_line_it_starts_on(tmp_path: Path) -> None:
    path = write_export(tmp_path, opportunity_lines())
    frame = read_table(path)
    starts = dict(zip(frame["Id"], frame["_line"], strict=True))
    assert starts["0065e00000Qx004AAA"] == 5
    assert starts["0065e00000Qx005AAA"] == 6 and starts["0065e00000Qx006AAA"] == 9  # after lines 6-8
    assert starts["0065e00000Qx040AAA"] == 43
    assert frame.set_index("Id").loc["0065e00000Qx005AAA", "Description"] == \
        "Primera visita.\nCliente pide \"descuento\".\nSeguimiento en marzo"


def test_a_cp1252_file_with_a_broken_line(workspace: Workspace, tmp_path: Path) -> None:
    mapping = tmp_path / "accounts.yml"
    mapping.write_text("files:\n  - file: accounts.csv\n    table: accounts\n    columns:\n"
                       "      account_id: Account ID\n      name: Account Name\n      region: City\n")
    lines = ["Account ID,Account Name,City", "A1,Diseño Propuesta S.A.,São Paulo", "A2,Zürich Bau AG,Zürich",
             "A3,Negociación, Ltda,Bogotá", "A4,Licencias € y Cía,Ciudad de México", ""]
    path = tmp_path / "accounts.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    prepared = workspace.ingest(path, "csv", mapping=mapping)
    assert (prepared.read, prepared.loaded, prepared.quarantined, prepared.encoding) == (4, 3, 1, "cp1252")
    refused = quarantine(workspace).iloc[0]
    assert (refused["line"], refused["target_table"]) == (4, "accounts")
    assert json.loads(refused["row_json"])["raw"] == "A3,Negociación, Ltda,Bogotá"
    assert refused["reason"].startswith("line has 4 fields, the header has 3")
    accounts = table(workspace, "accounts").set_index("account_id")
    assert dict(accounts["name"]) == {"A1": "Diseño Propuesta S.A.", "A2": "Zürich Bau AG",
                                      "A4": "Licencias € y Cía"}


def test_an_unclosed_quote_in_an_unquoted_file_does_not_swallow_the_rest(workspace: Workspace,
                                                                           tmp_path: Path) -> None:
    mapping = tmp_path / "accounts.yml"
    mapping.write_text("files:\n  - file: accounts.csv\n    table: accounts\n    columns:\n"
                       "      account_id: Account ID\n      name: Account Name\n      region: City\n")
    body = [f"A{i},Cuenta {i},Lima" for i in range(1, 21)]
    body[4] = 'A5,"Cuenta 5,Lima'  # line 6: the quote opens and the file has no other quote until line 16
    body[14] = 'A15,"Cuenta 15, sucursal",Lima'
    path = tmp_path / "accounts.csv"
    path.write_text("\n".join(["Account ID,Account Name,City", *body]) + "\n", encoding="utf-8")
    prepared = workspace.ingest(path, "csv", mapping=mapping)
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (20, 19, 1)
    assert list(quarantine(workspace)["line"]) == [6]
    names = table(workspace, "accounts").set_index("account_id")["name"]
    assert names["A6"] == "Cuenta 6" and names["A15"] == "Cuenta 15, sucursal" and "A5" not in names


def test_a_report_footer_is_still_the_importers_to_judge(workspace: Workspace, tmp_path: Path) -> None:
    """Trailing lines holding one value (blank, a confidentiality note) are no broken lines."""
    lines = [quoted(HEADER), *(quoted(deal(i)) for i in range(1, 4)), '""', '""',
             '"Confidential Information - Do Not Distribute"',
             '"Copyright (c) 2000-2023 salesforce.com, inc. All rights reserved."', ""]
    prepared = workspace.ingest(write_export(tmp_path, lines), "salesforce")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (3, 3, 0)


def test_a_short_line_in_the_middle_is_broken_even_with_one_value(workspace: Workspace, tmp_path: Path) -> None:
    lines = [quoted(HEADER), quoted(deal(1)), '"0065e00000Qx002AAA"', quoted(deal(3))]
    prepared = workspace.ingest(write_export(tmp_path, lines), "salesforce")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (3, 2, 1)
    assert quarantine(workspace).iloc[0]["reason"].startswith("line has 1 fields, the header has 12")


@pytest.mark.parametrize("content", [b"", b"\r\n\r\n", b"\nId,Name\n1,x\n"])
def test_an_empty_file_or_one_without_header_stops(workspace: Workspace, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "Opportunity.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        workspace.ingest(path, "salesforce")
    assert str(path) in caught.value.one_line()


def test_a_big_regular_file_reads_as_fast_as_pandas(tmp_path: Path) -> None:
    """650k activity rows must not crawl: the regular file is read by pandas' C parser, checked in one pass."""
    import time

    rows = 200_000
    frame = pd.DataFrame({"Id": [f"00T{i:015d}" for i in range(rows)], "WhoId": "0035e00000AbcdeAAA",
                          "Subject": "Llamada São Paulo", "ActivityDate": "2023-03-31"})
    path = tmp_path / "Task.csv"
    frame.to_csv(path, index=False)
    started = time.perf_counter()
    pd.read_csv(path, dtype=str, keep_default_na=False)
    plain = time.perf_counter() - started
    started = time.perf_counter()
    read = read_table(path)
    ours = time.perf_counter() - started
    assert len(read) == rows and read["_line"].iloc[-1] == rows + 1
    assert ours < 4 * plain + 0.5


def test_extra_fields_on_the_first_record_are_not_taken_for_an_index(workspace: Workspace, tmp_path: Path) -> None:
    """pandas would read the first column as the index and shift every value: a broken line instead."""
    lines = [quoted(HEADER), quoted([*deal(1), "sobra"]), quoted(deal(2)), quoted(deal(3))]
    prepared = workspace.ingest(write_export(tmp_path, lines), "salesforce")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (3, 2, 1)
    assert list(quarantine(workspace)["line"]) == [2]
    assert sorted(table(workspace, "opportunities")["name"]) == [deal(2)[2], deal(3)[2]]


values = st.text(alphabet=st.sampled_from(list('ab ,;"\n\tñ€ü0')), max_size=6)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(values, min_size=3, max_size=3), max_size=15), broken_at=st.integers(0, 15))
def test_records_keep_their_values_and_first_lines(rows: list[list[str]], broken_at: int) -> None:
    """Any well-formed CSV, with or without one broken line: the csv module's values, on the lines they start."""
    header, out, expected, line = "one,two,three\n", [], [], 2
    for i, row in enumerate(rows):
        if i == broken_at:
            out.append("x,y,z,extra\n")
            line += 1
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerow(row)
        out.append(text.getvalue())
        expected.append((line, row))
        line += text.getvalue().count("\n")
    folder = Path(tempfile.mkdtemp())
    (folder / "rows.csv").write_text(header + "".join(out), encoding="utf-8")
    frame = read_table(folder / "rows.csv")
    got = [(int(n), [a, b, c]) for a, b, c, n in frame[["one", "two", "three", "_line"]].itertuples(index=False)]
    assert got == expected
    broken = SourceFile.of("rows.csv", frame).broken
    assert [b.line for b in broken] == ([expected[broken_at][0] - 1] if broken_at < len(rows) else [])
