"""Salesforce's exchange rates: the `CurrencyType` and `DatedConversionRate` exports.

Salesforce quotes every rate against the org's corporate currency: `ConversionRate` is how many
units of `IsoCode` buy one unit of the corporate currency (which is 1). Both become rows of
`exchange_rates`, read with the Opportunity export by `cadence ingest DIR --from salesforce`:

- CurrencyType (IsoCode, ConversionRate, IsCorporate, IsActive, …): the static rates, used where
  no dated rate covers a day. Inactive currencies are kept: old deals may still be in them.
- DatedConversionRate (IsoCode, ConversionRate, StartDate, NextStartDate): a rate from StartDate
  up to NextStartDate (exclusive). Salesforce writes the first StartDate as 0001-01-01 ("since the
  beginning"), stored as 1900-01-01, and the last NextStartDate as 9999-12-31 ("still in force"),
  stored empty: both compare correctly on every warehouse.

The corporate currency of the export must be the workspace's (cadence.yml `currency:`): the import
is refused otherwise (see `money.refuse_other_corporate`).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from cadence.ingest.batch import LINE

Aliases = tuple[str, ...]
ISO_CODE: Aliases = ("IsoCode", "ISO Code", "Currency ISO Code")
CONVERSION_RATE: Aliases = ("ConversionRate", "Conversion Rate")
IS_CORPORATE: Aliases = ("IsCorporate", "Corporate")
START_DATE: Aliases = ("StartDate", "Start Date")
NEXT_START_DATE: Aliases = ("NextStartDate", "Next Start Date")
BEGINNING = "1900-01-01"  # what a StartDate before it (Salesforce: 0001-01-01) is stored as
STILL_IN_FORCE_FROM = "9000-01-01"  # a NextStartDate from here on (Salesforce: 9999-12-31) is stored empty
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
_TRUE = {"1", "true", "t", "yes", "y"}


def _present(columns: set[str], names: Aliases) -> bool:
    return bool(columns & set(names))


def is_currency_type(columns: set[str]) -> bool:
    return _present(columns, ISO_CODE) and _present(columns, CONVERSION_RATE) \
        and not _present(columns, START_DATE)


def is_dated_rate(columns: set[str]) -> bool:
    return _present(columns, ISO_CODE) and _present(columns, CONVERSION_RATE) and _present(columns, START_DATE)


def _text(frame: pd.DataFrame, names: Aliases) -> pd.Series:
    column = next((n for n in names if n in frame.columns), None)
    if column is None:
        return pd.Series(None, index=frame.index, dtype="object")
    values = frame[column].astype("object").map(lambda v: v.strip() if isinstance(v, str) else v)
    return values.where(values.notna() & (values != ""), None).astype("object")


def _base(source: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"currency": _text(source, ISO_CODE).str.upper(), "rate": _text(source, CONVERSION_RATE),
                         LINE: source[LINE]}, index=source.index)


def read_currency_types(source: pd.DataFrame, context: Any) -> list[tuple[str, pd.DataFrame]]:
    """CurrencyType: one static rate per currency, and which currency is the corporate one."""
    frame = _base(source)
    frame["valid_from"] = None
    frame["valid_to"] = None
    frame["is_corporate"] = _text(source, IS_CORPORATE).map(
        lambda v: isinstance(v, str) and v.lower() in _TRUE).astype(bool)
    return [("exchange_rates", frame)]


def _day(value: object) -> str | None:
    """An ISO day without its time ('0001-01-01T00:00:00.000Z' → '0001-01-01'); other text as it is."""
    if not isinstance(value, str):
        return None
    return value[:10] if _ISO_DAY.match(value) else value


def read_dated_rates(source: pd.DataFrame, context: Any) -> list[tuple[str, pd.DataFrame]]:
    """DatedConversionRate: a rate per currency and range of days."""
    frame = _base(source)
    start = _text(source, START_DATE).map(_day)
    iso = start.map(lambda d: isinstance(d, str) and bool(_ISO_DAY.match(d)))
    frame["valid_from"] = start.where(~(iso & (start.astype(str) < BEGINNING)), BEGINNING)
    following = _text(source, NEXT_START_DATE).map(_day)
    iso = following.map(lambda d: isinstance(d, str) and bool(_ISO_DAY.match(d)))
    frame["valid_to"] = following.where(~(iso & (following.astype(str) >= STILL_IN_FORCE_FROM)), None)
    frame["is_corporate"] = None
    return [("exchange_rates", frame)]
