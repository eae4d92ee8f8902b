"""The web app under load: twenty signed-in people reading the main pages, on a real port.

The demo company gets twenty users (fifteen executives, five managers of one team), its last complete week
and the week before are kept as snapshots (for the company and the managers' team), and `cadence serve`'s app
runs under uvicorn on 127.0.0.1 (the same helper the browser tests use). The load runs in a separate process,
so its own Python does not compete with the server's: everyone signs in, then each person asks for the next
page of their round — the scorecard, its JSON, bookings by team and quarter, the gap actions, the pipeline
when that page exists, and the style sheet — pausing between clicks (BENCH_WEB_THINK seconds on average,
1.0 by default: a click a second each, far busier than a review meeting; 0 saturates the server). Every answer
must be 200. Each page's p50/p95/p99 is reported, with its p50 when one person is alone on the server
(clicking every 0.1 s: back-to-back requests on one connection would measure TCP's delayed ACK instead); the
reference is the style sheet (`GET /static/cadence.css`) served by the same server under the same load, and
the ratio is a page's p95 over the style sheet's. BENCH_WEB_SECONDS (default 60) sets how long the load lasts;
BENCH_DEMO reuses an already built demo folder (copied, never changed).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # `tests.web.live_server` when run by bench/run.py or as a script

PASSWORD = "bench-web-password"
Request = tuple[str, float, int, str]  # path, seconds, HTTP status (-1: no answer), what went wrong
MANAGER_TEAM = "Mid-Market Sales"
USERS = [(f"exec{i:02d}", "executive") for i in range(1, 16)] + [(f"mgr{i:02d}", "manager") for i in range(1, 6)]
PAGES = ["/scorecard", "/scorecard.json", "/metrics/bookings.json?grain=quarter&by=team", "/actions", "/pipeline"]
STATIC = "/static/cadence.css"


def prepare(workdir: Path) -> Path:
    """The demo company with the benchmark's users and its weeks' snapshots; returns its folder."""
    from cadence.demo import build_demo

    root = workdir / "demo"
    reuse = os.environ.get("BENCH_DEMO")
    if reuse:
        shutil.copytree(Path(reuse).expanduser(), root, ignore=shutil.ignore_patterns("*.wal", "*.waiting"))
    else:
        build_demo(root, seed=7).close()
    return root


def add_people(ws: Any) -> None:
    from cadence.accounts.users import add_user, get_user

    people = ws.table("people").to_pandas()
    manager = str(people[(people.team == MANAGER_TEAM) & (people.role == "manager")].person_id.iloc[0])
    for name, role in USERS:
        if get_user(ws, name) is None:
            extra = {"team": MANAGER_TEAM, "person_id": manager} if role == "manager" else {}
            add_user(ws, name, role, password=PASSWORD, display_name=name.title(), **extra)


def snapshot_weeks(ws: Any) -> dict[str, float]:
    """Keep the last complete week and the one before, for the company and for the managers' team (the time
    each took, in seconds: what the first visit of a week would cost without them)."""
    from datetime import timedelta

    from cadence.access.roles import Principal
    from cadence.access.scope import scope_for, scoped
    from cadence.report.scorecard import week_context
    from cadence.review.snapshots import get_snapshot, parse_week, take_snapshot, week_label

    latest = week_context(ws, None).week_start
    weeks = [week_label(latest - timedelta(days=7)), week_label(latest)]  # the newest is taken last
    manager = Principal("mgr01", "manager", MANAGER_TEAM, None)
    from cadence.accounts.users import get_user

    user = get_user(ws, "mgr01")
    if user is not None:
        manager = Principal(user.user_id, user.role, user.team, user.person_id)
    team = scope_for(ws, manager)
    seconds: dict[str, float] = {}
    for week in weeks:
        for scope, seen_as in (("company", ws), (team.key, scoped(ws, team))):
            if get_snapshot(ws, parse_week(week), scope=scope) is not None:  # a reused demo may have it
                continue
            started = time.perf_counter()
            take_snapshot(seen_as, week, scope=scope, computed_by="bench")
            seconds[f"{scope} {week}"] = time.perf_counter() - started
    return seconds


# -- the load (a separate process) -------------------------------------------------------------------
async def _sign_in(client: Any, url: str, user: str) -> None:
    signed = await client.post("/login", data={"username": user, "password": PASSWORD, "next": "/"},
                               headers={"Origin": url})
    if signed.status_code != 303:
        raise RuntimeError(f"{user} could not sign in: {signed.status_code}")


async def _person(client: Any, pages: list[str], until: float, think: float,
                  seen: list[Request]) -> None:
    import httpx

    order = pages + [STATIC]
    step = random.randrange(len(order))
    await asyncio.sleep(random.uniform(0, think or 0.01))  # people do not all click at once
    idle_since, first = time.perf_counter(), until - time.monotonic()
    while time.monotonic() < until:
        path = order[step % len(order)]
        step += 1
        started = time.perf_counter()
        problem = ""
        try:
            response = await client.get(path)
            status = response.status_code
        except httpx.HTTPError as error:
            status, problem = -1, (f"{type(error).__name__}: {error} ({first - (until - time.monotonic()):.1f} s "
                                   f"into the load, the connection idle {started - idle_since:.1f} s before)")
        idle_since = time.perf_counter()
        seen.append((path, idle_since - started, status, problem))
        if think:
            await asyncio.sleep(random.uniform(0.5 * think, 1.5 * think))


async def _load(url: str, pages: list[str], seconds: float, think: float,
                people: int) -> list[Request]:
    """Everyone signs in first (argon2 is slow on purpose, and not what is measured), then the clock starts."""
    import httpx

    seen: list[Request] = []
    who = USERS[:people]
    clients = [httpx.AsyncClient(base_url=url, timeout=120.0, follow_redirects=False) for _ in who]
    try:
        await asyncio.gather(*(_sign_in(c, url, name) for c, (name, _) in zip(clients, who, strict=True)))
        until = time.monotonic() + seconds
        await asyncio.gather(*(_person(c, pages, until, think, seen) for c in clients))
    finally:
        for c in clients:
            await c.aclose()
    return seen


def load_in_child(url: str, pages: list[str], seconds: float, think: float,
                  people: int = len(USERS)) -> list[Request]:
    """Run the load in another Python process and read back every request it made."""
    command = [sys.executable, str(Path(__file__).resolve()), "--load", url, json.dumps(pages), str(seconds),
               str(think), str(people)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the load process failed: {done.stderr.strip()[-2000:]}")
    return [tuple(row) for row in json.loads(done.stdout)]  # type: ignore[misc]


def summarise(seen: list[Request], seconds: float) -> dict[str, dict[str, Any]]:
    import numpy as np

    summary: dict[str, dict[str, Any]] = {}
    for path in dict.fromkeys(p for p, _, _, _ in seen):
        mine = [(t, s) for p, t, s, _ in seen if p == path]
        ok = np.array([t for t, s in mine if s == 200])
        summary[path] = {
            "requests": len(mine), "errors": sum(1 for _, s in mine if s != 200),
            "statuses": sorted({s for _, s in mine}),
            "problems": sorted({problem for p, _, s, problem in seen if p == path and problem})[:5],
            "per_second": len(mine) / seconds,
            **{f"p{q}": float(np.percentile(ok, q)) if len(ok) else float("nan") for q in (50, 95, 99)},
        }
    return summary


def present_pages(url: str) -> list[str]:
    """The main pages this build of the app has (a page still to come answers 404 and is left out), each
    opened once by an executive and a manager first: a page's own caches are warm before the clock starts."""
    import httpx

    present = []
    for user in (USERS[0][0], USERS[-1][0]):
        with httpx.Client(base_url=url, timeout=300.0) as client:
            client.post("/login", data={"username": user, "password": PASSWORD, "next": "/"}, headers={"Origin": url})
            present.append({page for page in PAGES if client.get(page).status_code != 404})
    return [page for page in PAGES if all(page in found for found in present)]


