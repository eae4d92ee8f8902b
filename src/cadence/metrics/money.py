"""Money in one currency: which exchange rate converts an amount, applied in the warehouse.

Salesforce's convention: a rate is how many units of a currency buy one unit of the corporate
currency (cadence.yml `currency:`), whose rate is 1. Which rate converts an amount:

- an amount with a conversion day (a closed deal: its close date) uses the dated rate in force
  that day: the rate of its currency whose `valid_from` is on or before the day and whose
  `valid_to` (else the currency's next `valid_from`) is after it;
- an amount without one (an open deal) uses the currency's latest dated rate: the rate in force
  now (Salesforce's last dated rate runs to 9999-12-31; cadence.yml's last `from` runs on);
- where no dated rate applies, the currency's static rate (a rate without `valid_from`);
- an amount without a currency is in the corporate currency.

Reported in another currency T (`--currency T`), an amount is amount ÷ rate(currency) × rate(T),
both rates taken the same way on the same day. An amount that needs a rate no one gave is never
added to anything: `require_rates` refuses it, naming the currencies and how many rows need them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.operations as ops
import pandas as pd

from cadence.config import CONFIG_FILE, ExchangeRate
from cadence.errors import CadenceError, ConfigError, InputError, Location

DEFAULT_CURRENCY = "USD"
AMOUNT_VALUE = "amount_value"  # the converted amount, as relations and metrics name it
CURRENCY = "currency"
RATE = "rate"  # units of the row's currency per one unit of the reported currency
RATE_ON = "rate_on"  # the day whose rate converts the row (empty: the latest rate)
MISSING = "rate_missing"  # the currency whose rate a row lacks (empty when it was converted)
ADD_RATES_HINT = ("add them under exchange_rates: in cadence.yml, or import Salesforce's "
                  "CurrencyType/DatedConversionRate export (`cadence ingest DIR --from salesforce`)")


class MissingRatesError(CadenceError, ValueError):
    """A money figure needs an exchange rate nobody gave; the message names the currencies and rows."""


class MixedCurrenciesError(CadenceError, ValueError):
    """Amounts as entered, in several currencies, were about to be added up."""


class InCurrency:
    """`tables` with every money figure reported in `currency` instead of the corporate currency."""

    def __init__(self, tables: Any, currency: str):
        self._tables = tables
        self.currency = currency.upper()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tables, name)


def corporate_currency(tables: Any) -> str:
    """The currency rates are quoted against (cadence.yml `currency:`)."""
    return str(getattr(tables, "corporate_currency", None) or DEFAULT_CURRENCY)


def reporting_currency(tables: Any) -> str:
    """The currency money figures over `tables` are shown in: `--currency`, else the corporate one."""
    return str(getattr(tables, "currency", None) or corporate_currency(tables))


def in_currency(tables: Any, currency: str | None) -> Any:
    """`tables` reporting money in `currency` (unchanged when None or already so)."""
    if not currency or currency.upper() == reporting_currency(tables):
        return tables
    if len(currency) != 3 or not currency.isalpha():
        raise InputError(f"not a currency: {currency!r}", hint="give a three-letter ISO code such as EUR or MXN")
    return InCurrency(tables, currency)


# -- which rate -------------------------------------------------------------------------------


def _dated(rates: Any) -> Any:
    """Dated rates with the day each stops applying and whether it is its currency's latest."""
    dated = rates.filter(rates.valid_from.notnull())
    following = dated.valid_from.lead().over(ibis.window(group_by=dated.currency, order_by=dated.valid_from))
    until = ibis.cases((dated.valid_to.isnull(), following), (following.isnull(), dated.valid_to),
                       else_=ibis.least(dated.valid_to, following))
    return dated.select(_d_currency=dated.currency, _d_rate=dated.rate.cast("float64"), _d_from=dated.valid_from,
                        _d_until=until, _d_latest=following.isnull())


def _static(rates: Any) -> Any:
    static = rates.filter(rates.valid_from.isnull())
    return static.select(_s_currency=static.currency, _s_rate=static.rate.cast("float64"))


