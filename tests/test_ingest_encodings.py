"""Every encoding a CRM or a spreadsheet writes, detected without being told and read without mojibake.

Each export is written here in one encoding from Python strings; the warehouse must then hold those
very strings. Salesforce's Data Loader quotes every field; Excel's "Unicode text" is UTF-16 with a
byte-order mark, tab-separated, with CRLF line ends.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cadence.errors import InputError
from cadence.workspace import Workspace
from tests.ingest_helpers import table

ACCENTED = ["Diseño Propuesta", "Negociación", "São Paulo", "Zürich"]
EURO = "Licencias 2.500 €"  # cp1252 has the euro sign (0x80); latin-1 has not

SF_HEADER = ["Id", "AccountId", "Name", "Description", "StageName", "StageSortOrder", "Amount", "CurrencyIsoCode",
             "CloseDate", "IsClosed", "IsWon", "ForecastCategoryName", "OwnerId", "CreatedDate"]
STAGES = {"Diseño Propuesta": ("2", "0", "0", "Pipeline"), "Negociación": ("3", "0", "0", "Best Case"),
          "Cerrada Ganada": ("4", "1", "1", "Closed")}


def _encoder(codec: str, bom: bytes = b"") -> Callable[[str], bytes]:
    return lambda text: bom + text.encode(codec)


# name, how the bytes are written, the file's delimiter and suffix, what Cadence must report, the euro sign
ENCODINGS = {
    "utf-8": (_encoder("utf-8"), ",", ".csv", "utf-8", True),
    "utf-8 with BOM": (_encoder("utf-8", codecs.BOM_UTF8), ",", ".csv", "utf-8-sig", True),
    "Excel Unicode text": (_encoder("utf-16-le", codecs.BOM_UTF16_LE), "\t", ".txt", "utf-16", True),
    "utf-16 BE with BOM": (_encoder("utf-16-be", codecs.BOM_UTF16_BE), ",", ".csv", "utf-16", True),
    "utf-16 LE without BOM": (_encoder("utf-16-le"), ",", ".csv", "utf-16", True),
    "cp1252": (_encoder("cp1252"), ",", ".csv", "cp1252", True),
    # latin-1's letters are cp1252's letters, byte for byte: read right, and named cp1252
    "latin-1": (_encoder("latin-1"), ",", ".csv", "cp1252", False),
}


def texts(euro: bool) -> list[str]:
    return ACCENTED + ([EURO] if euro else [])


def csv_text(header: list[str], rows: list[list[str]], delimiter: str = ",", quote_all: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n",
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def opportunity_rows(names: list[str]) -> list[list[str]]:
    """One deal per name, in the org's Spanish stages, MXN/COP/PEN/USD; the stage names carry accents too."""
    stages, currencies = list(STAGES), ["MXN", "COP", "PEN", "USD"]
    rows = []
    for i, name in enumerate(names):
        stage = stages[i % len(stages)]
        order, closed, won, forecast = STAGES[stage]
        rows.append([f"0065e00000Qx{i:03d}AAA", f"0015e00000Ab{i:03d}AAA", name, f"Visita a {name}", stage, order,
                     f"{1000 * (i + 1)}.00", currencies[i % 4], "2023-03-31 00:00:00", closed, won, forecast,
                     "0055e000001AbcdAAA", f"2023-01-1{i % 10} 15:04:05"])
    return rows


def write_opportunities(folder: Path, encoding: str) -> tuple[Path, list[list[str]]]:
    encode, delimiter, suffix, _, euro = ENCODINGS[encoding]
    rows = opportunity_rows(texts(euro))
    path = folder / f"Opportunity{suffix}"
    path.write_bytes(encode(csv_text(SF_HEADER, rows, delimiter, quote_all=True)))
    return path, rows


ACCOUNTS_MAPPING = """\
files:
  - file: "accounts.*"
    table: accounts
    columns:
      account_id: Account ID
      name: Account Name
      region: City
"""