def run(workdir: Path) -> list[dict[str, Any]]:
    from tests.web.live_server import live_server

    from cadence.workspace import open_workspace

    seconds = float(os.environ.get("BENCH_WEB_SECONDS", "60"))
    think = float(os.environ.get("BENCH_WEB_THINK", "1.0"))
    root = prepare(workdir)
    with open_workspace(root) as ws:
        add_people(ws)
        snapshots = snapshot_weeks(ws)
    with live_server(root) as server:
        pages = present_pages(server.url)
        alone = summarise(load_in_child(server.url, pages, min(10.0, seconds / 3), 0.1, people=1), 1.0)
        seen = load_in_child(server.url, pages, seconds, think)
    summary = summarise(seen, seconds)
    errors = {path: (row["statuses"], row["problems"]) for path, row in summary.items() if row["errors"]}
    if errors:
        raise AssertionError(f"requests failed under load (statuses, problems per page): {errors}; {summary}")
    static = summary[STATIC]
    note = (f"{len(USERS)} signed-in users for {seconds:.0f} s, {think:.2f} s between clicks on average; "
            f"{sum(r['requests'] for r in summary.values())} requests, 0 errors")
    rows = []
    for path in pages:
        row = summary[path]
        rows.append({"name": f"GET {path} (p95)", "seconds": row["p95"],
                     "reference": f"GET {STATIC} (p95, same load)", "reference_seconds": static["p95"],
                     "ratio": row["p95"] / static["p95"], "p50": row["p50"], "p95": row["p95"], "p99": row["p99"],
                     "requests": row["requests"], "errors": row["errors"], "per_second": row["per_second"],
                     "alone_p50": alone[path]["p50"], "note": note})
    rows[0]["reference_p50"], rows[0]["reference_p99"] = static["p50"], static["p99"]
    rows[0]["reference_alone_p50"] = alone[STATIC]["p50"]
    rows[0]["snapshot_seconds"] = snapshots
    return rows


if __name__ == "__main__" and len(sys.argv) == 7 and sys.argv[1] == "--load":
    _url, _pages, _seconds, _think = sys.argv[2], json.loads(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    sys.stdout.write(json.dumps(asyncio.run(_load(_url, _pages, _seconds, _think, int(sys.argv[6])))))