def with_rate(table: Any, rates: Any, *, currency: str, day: str, into: str, corporate: str) -> Any:
    """`table` plus `into`: units of `currency` per corporate unit on `day` (empty `day`: the latest rate)."""
    dated, static = _dated(rates), _static(rates)
    cur, on = table[currency], table[day]
    applies = (on.notnull() & (dated._d_from <= on) & (dated._d_until.isnull() | (on < dated._d_until))) \
        | (on.isnull() & dated._d_latest)
    joined = table.left_join(dated, [cur == dated._d_currency, applies]).left_join(
        static, cur == static._s_currency)
    rate = ibis.cases((joined[currency] == corporate, ibis.literal(1.0)),
                      else_=ibis.coalesce(joined._d_rate, joined._s_rate))
    return joined.mutate(**{into: rate}).drop("_d_currency", "_d_rate", "_d_from", "_d_until", "_d_latest",
                                              "_s_currency", "_s_rate")


def convert(table: Any, tables: Any, *, amount: str = "amount", currency: str = "currency", day: str = RATE_ON,
            into: str = "amount_value") -> Any:
    """`table` with its amounts in the reporting currency, computed in the warehouse.

    Adds `currency` filled (empty: the corporate currency), `rate` (units of the row's currency per
    one unit of the reported currency; empty when a rate is missing), `rate_missing` (the currency
    whose rate is missing) and `into`, the converted amount (empty when the amount or a rate is).
    `day` names the column holding each row's conversion day.
    """
    corporate, target = corporate_currency(tables), reporting_currency(tables)
    rates = tables.table("exchange_rates")
    code = table[currency].cast("string").strip().upper().nullif("")
    out = with_rate(table.mutate(**{currency: code.fill_null(corporate)}), rates, currency=currency, day=day,
                    into=RATE, corporate=corporate)
    if target != corporate:
        out = with_rate(out.mutate(_target=ibis.literal(target)), rates, currency="_target", day=day,
                        into="_target_rate", corporate=corporate)
        missing = ibis.cases((out._target_rate.isnull(), ibis.literal(target)),
                             (out[RATE].isnull(), out[currency]), else_=ibis.null("string"))
        out = out.mutate(**{RATE: out[RATE] / out._target_rate, MISSING: missing}).drop("_target", "_target_rate")
    else:
        out = out.mutate(**{MISSING: ibis.cases((out[RATE].isnull(), out[currency]), else_=ibis.null("string"))})
    return out.mutate(**{into: out[amount].cast("float64") / out[RATE]})


def rates_on(pairs: Any, tables: Any, *, currency: str = CURRENCY, day: str = RATE_ON) -> Any:
    """Each (currency, day) row of `pairs` with its `rate` to the reporting currency that day, found as
    `convert` finds it (empty when missing), and `rate_missing`: the currency whose rate is missing."""
    out = convert(pairs.mutate(_unit=ibis.literal(1.0)), tables, amount="_unit", currency=currency, day=day,
                  into="_unit_value")
    return out.drop("_unit", "_unit_value")


def corporate_amount_in_reporting(tables: Any, amount: float | None, day: Any) -> float | None:
    """An amount given in the corporate currency (a target in cadence.yml) in the reporting currency, at the
    rate in force on `day`; refused (MissingRatesError) when the reporting currency has no rate that day."""
    corporate, target = corporate_currency(tables), reporting_currency(tables)
    if amount is None or target == corporate:
        return amount
    pair = ibis.memtable(pd.DataFrame({CURRENCY: [corporate], "day": [pd.Timestamp(day).date()]}))
    rate = rates_on(pair, tables, day="day").to_pandas()[RATE].iloc[0]  # corporate units per reported unit
    if pd.isna(rate):
        raise MissingRatesError(f"no exchange rate for {target} on {day}", hint=ADD_RATES_HINT)
    return float(amount) / float(rate)


def missing_rates(table: Any, tables: Any, *, amount: str = "amount", what: str = "deals") -> MissingRatesError | None:
    """The error naming the currencies whose rates rows of `convert`ed `table` lack (None: every amount converts)."""
    missing = table.filter(table[amount].notnull() & table[RATE].isnull())
    counts = missing.group_by(code=missing[MISSING]).agg(rows=missing.count()).to_pandas()
    if counts.empty:
        return None
    counts = counts.sort_values(["rows", "code"], ascending=[False, True])
    one = what.removesuffix("s")
    named = ", ".join(f"{code} ({rows:,} {what if rows != 1 else one})"
                      for code, rows in zip(counts["code"], counts["rows"], strict=True))
    return MissingRatesError(f"no exchange rate for {named} to {reporting_currency(tables)}", hint=ADD_RATES_HINT)


