"""A Salesforce org folder shaped like a real Latin-American company's Data Loader export.

Every trait that made Cadence's figures untrue on a real org is here: `Opportunity.csv` in cp1252
with Spanish accents and stage names, four currencies (COP amounts thousands of times USD ones),
`ForecastCategoryName`, `FiscalYear`/`FiscalQuarter`, `CloseDate` written `2023-03-31 00:00:00`,
`LastStageChangeDate` as a UTC timestamp (deals won on a quarter's last evening in Mexico City carry
the next day's date in UTC), owners as bare ids (no User export), history with backward moves,
Task and Event exports, the org's calendar as FiscalYearSettings + Period, and its exchange rates
as CurrencyType + DatedConversionRate. One Opportunity line is broken (an unquoted comma).

`build_org` writes the folder and returns what the tests compare against, computed from the deals
as written (not by Cadence): the tests recompute figures from these rows with plain pandas.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

CORPORATE = "USD"
# (currency, [(first day, units per USD), …]) — dated rates change at each quarter
DATED_RATES: dict[str, list[tuple[date, float]]] = {
    "MXN": [(date(2023, 1, 1), 19.5), (date(2023, 4, 1), 18.0), (date(2023, 7, 1), 17.0), (date(2023, 10, 1), 17.5)],
    "COP": [(date(2023, 1, 1), 4700.0), (date(2023, 4, 1), 4500.0), (date(2023, 7, 1), 4100.0),
            (date(2023, 10, 1), 4000.0)],
    "PEN": [(date(2023, 1, 1), 3.8), (date(2023, 4, 1), 3.7), (date(2023, 7, 1), 3.65), (date(2023, 10, 1), 3.75)],
}
STATIC_RATES = {"USD": 1.0, "MXN": 17.3, "COP": 3950.0, "PEN": 3.72}
AMOUNT_SCALE = {"USD": 1.0, "MXN": 18.0, "COP": 4200.0, "PEN": 3.7}

# The org's own process, in its order (StageSortOrder), with won/lost flags
STAGES: list[tuple[str, int, int, bool, bool]] = [  # name, sort order, probability, closed, won
    ("Prospección", 1, 10, False, False),
    ("Interés", 2, 25, False, False),
    ("Diseño Propuesta", 3, 50, False, False),
    ("Negociación", 4, 75, False, False),
    ("Ganada", 5, 100, True, True),
    ("Perdida", 6, 0, True, False),
]
OPEN_STAGES = [s[0] for s in STAGES if not s[3]]
FORECAST = {"Prospección": "Pipeline", "Interés": "Pipeline", "Diseño Propuesta": "Best Case",
            "Negociación": "Commit", "Ganada": "Closed", "Perdida": "Omitted"}
OWNERS = ["005Hs00000AbCdE1AA", "005Hs00000AbCdE2AA", "005Hs00000AbCdE3AA"]
NAMES = ["Diseño de planta", "Renovación São Paulo", "Expansión Zürich", "Negociación Bogotá", "Piloto Lima",
         "Licencias Monterrey"]

OPPORTUNITY_HEADER = ["Id", "AccountId", "OwnerId", "Name", "StageName", "StageSortOrder", "Amount",
                      "CurrencyIsoCode", "Probability", "ForecastCategoryName", "FiscalYear", "FiscalQuarter",
                      "CloseDate", "CreatedDate", "LastStageChangeDate", "LastModifiedDate", "IsClosed", "IsWon",
                      "Type", "LeadSource", "IsDeleted"]


@dataclass
class Org:
    """What was written: the good deals as dicts (text as in the file), the broken line, file paths."""

    folder: Path
    deals: list[dict[str, str]] = field(default_factory=list)
    broken_line: int = 0
    history_rows: int = 0
    evening_wins: list[str] = field(default_factory=list)  # won on a quarter's last evening in Mexico City


def _sf_id(prefix: str, n: int) -> str:
    return f"{prefix}Hs0000{n:06d}AAA"[:18]


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def build_org(folder: Path, *, seed: int = 11, deals: int = 120, with_rates: bool = True) -> Org:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    org = Org(folder)
    history: list[list[str]] = []
    for n in range(1, deals + 1):
        org.deals.append(_deal(rng, n, history, org))
    _write(folder / "Opportunity.csv", OPPORTUNITY_HEADER, [[d[c] for c in OPPORTUNITY_HEADER] for d in org.deals],
           encoding="cp1252")
    org.broken_line = _break_one_line(folder / "Opportunity.csv", rng)
    _write(folder / "OpportunityHistory.csv",
           ["Id", "OpportunityId", "CreatedDate", "StageName", "Amount", "CloseDate", "ForecastCategory",
            "Probability", "IsDeleted"], history)
    org.history_rows = len(history)
    _write_activities(folder, org, rng)
    _write_calendar(folder)
    if with_rates:
        _write_rates(folder)
    return org


def _deal(rng: random.Random, n: int, history: list[list[str]], org: Org) -> dict[str, str]:
    currency = rng.choice(["USD", "MXN", "COP", "PEN"])
    created = datetime(2023, 1, 2, 15) + timedelta(days=rng.randrange(0, 300), hours=rng.randrange(0, 8))
    amount = round(rng.uniform(2_000, 40_000) * AMOUNT_SCALE[currency], 2)
    fate = rng.random()
    evening = n % 15 == 0  # won on the last evening of the quarter, Mexico City time
    if evening:
        quarter_end = [date(2023, 3, 31), date(2023, 6, 30), date(2023, 9, 30)][n // 15 % 3]
        created = datetime.combine(quarter_end, datetime.min.time()) - timedelta(days=40)
        close = quarter_end
        next_day = datetime.combine(quarter_end + timedelta(days=1), datetime.min.time())
        closed_utc = next_day + timedelta(hours=2, minutes=30)
        stage = "Ganada"
    elif fate < 0.45:
        close = (created + timedelta(days=rng.randrange(10, 80))).date()
        closed_utc = datetime.combine(close, datetime.min.time()) + timedelta(hours=rng.randrange(14, 23))
        stage = "Ganada" if fate < 0.2 else "Perdida"
    else:
        close = date(2024, 1, 15) + timedelta(days=rng.randrange(0, 150))
        closed_utc = None
        stage = rng.choice(OPEN_STAGES)
    if close > date(2023, 12, 29) and closed_utc is not None:
        close, closed_utc = date(2023, 12, 28), datetime(2023, 12, 28, 18)
    name, order, probability, closed, won = next(s for s in STAGES if s[0] == stage)
    opp_id = _sf_id("006", n)
    moves = _history_moves(rng, stage, created, closed_utc)
    for i, (moment, step) in enumerate(moves):
        history.append([_sf_id("008", len(history) + 1), opp_id, _utc(moment), step, f"{amount:.2f}",
                        close.isoformat(), FORECAST[step], str(next(s[2] for s in STAGES if s[0] == step)),
                        "false"])
        del i
    last_change = moves[-1][0]
    if evening:
        org.evening_wins.append(opp_id)
    return {
        "Id": opp_id, "AccountId": _sf_id("001", n % 37 + 1), "OwnerId": OWNERS[n % 3],
        "Name": f"{NAMES[n % len(NAMES)]} {n}", "StageName": stage, "StageSortOrder": str(order),
        "Amount": f"{amount:.2f}", "CurrencyIsoCode": currency, "Probability": str(probability),
        "ForecastCategoryName": FORECAST[stage], "FiscalYear": str(close.year),
        "FiscalQuarter": str((close.month - 1) // 3 + 1), "CloseDate": f"{close.isoformat()} 00:00:00",
        "CreatedDate": _utc(created), "LastStageChangeDate": _utc(last_change),
        "LastModifiedDate": _utc(last_change + timedelta(minutes=5)),
        "IsClosed": "true" if closed else "false", "IsWon": "true" if won else "false",
        "Type": rng.choice(["New Business", "Existing Business"]), "LeadSource": rng.choice(["Web", "Partner", ""]),
        "IsDeleted": "false",
    }


def _history_moves(rng: random.Random, final: str, created: datetime,
                   closed: datetime | None) -> list[tuple[datetime, str]]:
    """Stage changes from creation to the deal's stage now; some deals move backwards on the way."""
    path = ["Prospección"]
    target = OPEN_STAGES.index(final) if final in OPEN_STAGES else rng.randrange(1, len(OPEN_STAGES))
    path += OPEN_STAGES[1:target + 1]
    if len(path) >= 3 and rng.random() < 0.3:  # e.g. Negociación → Interés → Negociación
        path += [OPEN_STAGES[1], path[-1]]
    if final not in OPEN_STAGES:
        path.append(final)
    end = closed or created + timedelta(days=60)
    step = (end - created) / max(len(path) - 1, 1)
    moves = [(created + step * i, stage) for i, stage in enumerate(path)]
    if closed is not None:
        moves[-1] = (closed, path[-1])
    return moves


