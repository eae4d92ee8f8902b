"""The Maven Analytics CRM sample: a hardware seller's accounts, products, sales teams and pipeline.

`cadence ingest maven-crm/ --from maven` reads the folder's four data files:

- accounts.csv → accounts. account_id is a slug of the name ("Gekko & Co" → `gekko-co`); sector →
  industry, the typo "technolgy" read as "technology"; revenue is in millions of USD →
  annual_revenue in dollars; office_location → region; subsidiary_of → parent_account_id (a slug).
  year_established is when the company was founded, not when the account was created: not kept.
- products.csv → products. product_id is a slug of the name; sales_price → list_price.
- sales_teams.csv → people: one rep per row (team and region = the regional office, manager_id =
  slug of the manager), plus each manager once as a derived row (role manager).
- sales_pipeline.csv → opportunities, opportunity_history and stages, as below.

data_dictionary.csv documents the other files' columns; it is listed in the batch's `skipped`, with
that reason, and so is any other file of the folder.

Opportunities belong to the pipeline `maven`, whose stages (Prospecting, Engaging, Won, Lost) the
import declares. created_at is engage_date; close_date and closed_at are close_date once Won or
Lost; amount is close_value (empty for open deals, 0 for the lost ones as the file says); the
pipeline spells one product "GTXPro" where products.csv says "GTX Pro", and the latter is kept.
1,425 open deals name no account: they are real deals and load with account_id empty.

**Prospecting deals carry no date at all**, and none is made up for them: their created_at is left
empty. They count wherever no date is needed (open pipeline by stage, deals per owner); figures dated
by creation leave them out and say how many (`cadence metric opportunities_created`), and an "as of"
replay of the pipeline (the forecast's backtest) cannot place them in time and says so. They have no
history row either: a stage change needs a moment.

Each dated deal's history (replaced whole on re-import) is one row when it was engaged (stage
Engaging) and, once closed, one row on its close date (Won or Lost, with the closed value). A deal
engaged and closed on the same day has only its closing row.

Not derived on purpose: discount_pct (close_value is above list price on about half of the won deals,
so the difference is not a discount) and kind (the sample does not say new or expansion).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from cadence.errors import InputError, Location
from cadence.ingest.batch import LINE, CanonicalFrame, ImportBatch, ImportOptions, SourceFile, problem
from cadence.ingest.readers import read_table

PIPELINE = "maven"
# stage, CRM default probability (the sample gives none for open stages), won, lost
STAGES: tuple[tuple[str, float | None, bool, bool], ...] = (
    ("Prospecting", None, False, False),
    ("Engaging", None, False, False),
    ("Won", 1.0, True, False),
    ("Lost", 0.0, False, True),
)
CLOSED_STAGES = {"Won", "Lost"}
PRODUCT_SPELLINGS = {"GTXPro": "GTX Pro"}  # the pipeline's spelling → the products file's
SECTOR_SPELLINGS = {"technolgy": "technology"}
DOCUMENTATION = {"data_dictionary.csv": "the sample's data dictionary (documentation of the other files), not data"}

Reader = Callable[[pd.DataFrame, str, ImportBatch], None]


def slug(name: str) -> str:
    """A stable id from a name: accents dropped, lower case, each run of other characters → '-'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    out, dash = [], False
    for char in ascii_name.lower():
        if char.isalnum():
            out.append(char)
            dash = False
        elif not dash:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


def _slugs(values: pd.Series) -> pd.Series:
    return _text(values).map(slug)


def _text(values: pd.Series) -> pd.Series:
    return values.astype("object").fillna("").map(lambda v: str(v).strip())


def _millions(text: str) -> str:
    """'1100.04' (millions) → '1100040000.00'; anything unreadable is left for validation to refuse."""
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    return str((value * 1_000_000).quantize(Decimal("0.01")))


def _frame(source: pd.DataFrame, columns: dict[str, pd.Series | str]) -> pd.DataFrame:
    """A canonical frame with the source's lines; a str value fills the whole column."""
    frame = pd.DataFrame(index=source.index)
    for name, values in columns.items():
        frame[name] = values if isinstance(values, pd.Series) else pd.Series(values, index=source.index,
                                                                               dtype="object")
    frame[LINE] = source[LINE]
    return frame


def read_accounts(source: pd.DataFrame, file: str, batch: ImportBatch) -> None:
    name = _text(source["account"])
    sector = _text(source["sector"])
    batch.add(CanonicalFrame("accounts", _frame(source, {
        "account_id": name.map(slug),
        "name": name,
        "industry": sector.map(lambda s: SECTOR_SPELLINGS.get(s.lower(), s)),
        "annual_revenue": _text(source["revenue"]).map(_millions),
        "employees": _text(source["employees"]),
        "region": _text(source["office_location"]),
        "parent_account_id": _slugs(source["subsidiary_of"]),
    }), file))


def read_products(source: pd.DataFrame, file: str, batch: ImportBatch) -> None:
    name = _text(source["product"])
    batch.add(CanonicalFrame("products", _frame(source, {
        "product_id": name.map(slug),
        "name": name,
        "series": _text(source["series"]),
        "list_price": _text(source["sales_price"]),
    }), file))