def require_rates(table: Any, tables: Any, *, amount: str = "amount", what: str = "deals") -> None:
    """Refuse (MissingRatesError) when a row of `convert`ed `table` has an amount but no rate."""
    error = missing_rates(table, tables, amount=amount, what=what)
    if error is not None:
        raise error


def refuse_mixed_amounts(table: Any, *, amount: str = "amount") -> None:
    """Refuse adding `amount` as entered when the rows hold it in several currencies (use amount_value)."""
    codes = table.filter(table[amount].notnull()).select(CURRENCY).distinct().order_by(CURRENCY).limit(6)
    found = [str(c) for c in codes.to_pandas()[CURRENCY]]
    if len(found) > 1:
        raise MixedCurrenciesError(f"`{amount}` is as entered, in several currencies ({', '.join(found[:5])}"
                                   f"{', …' if len(found) > 5 else ''}): its sum means nothing",
                                   hint=f"use `{AMOUNT_VALUE}` (converted), or cut by currency")


def convert_history(history: Any, deals: Any) -> Any:
    """`opportunity_history` with `amount` in the reporting currency, at the rate of its deal.

    A history row converts at the rate its deal converts at (`deals` is the `deals` relation), so a
    deal's amount changes are the rep's, never the exchange rate's; a row whose deal is not in the
    opportunities table keeps its amount as entered (the corporate currency).
    """
    rates = deals.select(_h_id=deals.opportunity_id, _h_rate=deals[RATE], _h_converts=ibis.literal(True))
    joined = history.left_join(rates, history.opportunity_id == rates._h_id)
    amount = joined.amount.cast("float64")
    converted = ibis.cases((joined._h_converts.isnull(), amount), else_=amount / joined._h_rate)
    return joined.mutate(amount=converted).drop("_h_id", "_h_rate", "_h_converts")


def uses_column(expression: Any, table: Any, names: set[str]) -> bool:
    """Whether an Ibis expression over `table` reads any column of it named in `names`."""
    relation = table.op()
    return any(field.name in names and field.rel == relation for field in expression.op().find(ops.Field))


# -- rates from cadence.yml ----------------------------------------------------------------------

RATE_COLUMNS = ["currency", "rate", "valid_from", "valid_to", "is_corporate", "source"]


def config_rates_frame(rates: Sequence[ExchangeRate], corporate: str) -> pd.DataFrame:
    """cadence.yml's `exchange_rates:` as rows of `exchange_rates`: a dated rate runs to its currency's next `from`."""
    frame = pd.DataFrame([{"currency": r.currency, "rate": float(r.rate), "valid_from": r.valid_from}
                          for r in rates], columns=["currency", "rate", "valid_from"])
    twice = frame[frame.duplicated(["currency", "valid_from"], keep=False)]
    if len(twice):
        code, day = twice.iloc[0]["currency"], twice.iloc[0]["valid_from"]
        when = f"from {day}" if day is not None else "without `from` (the static rate)"
        raise ConfigError(f"exchange_rates: {code} {when} is given twice", location=Location(CONFIG_FILE),
                          hint="keep one rate per currency and day")
    frame["valid_from"] = pd.to_datetime(frame["valid_from"]).astype("datetime64[us]")
    frame = frame.sort_values(["currency", "valid_from"], na_position="first").reset_index(drop=True)
    dated = frame["valid_from"].notna()
    following = frame[dated].groupby("currency")["valid_from"].shift(-1)
    frame["valid_to"] = following.reindex(frame.index).astype("datetime64[us]")
    frame["is_corporate"] = frame["currency"] == corporate
    frame["source"] = CONFIG_FILE
    return frame[RATE_COLUMNS]


def refuse_other_corporate(upserts: Sequence[tuple[str, pd.DataFrame, Any]], corporate: str) -> None:
    """Refuse rates quoted against another corporate currency than the workspace's (cadence.yml `currency:`)."""
    for table, frame, _ in upserts:
        if table != "exchange_rates" or "is_corporate" not in frame:
            continue
        flagged = frame[frame["is_corporate"].fillna(False).astype(bool)]
        other = sorted(set(flagged["currency"]) - {corporate})
        if other:
            raise ConfigError(f"the rates imported are quoted against {other[0]} (their corporate currency), "
                              f"but cadence.yml says `currency: {corporate}`; nothing was imported",
                              location=Location(CONFIG_FILE),
                              hint=f"set `currency: {other[0]}` in cadence.yml and import again")