def _break_one_line(path: Path, rng: random.Random) -> int:
    """Add a record whose Name has an unquoted comma (one field too many); returns its line number."""
    lines = path.read_bytes().split(b"\r\n")
    broken = ["006Hs0000999999AAA", "001Hs0000000001AAA", OWNERS[0], "Acme, S.A.", "Negociación", "4",
              "1000.00", "USD", "75", "Commit", "2024", "1", "2024-02-01 00:00:00", "2023-11-02T15:00:00.000Z",
              "2023-11-02T15:00:00.000Z", "2023-11-02T15:05:00.000Z", "false", "false", "New Business", "Web",
              "false"]
    at = 1 + rng.randrange(5, 20)
    lines.insert(at, ",".join(broken).encode("cp1252"))
    path.write_bytes(b"\r\n".join(lines))
    return at + 1


def _write_activities(folder: Path, org: Org, rng: random.Random) -> None:
    tasks, events = [], []
    for i, deal in enumerate(org.deals[:40]):
        when = deal["CreatedDate"]
        tasks.append([_sf_id("00T", i + 1), deal["OwnerId"], deal["Id"], "Llamada de seguimiento",
                      "Completed", "Normal", when[:10], "Call", "Call", when])
        events.append([_sf_id("00U", i + 1), deal["OwnerId"], deal["Id"], "Reunión de diseño", when,
                       "60", "false", "Meeting", when])
    _write(folder / "Task.csv", ["Id", "OwnerId", "WhatId", "Subject", "Status", "Priority", "ActivityDate",
                                 "Type", "TaskSubtype", "CreatedDate"], tasks)
    _write(folder / "Event.csv", ["Id", "OwnerId", "WhatId", "Subject", "StartDateTime", "DurationInMinutes",
                                  "IsAllDayEvent", "EventSubtype", "CreatedDate"], events)