def read_teams(source: pd.DataFrame, file: str, batch: ImportBatch) -> None:
    office, manager = _text(source["regional_office"]), _text(source["manager"])
    batch.add(CanonicalFrame("people", _frame(source, {
        "person_id": _slugs(source["sales_agent"]),
        "name": _text(source["sales_agent"]),
        "team": office,
        "region": office,
        "role": "rep",
        "manager_id": manager.map(slug),
    }), file))
    named = source[manager != ""].assign(_manager=manager, _office=office).drop_duplicates("_manager")
    batch.add(CanonicalFrame("people", _frame(named, {
        "person_id": named["_manager"].map(slug),
        "name": named["_manager"],
        "team": named["_office"],
        "region": named["_office"],
        "role": "manager",
    }), file, primary=False))


def read_pipeline(source: pd.DataFrame, file: str, batch: ImportBatch) -> None:
    stage = _text(source["deal_stage"])
    engaged, closed_on = _text(source["engage_date"]), _text(source["close_date"])
    value = _text(source["close_value"])
    is_closed = stage.isin(CLOSED_STAGES)
    frame = _frame(source, {
        "opportunity_id": _text(source["opportunity_id"]),
        "account_id": _slugs(source["account"]),
        "owner_id": _slugs(source["sales_agent"]),
        "product": _text(source["product"]).map(lambda p: PRODUCT_SPELLINGS.get(p, p)),
        "pipeline": PIPELINE,
        "stage": stage,
        "amount": value,
        "currency": value.map(lambda v: "USD" if v else ""),
        "created_at": engaged,  # empty for Prospecting deals: the file does not say when they were created
        "close_date": closed_on,
        "closed_at": closed_on.where(is_closed, ""),
    })
    problem(frame, is_closed & (closed_on == ""), "closed_at", "a Won or Lost deal needs its close_date")
    batch.add(_stages_frame(file))
    batch.add(CanonicalFrame("opportunities", frame, file))
    batch.add(CanonicalFrame("opportunity_history", _history(frame), file, primary=False,
                             replace_on="opportunity_id"))


def _history(deals: pd.DataFrame) -> pd.DataFrame:
    """One row when a deal entered the pipeline, one when it closed; none for rows already refused, and no
    opening row for a deal with no date (a stage change needs a moment)."""
    accepted = deals[deals["_problem"].isna()] if "_problem" in deals else deals
    opened = accepted["stage"].map(lambda s: "Prospecting" if s == "Prospecting" else "Engaging")
    closing = accepted[accepted["closed_at"] != ""]
    first = pd.DataFrame({"opportunity_id": accepted["opportunity_id"], "changed_at": accepted["created_at"],
                          "stage": opened, "amount": "", "close_date": "", LINE: accepted[LINE]})
    first = first[(accepted["created_at"] != accepted["closed_at"]) & (accepted["created_at"] != "")]
    last = pd.DataFrame({"opportunity_id": closing["opportunity_id"], "changed_at": closing["closed_at"],
                         "stage": closing["stage"], "amount": closing["amount"],
                         "close_date": closing["close_date"], LINE: closing[LINE]})
    return pd.concat([first, last]).sort_values([LINE, "changed_at"], kind="stable").reset_index(drop=True)


def _stages_frame(file: str) -> CanonicalFrame:
    rows = [{"pipeline": PIPELINE, "stage": name, "position": i, "probability": probability,
             "is_won": won, "is_lost": lost, LINE: 1}
            for i, (name, probability, won, lost) in enumerate(STAGES, start=1)]
    return CanonicalFrame("stages", pd.DataFrame(rows), file, primary=False)


# file name → (columns it must have, reader); read in this order
FILES: dict[str, tuple[list[str], Reader]] = {
    "accounts.csv": (["account", "sector", "revenue", "employees", "office_location", "subsidiary_of"],
                     read_accounts),
    "products.csv": (["product", "series", "sales_price"], read_products),
    "sales_teams.csv": (["sales_agent", "manager", "regional_office"], read_teams),
    "sales_pipeline.csv": (["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
                            "close_date", "close_value"], read_pipeline),
}


class MavenImporter:
    """Reads the Maven CRM sample's folder (or one of its files) into canonical frames."""

    description = "The Maven Analytics CRM sample (accounts, products, teams, pipeline)"

    def __init__(self, name: str = "maven"):
        self.name = name

    def read(self, path: Path, options: ImportOptions) -> ImportBatch:
        batch = ImportBatch(self.name)
        for file in self._known_files(path, batch):
            required, reader = FILES[file.name]
            source = read_table(file, encoding=options.encoding, progress=options.progress, required=required)
            batch.files.append(SourceFile.of(str(file), source))
            reader(source, str(file), batch)
        return batch

    def _known_files(self, path: Path, batch: ImportBatch) -> list[Path]:
        if not path.exists():
            raise InputError("no such file or folder", location=Location(str(path)))
        if path.is_file():
            candidates = [path]
        else:
            candidates = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        known = []
        for candidate in candidates:
            if candidate.name in FILES:
                known.append(candidate)
            else:
                batch.skipped.append((str(candidate), DOCUMENTATION.get(
                    candidate.name, f"not a file of the Maven CRM sample (expected {', '.join(FILES)})")))
        if not known:
            raise InputError("no Maven CRM files here", location=Location(str(path)),
                             hint=f"expected {', '.join(FILES)}")
        order = list(FILES)
        return sorted(known, key=lambda p: order.index(p.name))