def write_accounts(folder: Path, encoding: str) -> tuple[Path, Path, list[list[str]]]:
    encode, delimiter, suffix, _, euro = ENCODINGS[encoding]
    rows = [[f"A{i}", f"{text} S.A.", text] for i, text in enumerate(texts(euro))]
    path = folder / f"accounts{suffix}"
    path.write_bytes(encode(csv_text(["Account ID", "Account Name", "City"], rows, delimiter)))
    mapping = folder / "accounts.mapping.yml"
    mapping.write_text(ACCOUNTS_MAPPING, encoding="utf-8")
    return path, mapping, rows


# -- every encoding, both formats ---------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_salesforce_export_in_any_encoding_keeps_its_text(workspace: Workspace, tmp_path: Path,
                                                            encoding: str) -> None:
    path, rows = write_opportunities(tmp_path, encoding)
    prepared = workspace.ingest(path, "salesforce")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (len(rows), len(rows), 0)
    assert prepared.encoding == ENCODINGS[encoding][3]
    assert [f.encoding for f in prepared.files] == [ENCODINGS[encoding][3]]
    deals = table(workspace, "opportunities").set_index("opportunity_id")
    assert {i: deals.loc[i, "name"] for i, *_ in rows} == {row[0]: row[2] for row in rows}
    assert {i: deals.loc[i, "stage"] for i, *_ in rows} == {row[0]: row[4] for row in rows}
    assert set(table(workspace, "stages")["stage"]) >= {"Diseño Propuesta", "Negociación"}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_mapped_csv_in_any_encoding_keeps_its_text(workspace: Workspace, tmp_path: Path, encoding: str) -> None:
    path, mapping, rows = write_accounts(tmp_path, encoding)
    prepared = workspace.ingest(path, "csv", mapping=mapping)
    assert (prepared.loaded, prepared.quarantined, prepared.encoding) == (len(rows), 0, ENCODINGS[encoding][3])
    accounts = table(workspace, "accounts").set_index("account_id")
    assert {i: (accounts.loc[i, "name"], accounts.loc[i, "region"]) for i, *_ in rows} == \
        {i: (name, city) for i, name, city in rows}


def test_cp1252_text_survives_on_every_warehouse(any_workspace: Workspace, tmp_path: Path) -> None:
    path, rows = write_opportunities(tmp_path, "cp1252")
    assert any_workspace.ingest(path, "salesforce").encoding == "cp1252"
    deals = table(any_workspace, "opportunities").set_index("opportunity_id")
    assert sorted(deals["name"]) == sorted(row[2] for row in rows)
    assert EURO in set(deals["name"]) and "Negociación" in set(deals["stage"])


# -- saying which encoding was used -------------------------------------------------------------------------------