def _write_calendar(folder: Path) -> None:
    _write(folder / "FiscalYearSettings.csv",
           ["Id", "Name", "StartDate", "EndDate", "PeriodId", "YearType", "IsStandardYear", "QuarterLabelScheme",
            "PeriodLabelScheme", "QuarterPrefix", "PeriodPrefix", "WeekStartDay", "Description"],
           [["022Hs0000000001AAA", str(year), f"{year}-01-01", f"{year}-12-31", f"026Hs00000{year}AAAA"[:18],
             "Standard", "true", "NumberByYear", "NumberByYear", "Q", "P", "1", ""] for year in (2023, 2024)])
    rows = []
    for year in (2023, 2024):
        settings = "022Hs0000000001AAA"
        rows.append([f"026Hs00000{year}AAAA"[:18], settings, "Year", f"{year}-01-01", f"{year}-12-31", "1", "", "",
                     "true"])
        for q in range(4):
            start = date(year, 3 * q + 1, 1)
            end = (date(year + (q == 3), (3 * q + 3) % 12 + 1, 1)) - timedelta(days=1)
            rows.append([f"026Hs0000{year}Q{q + 1}AAA"[:18], settings, "Quarter", start.isoformat(), end.isoformat(),
                         str(q + 1), f"Q{q + 1}", "", "true"])
    _write(folder / "Period.csv", ["Id", "FiscalYearSettingsId", "Type", "StartDate", "EndDate", "Number",
                                   "QuarterLabel", "PeriodLabel", "IsForecastPeriod"], rows)


def _write_rates(folder: Path) -> None:
    _write(folder / "CurrencyType.csv", ["Id", "IsoCode", "ConversionRate", "DecimalPlaces", "IsActive",
                                         "IsCorporate"],
           [[_sf_id("01L", i + 1), code, str(rate), "2", "true", "true" if code == CORPORATE else "false"]
            for i, (code, rate) in enumerate(STATIC_RATES.items())])
    rows = []
    for code, periods in DATED_RATES.items():
        for i, (start, rate) in enumerate(periods):
            nxt = periods[i + 1][0].isoformat() if i + 1 < len(periods) else "9999-12-31"
            first = "0001-01-01" if i == 0 else start.isoformat()
            rows.append([_sf_id("04w", len(rows) + 1), code, str(rate), first, nxt])
    _write(folder / "DatedConversionRate.csv", ["Id", "IsoCode", "ConversionRate", "StartDate", "NextStartDate"],
           rows)


def rate_on(currency: str, day: date) -> float:
    """The rate in force on `day`, worked out by hand: the dated range holding it (the first range
    reaches back to the beginning of time, as Salesforce's does), the corporate currency being 1."""
    if currency == CORPORATE:
        return 1.0
    periods = DATED_RATES[currency]
    chosen = periods[0][1]
    for start, rate in periods:
        if start <= day:
            chosen = rate
    return chosen


def _write(path: Path, header: list[str], rows: list[list[str]], *, encoding: str = "utf-8") -> None:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