def _ingest_json(ws: Workspace, *args: str) -> dict[str, object]:
    from cadence.cli.main import app, register_commands

    register_commands()
    result = CliRunner().invoke(app, ["-w", str(ws.root), "ingest", *args, "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_the_json_summary_names_the_encoding_of_the_org_folder(workspace: Workspace, tmp_path: Path) -> None:
    write_opportunities(tmp_path, "cp1252")
    summary = _ingest_json(workspace, str(tmp_path), "--from", "salesforce")
    assert summary["encoding"] == "cp1252"
    assert summary["files"] == [{"path": str(tmp_path / "Opportunity.csv"), "read": 5, "loaded": 5,
                                 "quarantined": 0, "encoding": "cp1252"}]


def test_files_in_different_encodings_are_each_named(workspace: Workspace, tmp_path: Path) -> None:
    write_opportunities(tmp_path, "cp1252")
    accounts = [["0015e00000Ab000AAA", "Diseño Propuesta S.A.", "São Paulo"],
                ["0015e00000Ab001AAA", "Zürich Bau AG", "Zürich"]]
    (tmp_path / "Account.csv").write_bytes(codecs.BOM_UTF8 + csv_text(["Id", "Name", "BillingCity"], accounts,
                                                                       quote_all=True).encode("utf-8"))
    summary = _ingest_json(workspace, str(tmp_path), "--from", "salesforce")
    by_file = {Path(str(f["path"])).name: f["encoding"] for f in summary["files"]}  # type: ignore[attr-defined]
    assert by_file == {"Account.csv": "utf-8-sig", "Opportunity.csv": "cp1252"}
    assert summary["encoding"] == "utf-8-sig, cp1252"  # accounts are read first
    names = set(table(workspace, "accounts")["name"])
    assert names == {"Diseño Propuesta S.A.", "Zürich Bau AG"}


def test_excel_and_parquet_files_are_binary(workspace: Workspace, tmp_path: Path) -> None:
    import pandas as pd

    _, mapping, rows = write_accounts(tmp_path, "utf-8")
    excel = tmp_path / "accounts.xlsx"
    pd.DataFrame(rows, columns=["Account ID", "Account Name", "City"]).to_excel(excel, index=False)
    (tmp_path / "accounts.csv").unlink()
    prepared = workspace.ingest(excel, "csv", mapping=mapping)
    assert (prepared.loaded, prepared.encoding, prepared.files[0].encoding) == (len(rows), "binary", "binary")


# -- --encoding overrides detection --------------------------------------------------------------------------------

def test_encoding_given_overrides_detection(workspace: Workspace, tmp_path: Path) -> None:
    """Excel for Mac's old "CSV (Macintosh)" is Mac Roman: detection would read it as cp1252, --encoding reads it."""
    path = tmp_path / "accounts.csv"
    rows = [["A1", "Diseño Propuesta S.A.", "São Paulo"], ["A2", "Negociación Ltda", "Zürich"]]
    path.write_bytes(csv_text(["Account ID", "Account Name", "City"], rows).encode("mac_roman"))
    mapping = tmp_path / "accounts.mapping.yml"
    mapping.write_text(ACCOUNTS_MAPPING, encoding="utf-8")

    guessed = workspace.ingest(path, "csv", mapping=mapping)
    assert guessed.encoding == "cp1252"
    assert table(workspace, "accounts").set_index("account_id").loc["A1", "name"] != "Diseño Propuesta S.A."

    given = workspace.ingest(path, "csv", mapping=mapping, encoding="mac_roman")
    assert given.encoding == "mac-roman"
    accounts = table(workspace, "accounts").set_index("account_id")
    assert [tuple(accounts.loc[i, ["name", "region"]]) for i, *_ in rows] == [(n, c) for _, n, c in rows]


def test_encoding_given_through_the_command_line(workspace: Workspace, tmp_path: Path) -> None:
    path, rows = write_opportunities(tmp_path, "latin-1")
    summary = _ingest_json(workspace, str(path), "--from", "salesforce", "--encoding", "latin-1")
    assert (summary["encoding"], summary["loaded"]) == ("latin-1", len(rows))
    assert sorted(table(workspace, "opportunities")["name"]) == sorted(ACCENTED)


def test_a_wrong_encoding_given_stops_naming_the_file_and_the_line(workspace: Workspace, tmp_path: Path) -> None:
    path, _ = write_opportunities(tmp_path, "cp1252")
    with pytest.raises(InputError) as caught:
        workspace.ingest(path, "salesforce", encoding="utf-8")
    assert str(path) in str(caught.value) and "line 2" in str(caught.value) and "\n" not in str(caught.value)


# -- files that are no text --------------------------------------------------------------------------------------

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002"
                    "0001e221bc330000000049454e44ae426082")


@pytest.mark.parametrize(("content", "said"), [
    (PNG, "this is a PNG image"),
    (b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), "an Excel workbook?"),
    (bytes(range(32)) * 40, "not a text file"),
])
def test_a_file_that_is_no_text_stops_with_one_line_naming_it(workspace: Workspace, tmp_path: Path,
                                                              content: bytes, said: str) -> None:
    path = tmp_path / "Opportunity.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        workspace.ingest(path, "salesforce")
    message = caught.value.one_line()
    assert str(path) in message and said in message and "\n" not in message
    assert workspace.warehouse.count("opportunities") == 0
